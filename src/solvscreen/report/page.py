"""The screening report: one self-contained HTML page a chemist opens in a browser.

Everything is inline: RDKit structure drawings as SVG, matplotlib plots as SVG, a small
stylesheet, a few lines of plain JavaScript that sort tables by a click on a column header
(:data:`~solvscreen.core.htmlparts.SORT_SCRIPT`), no network access. The first screen is the
answer: a verdict per formulation (``verdicts``): id and composition, label and confidence,
the one-line verdict (the number that decided it, or what is open and the step that would
decide), the literature class; the full evidence of each sits behind a disclosure. Then
(element ids in brackets): overview (``overview``), 2D structures (``structures``), HOMO/LUMO
ladder (``orbitals``), cation binding (``binding``), class map (``classmap``), ranking
(``ranking``), calibration (``calibration``), the screening grid's verdicts
(``formulations``), the optional stages' sections, failures (``failures``) and
methods/caveats (``methods``). A navigation bar under the title links every section.

The report reads only the stage tables (descriptors, binding, shells, classification,
calibration, ranking); a missing table leaves its section with a note saying so.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from pathlib import Path

from .. import __version__
from ..core.settings import ConfigSection
from ..core.htmlparts import SORT_SCRIPT, disclose as _disclose, esc, missing as _missing, num, section as _section, sortable_table, structure_svg, table
from ..core.result_tables import ResultTables, read_rows
from .plots import CLASS_COLOURS, binding_plot, class_map_plot, ladder_plot
from .ranking import ranking_section as _ranking

SECTIONS = ("verdicts", "overview", "structures", "orbitals", "binding", "classmap", "ranking", "calibration",
            "formulations", "failures", "methods")


@dataclass(frozen=True)
class ReportSettings(ConfigSection):
    """Config section ``report``."""

    SECTION = "report"

    title: str = "solvscreen: electrolyte screening for potassium-metal batteries"
    structure_size_px: int = 170
    show_grid: bool = True  # grid formulations on the class map and in a collapsed table
    max_table_rows: int = 500



# ----------------------------------------------------------------------------- sections
def _drawable(smiles: str):
    """The molecule to draw (RDKit's reading of the SMILES, :func:`solvscreen.inputs.library.parse_smiles`),
    None when it cannot be read (the card then has no drawing)."""
    from ..core.errors import InputError
    from ..inputs.library import parse_smiles

    try:
        return parse_smiles(smiles)
    except InputError:
        return None


def _structures(desc: list[dict], roles: dict, size: int) -> str:
    cards = []
    for r in desc:
        svg = structure_svg(_drawable(r.get("smiles") or ""), size)
        status = "" if r.get("status") == "ok" else ' <span class="bad">failed</span>'
        kind, role = r.get("kind") or "", roles.get(r["name"], "")
        what = kind if not role or role == kind else f"{kind} · role on its own: {role}"
        cards.append(f'<figure class="mol">{svg}<figcaption><b>{esc(r["name"])}</b> '
                     f'<span class="kind">{esc(what)}</span>{status}'
                     f'<br><code>{esc(r.get("smiles"))}</code></figcaption></figure>')
    return f'<div class="mols">{"".join(cards)}</div>' if cards else _missing("descriptors.csv")


def _label(v: str | None) -> str:
    """Class chips; ``LCE|WSE`` gives one chip per possible class."""
    if not v:
        return ""
    return " | ".join(f'<span class="cls {esc(k)}">{esc(k)}</span>' if k in CLASS_COLOURS else
                      f'<span class="cls" style="background:#777">{esc(k)}</span>'
                      for k in str(v).split("|"))


OUTCOME = {"right": '<span class="ok">✓</span>', "two-class": '<span class="two">≈ two-class</span>',
           "wrong": '<span class="bad">✗</span>'}


def _acc_line(title: str, v: dict | None) -> str:
    if not v or not v.get("n"):
        return ""
    return (f"<li><b>{esc(title)}</b>: {v['n_right']}/{v['n']} right, {v['n_two_class']} two-class with the "
            f"literature class among them, {v['n_wrong']} wrong ({v['n_confidently_wrong']} confidently)</li>")


def _calibration(cal: dict | None, cls_rows: list[dict]) -> str:
    if not cal:
        return _missing("calibration.json")
    by_id = {r["id"]: r for r in cls_rows}
    out = []
    for title, summ in (("descriptors only (no MD evidence)", cal.get("summary")),
                        ("with MD evidence (formulations that have it)", cal.get("summary_with_md"))):
        if not summ:
            continue
        lines = [_acc_line(t, summ.get(k)) for k, t in (
            ("calibration", "calibration set (Table 2)"),
            ("leave_one_out", "leave-one-out (diluent threshold refitted without the formulation)"),
            ("generalization", "generalization set (never fitted)"),
            ("other", "other literature formulations"))]
        out.append(f"<h3>{esc(title)}</h3><ul class='acc'>{''.join(lines)}</ul>")
    if not cal.get("summary_with_md"):
        out.append("<p class='note'>No MD evidence in this run: switch the MD stage on "
                   "(<code>--config md='{formulations: [...]}'</code>) to decide the two-class labels.</p>")
    fit = cal.get("fit")
    if fit:
        out.append(f"<p class='note'>Diluent threshold -E_bind {fit['value']:.2f} kcal/mol "
                   f"(binding evidence: {esc(', '.join(cal.get('binding_sources', [])))}), fitted on "
                   f"{fit['n_right']}/{fit['n_roles']} calibration roles right; misfits: "
                   f"{esc('; '.join(fit['misfits']) or 'none')}.</p>")

    wvs = cal.get("weak_vs_strong") or {}
    parts = []
    for d in (wvs.get("descriptors") or {}).values():
        if d.get("weak_range") and d.get("strong_range"):
            w, st = d["weak_range"], d["strong_range"]
            parts.append(f"{esc(d['quantity'])}: weak {w[0]:.1f} to {w[1]:.1f}, strong {st[0]:.1f} to {st[1]:.1f} "
                         f"({'separated' if d['separated'] else 'overlapping'})")
    if parts:
        out.append(f"<p class='note'>Why descriptors do not decide LCE vs WSE: Table 2's weak solvents "
                   f"({esc(', '.join(wvs.get('weak', [])))}) against its strong ones "
                   f"({esc(', '.join(wvs.get('strong', [])))}): {'; '.join(parts)}.</p>")

    def rows_of(cases):
        rows = []
        for c in cases:
            r = by_id.get(c["id"], {})
            rows.append([
                f"<b>{esc(c['id'])}</b>", _label(c.get("reported_class")), _label(c.get("label")),
                OUTCOME.get(c.get("outcome"), ""), _label(c.get("loo_label")) if c.get("loo_label") else "",
                esc(c.get("evidence")), esc(c.get("confidence")), num(r.get("donors_per_salt"), 1),
                esc(r.get("verdict")) + _disclose("full reason", c.get("explanation")),
            ])
        return rows

    heads = ["formulation", "literature", "predicted", "", "LOO", "evidence", "confidence", "donors/salt", "verdict"]
    cases = cal.get("cases_with_md") or []
    md_ids = {c["id"] for c in cases}
    cases = cases + [c for c in cal.get("cases", []) if c["id"] not in md_ids]
    for set_name, title in (("calibration", "calibration set: the review's Table 2"),
                            ("generalization", "generalization: checking only, never fitted"),
                            ("other", "other literature formulations")):
        sel = [c for c in cases if (c.get("set") or "other") == set_name]
        if sel:
            out.append(f"<h3>{esc(title)}</h3>" + table(heads, rows_of(sel), "cal", raw=True))
    th = cal.get("threshold_table")
    if th:
        out.append("<details id='thresholds'><summary>thresholds: value, unit, meaning, source</summary>" + table(
            ["threshold", "value", "unit", "fitted", "meaning", "source"],
            [[t["key"], num(t["value"], 2) if isinstance(t["value"], (int, float)) else esc(t["value"]),
              t["unit"], "yes" if t["fitted"] else "no", t["meaning"], t["source"]] for t in th]) + "</details>")
    return "".join(out)


def composition_text(r: dict) -> str:
    """``1 M KFSI in DME:TTE 1:2 (volume)`` from a classification.csv row."""
    parts = [p.split(":") for p in (r.get("components") or "").split("|") if p]
    names = ":".join(p[0] for p in parts)
    ratio = ":".join(num(p[1], 3).rstrip("0").rstrip(".") for p in parts if len(p) > 1)
    c = num(r.get("concentration_mol_per_L"), 3).rstrip("0").rstrip(".")
    text = f"{c} M {r.get('salt', '')} in {names}"
    if len(parts) > 1:
        text += f" {ratio} ({r.get('ratio_basis') or 'volume'})"
    return text


def _evidence(r: dict, thresholds_link: bool = True) -> str:
    """The full evidence of one classification row: rule, roles, every reason with its values and
    thresholds, what would decide, assumptions (thresholds' units and sources: the calibration section)."""
    items = []
    for key, what in (("rule", "rule that fired"), ("roles", "roles"), ("decide_by", "would decide"),
                      ("failure_reason", "failure"), ("assumptions", "assumptions")):
        if r.get(key):
            items.append(f"<li><b>{what}</b>: {esc(r[key])}</li>")
    nums = [f"{what} {num(r.get(k), nd)}" for k, what, nd in (
        ("donors_per_salt", "solvent donor atoms per salt", 2), ("local_salt_to_solvent", "salt:solvent", 0),
        ("anion_cn_per_cation", "anion CN per K+ (MD)", 2), ("anion_cn_err", "±", 2)) if r.get(k)]
    if nums:
        items.append("<li><b>numbers</b>: " + esc(", ".join(nums).replace(", ±", " ±")) + "</li>")
    reasons = [x for x in (r.get("reasons") or "").split("; ") if x]
    if reasons:
        where = ("<a href='#thresholds'>the threshold table</a>" if thresholds_link
                 else "calibration.json (threshold_table)")
        items.append(f"<li><b>reasons</b> (values against thresholds; units and sources in {where})<ul>"
                     + "".join(f"<li>{esc(x)}</li>" for x in reasons) + "</ul></li>")
    return f"<ul class='ev'>{''.join(items)}</ul>"


def _verdict_cell(r: dict, full: bool, thresholds_link: bool = True) -> tuple[str, str]:
    """The verdict line without its ``label, confidence:`` head (the row's own columns show
    those), and with the row's full evidence behind a disclosure when ``full``."""
    v = r.get("verdict") or (r.get("failure_reason") if r.get("status") != "ok" else "")
    head = f"{r.get('label')}, {r.get('confidence')} confidence: "
    shown = v[len(head):] if r.get("label") and v.startswith(head) else v
    if not full:
        return esc(shown), v
    return f"<details><summary>{esc(shown)}</summary>{_evidence(r, thresholds_link)}</details>", v


def _label_cell(r: dict) -> tuple[str, str]:
    if r.get("status") != "ok":
        return '<span class="bad">not classified</span>', "~failed"
    return _label(r.get("label")), r.get("label") or ""


def _verdicts(cls_rows: list[dict], thresholds_link: bool = True) -> str:
    """The first screen: one row per formulation of the table (the literature's and the user's)."""
    sel = [r for r in cls_rows if r.get("origin") != "grid"]
    if not sel:
        return _missing("classification.csv")
    conf_order = {"high": 0, "low": 1}
    rows = []
    for r in sel:
        lit = r.get("reported_class")
        rows.append([
            (f"<b>{esc(r['id'])}</b><br><span class='comp'>{esc(composition_text(r))}</span>", r["id"]),
            _label_cell(r),
            (esc(r.get("confidence")), conf_order.get(r.get("confidence"), 2)),
            _verdict_cell(r, True, thresholds_link),
            ((_label(lit) + " " + OUTCOME.get(r.get("outcome"), "")) if lit else "", lit or "~"),
        ])
    n_open = sum(1 for r in sel if r.get("status") == "ok" and "|" in (r.get("label") or ""))
    head = (f"<p class='note'>{len(sel)} formulations; {n_open} open (several classes possible: the verdict names "
            "the step that would decide). Click a column header to sort; click a verdict for its full evidence. "
            "The literature class is the review's (✓ right, ≈ among the classes named, ✗ wrong).</p>")
    return head + sortable_table(["formulation", "label", "confidence", "verdict (click for the evidence)",
                                  "literature"], rows, "verdicts")


def _formulations(cls_rows: list[dict], show_grid: bool, max_rows: int) -> str:
    """The screening grid's verdicts (one line each; every reason in classification.csv)."""
    if not cls_rows:
        return _missing("classification.csv")
    grid = [r for r in cls_rows if r.get("origin") == "grid"]
    if not grid or not show_grid:
        return "<p class='note'>No screening grid in this run.</p>" if not grid else ""
    counts: dict[str, int] = {}
    for r in grid:
        counts[r.get("label") or "failed"] = counts.get(r.get("label") or "failed", 0) + 1
    summary = ", ".join(f"{k} {v}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1]))
    more = f" (first {max_rows} shown)" if len(grid) > max_rows else ""
    n_open = sum(1 for r in grid if "|" in (r.get("label") or ""))
    rows = [[esc(composition_text(r)), _label_cell(r), esc(r.get("confidence")), _verdict_cell(r, False)[0]]
            for r in grid[:max_rows]]
    return (f"<p>{len(grid)} generated formulations: {esc(summary)}. {n_open} of them name several classes: "
            "their verdict says what is open and the step that would decide. Every reason, value and threshold "
            "of each row is in <code>classification.csv</code> "
            "and <code>classification.json</code>.</p>"
            f"<details><summary>the {len(grid)} verdicts{more}</summary>"
            + sortable_table(["composition", "label", "confidence", "verdict"], rows, "grid") + "</details>")


def _failures(tables: ResultTables, cls_rows: list[dict], rank_rows: list[dict]) -> str:
    rows = [[f["stage"], f["subject"], f["reason"]] for f in tables.failures()]
    for r in cls_rows:
        if r.get("status") != "ok" and r.get("origin") != "grid":
            rows.append(["classification", r["id"], r.get("failure_reason")])
    n_grid = sum(1 for r in cls_rows if r.get("status") != "ok" and r.get("origin") == "grid")
    if n_grid:
        rows.append(["classification", f"{n_grid} grid formulations", "missing descriptors of a component (see above)"])
    for r in rank_rows:
        if r.get("status") != "ok":
            rows.append(["ranking", r["name"], r.get("failure_reason")])
    if not rows:
        return '<p class="ok">No molecule or stage failed.</p>'
    return table(["stage", "molecule / formulation", "reason"], rows, "fail")


def _overview(tables: ResultTables, cls_rows, rank_rows, cal) -> str:
    desc = tables.descriptors
    n_ok = sum(1 for r in desc if r.get("status") == "ok")
    first = next((r for r in desc if r.get("method")), {})
    items = [
        f"molecules: {len(desc)} ({n_ok} computed, {len(desc) - n_ok} failed)",
        f"method: {esc(first.get('method'))} with {esc(first.get('engine'))} {esc(first.get('engine_version'))}, "
        f"{esc(first.get('solvent_model'))}",
        f"formulations classified: {sum(1 for r in cls_rows if r.get('origin') != 'grid')} from the table, "
        f"{sum(1 for r in cls_rows if r.get('origin') == 'grid')} from the screening grid",
    ]
    for key, what in (("summary", "descriptors only"), ("summary_with_md", "with MD evidence")):
        c = ((cal or {}).get(key) or {}).get("calibration") or {}
        g = ((cal or {}).get(key) or {}).get("generalization") or {}
        if c.get("n"):
            items.append(f"classification, {what}: calibration set {c['n_right']}/{c['n']} right "
                         f"({c['n_two_class']} two-class), generalization set {g.get('n_right', 0)}/{g.get('n', 0)} "
                         f"right ({g.get('n_two_class', 0)} two-class, {g.get('n_wrong', 0)} wrong)")
    top = [r for r in rank_rows if r.get("group") == "solvent" and r.get("status") == "ok"][:3]
    if top:
        items.append("top-ranked solvents: " + ", ".join(esc(r["name"]) for r in top))
    return f"<ul>{''.join(f'<li>{i}</li>' for i in items)}</ul>"


NAV_NAMES = {"verdicts": "verdicts", "overview": "overview", "structures": "structures", "orbitals": "orbitals",
             "binding": "binding", "classmap": "class map", "ranking": "ranking", "calibration": "calibration",
             "formulations": "grid", "solvating": "solvating power", "solvation": "MD solvation",
             "dft": "DFT", "failures": "failures", "methods": "methods"}


def section_ids(html: str) -> list[tuple[str, str]]:
    """(id, title) of every ``<section>`` in ``html``, in order."""
    return re.findall(r'<section id="([^"]+)"><h2>(.*?)</h2>', html)


def nav_bar(sections_html: str) -> str:
    """Links to every section present (the optional stages' included), so each link resolves."""
    links = " · ".join(f'<a href="#{sid}">{esc(NAV_NAMES.get(sid, re.sub("<[^>]+>", "", title)))}</a>'
                       for sid, title in section_ids(sections_html))
    return f'<nav class="nav">{links}</nav>'



METHODS = """
<ul>
<li><b>Electronic structure</b>: GFN-xTB (tblite/xtb-python) on the lowest conformer of an RDKit ETKDG
ensemble. Orbital energies are xTB eigenvalues: use them for orderings within one method, not as
absolute levels. Gas-phase anion orbitals sit high because of the negative charge.</li>
<li><b>Redox estimate</b>: E(vs K+/K) = IP/e − 4.44 V + 2.93 V (oxidation) from vertical IPEA1-xTB IPs;
an ordering estimate, not a measured stability window.</li>
<li><b>Binding</b>: E_bind = E(K+·L) − E(K+) − E(L); negative = bound. GFN2-xTB overbinds alkali cations
by tens of percent: compare orderings. Shell descriptors (per-ligand binding in K+(L)n, anion exchange
K+(L)n + A− → K+(L)(n−1)A− + L) capture crowding and anion competition that 1:1 binding misses.</li>
<li><b>Composition</b>: ideal mixing of the liquids; the salt's volume is estimated from a stated density
(see each formulation's assumptions); unreported mixing ratios are taken as equal volumes.</li>
<li><b>Classification</b>: the review's criteria on the solvation structure. A diluent stays out of the
K+ shell (MD: depleted relative to bulk; without MD: binds K+ more weakly than a threshold fitted on Table 2's
roles, or has no donor atom); the sheath is anion-rich at an anion CN per K+ of at least 1 (MD), or when the
solvent's donor atoms per salt cannot fill the K+ shell (6); LCE = not anion-rich, LHCE = anion-rich + diluent,
HCE = anion-rich, no diluent, at least 3 M; WSE = anion-rich, no diluent, below 3 M. Where a value lies within
its uncertainty of a threshold, or descriptors cannot decide (whether the anion enters a moderate solution),
the label names every possible class and says what would decide. Thresholds: see the calibration section.</li>
</ul>
"""

CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0 auto;max-width:1400px;padding:1em 2em;
color:#222;line-height:1.35}
h1{font-size:1.5em;margin-bottom:.2em} h2{border-bottom:2px solid #ddd;padding-bottom:.2em;margin-top:1.6em}
h3{margin-bottom:.3em} .note{color:#555;font-size:.9em;max-width:70em}
table{border-collapse:collapse;font-size:.8em;margin:.5em 0} th,td{border:1px solid #ddd;padding:3px 6px;
vertical-align:top;text-align:left} th{background:#f3f3f3;position:sticky;top:0}
tr:nth-child(even) td{background:#fafafa}
.mols{display:flex;flex-wrap:wrap;gap:6px} figure.mol{margin:0;border:1px solid #e3e3e3;border-radius:6px;
padding:4px;width:180px;text-align:center;font-size:.75em} figure.mol code{font-size:.85em;word-break:break-all}
.kind{color:#666} .bad{color:#c00;font-weight:bold} .ok{color:#080;font-weight:bold} .missing{color:#a60}
.cls{color:#fff;border-radius:3px;padding:0 4px;font-weight:bold;font-size:.9em}
""" + "".join(f".cls.{k}{{background:{c}}}" for k, c in CLASS_COLOURS.items()) + """
.sc{white-space:nowrap;font-size:.9em} .bar{display:inline-block;height:8px;margin-right:3px;vertical-align:middle}
.two{color:#a60;font-weight:bold;white-space:nowrap} .pareto{color:#b8860b;font-weight:bold;white-space:nowrap} .plot svg{max-width:100%;height:auto}
.nav{position:sticky;top:0;background:#fff;padding:.3em 0;border-bottom:1px solid #ddd;z-index:2;font-size:.9em}
.nav a{margin:0 .2em} details{margin:.5em 0} summary{cursor:pointer;color:#245}
td details{margin:0} ul.ev{margin:.3em 0;padding-left:1.2em;max-width:70em} .comp{color:#555}
table.sortable th{cursor:pointer} table.sortable th::after{content:" \\2195";color:#aaa}
table.sortable th[aria-sort=ascending]::after{content:" \\25B2"} table.sortable th[aria-sort=descending]::after{content:" \\25BC"}
table.verdicts{font-size:.85em} table.verdicts td:nth-child(4){max-width:60em}
ol.mapkey{columns:3;font-size:.8em;max-width:70em}
"""


def _roles_from(calibration: dict | None, rank_rows: list[dict]) -> dict[str, str]:
    """Role of each molecule on its own: the classification's (diluent/solvent/undecided), else the ranking's."""
    roles = {n: r.get("role", "") for n, r in ((calibration or {}).get("molecule_roles") or {}).items()}
    return roles or {r["name"]: r.get("role", "") for r in rank_rows}


def build_report(tables: ResultTables, cls_rows: list[dict], rank_rows: list[dict], calibration: dict | None,
                 settings: ReportSettings = ReportSettings(), classification_settings: dict | None = None,
                 cation: str = "K+", anion: str | None = "FSI", orbital_levels: str = "alpb",
                 stage_sections: list[str] = ()) -> str:
    """The report page as one HTML string; ``stage_sections`` (HTML ``<section>``s of the optional
    stages: MD, DFT, solvating power) go before the failures."""
    roles = _roles_from(calibration, rank_rows)
    cs = classification_settings or (calibration or {}).get("thresholds", {})
    ladder = ladder_plot(tables.descriptors, anion, orbital_levels)
    bplot, shells_drawn = binding_plot(tables, cation, anion, roles)
    cmap, numbered = class_map_plot(cls_rows, cs, settings.show_grid)
    if cmap:
        key = "".join(f"<li value='{i}'>{_label(r.get('label'))} {esc(r['id'])}"
                      f"{(' (literature ' + esc(r['reported_class']) + ')') if r.get('reported_class') else ''}</li>"
                      for i, r in numbered)
        cmap = f'<div class="plot">{cmap}</div><ol class="mapkey">{key}</ol>'

    body = [
        _section("verdicts", "Verdict per formulation",
                 _verdicts(cls_rows, bool((calibration or {}).get("threshold_table")))),
        _section("overview", "Overview", _overview(tables, cls_rows, rank_rows, calibration)),
        _section("structures", "Candidate structures", _structures(tables.descriptors, roles, settings.structure_size_px),
                 "RDKit 2D drawings of every molecule computed; role = its role on its own from its K+ binding "
                 "energy against the fitted diluent threshold (undecided = within the energy's uncertainty of it; "
                 "a molecule without donor atoms is a diluent); in a formulation with MD the MD decides."),
        _section("orbitals", "HOMO/LUMO ladder",
                 f'<div class="plot">{ladder}</div>' if ladder else _missing("orbital energies"),
                 f"A solvent LUMO above the anion's (dashed, {esc(anion)}) leaves the anion to be reduced first "
                 "(anion-derived SEI); a lower HOMO means better oxidative stability."),
        _section("binding", f"{cation} binding energies",
                 f'<div class="plot">{bplot}</div>' if bplot else _missing("binding.csv"),
                 "1:1 binding grows with size and polarizability; bar colour = the molecule's role on its own. "
                 + ("Hatched bars: the per-ligand binding in a filled shell, which includes steric crowding."
                    if shells_drawn else "No filled-shell binding in this run (shells.csv not given): 1:1 only.")),
        _section("classmap", "Class map", cmap or _missing("classification"),
                 "Each formulation at its salt concentration and its solvent donor atoms per salt (the composition "
                 "quantities of the HCE and LHCE-core rules), coloured by predicted class; literature formulations "
                 "are ringed in their reported class."),
        _section("ranking", "Ranking", _ranking(rank_rows),
                 "K metal: stable / undecided / reduced, from the LUMO (ALPB) against reference solvents "
                 "(ethers K metal cycles in; carbonates and acetonitrile it reduces), minus/plus the resolution. "
                 "Rank: K-metal verdict first, then the score (weighted mean of the objectives scaled to [0, 1] "
                 "within the group). Objectives larger = better. ★ = on the front: not reduced by K metal and no "
                 "other such candidate better by more than the resolution on one objective, worse by more than it "
                 "on none, and better on balance (docs/methods.md, Ranking)."),
        _section("calibration", "Calibration: predicted vs literature class", _calibration(calibration, cls_rows),
                 "Literature classes from the review's Table 2 (calibration), the generalization set (checking "
                 "only) and the review's text (other). ✓ right; ≈ two-class: the literature class is among the "
                 "classes named; ✗ wrong."),
        _section("formulations", "Screening grid: verdicts", _formulations(cls_rows, settings.show_grid,
                                                                           settings.max_table_rows)),
        _section("failures", "Failures", _failures(tables, cls_rows, rank_rows),
                 "Every molecule or stage that failed, with its reason."),
        _section("methods", "Methods and caveats", METHODS),
    ]
    body[-2:-2] = [sec for sec in stage_sections if sec]
    sections = "".join(body)
    stamp = time.strftime("%Y-%m-%d %H:%M")
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{esc(settings.title)}</title><style>{CSS}</style></head><body>"
            f"<h1>{esc(settings.title)}</h1><p class=\"note\">solvscreen {esc(__version__)} · {stamp}</p>"
            + nav_bar(sections) + sections + SORT_SCRIPT + "</body></html>\n")


def write_report(out: str | Path, *, descriptors=None, binding=None, shells=None, classification=None,
                 calibration=None, ranking=None, settings: ReportSettings = ReportSettings(),
                 cation: str = "K+", anion: str | None = "FSI", orbital_levels: str = "alpb",
                 solvating_power=None, dft_binding=None, solvation=None, coordination=None, pmf=None) -> str:
    """Write the report from the tables given, each a declared input (nothing is looked up
    beside another table). Each registered stage (:data:`solvscreen.core.registry.STAGES`) adds
    its section from its tables when they are given: ``solvation``/``coordination`` and ``pmf`` (MD),
    ``dft_binding`` (DFT), ``solvating_power`` (solvation)."""
    from ..core.records import write_text_atomic
    from ..core import registry

    tables = ResultTables.load(descriptors, binding, shells, solvating_power)
    cal = json.loads(Path(calibration).read_text()) if calibration and Path(calibration).is_file() else None
    stage_tables = {"solvation": solvation, "coordination": coordination, "dft_binding": dft_binding,
                    "solvating_power": solvating_power, "pmf": pmf}
    thresholds = (cal or {}).get("thresholds") or {}
    sections = [registry.resolve(s.report_section)(stage_tables, thresholds) for s in registry.STAGES
                if s.report_section]
    page = build_report(tables, read_rows(classification), read_rows(ranking), cal, settings,
                        (cal or {}).get("thresholds"), cation, anion, orbital_levels, sections)
    write_text_atomic(out, page)
    return page
