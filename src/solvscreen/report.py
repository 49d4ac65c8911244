"""The screening report: one self-contained HTML page a chemist opens in a browser.

Everything is inline: RDKit structure drawings as SVG, matplotlib plots as SVG, a small
stylesheet, no script and no network access. Sections (element ids in brackets):
overview (``overview``), 2D structures (``structures``), HOMO/LUMO ladder (``orbitals``),
cation binding (``binding``), class map (``classmap``), ranking (``ranking``),
calibration (``calibration``), classified formulations (``formulations``), failures
(``failures``) and methods/caveats (``methods``).

The report reads only the stage tables (descriptors, binding, shells, classification,
calibration, ranking); a missing table leaves its section with a note saying so.
"""

from __future__ import annotations

import html
import io
import json
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from . import __version__
from .settings import known_keys
from .result_tables import ResultTables, read_rows

CLASS_COLOURS = {"LCE": "#1f77b4", "HCE": "#d62728", "LHCE": "#2ca02c", "WSE": "#ff7f0e"}
ROLE_COLOURS = {"solvating": "#1f77b4", "weakly solvating": "#ff7f0e", "non-coordinating diluent": "#2ca02c",
                "unknown": "#7f7f7f"}
KIND_COLOURS = {"solvent": "#1f77b4", "diluent": "#2ca02c", "anion": "#9467bd", "cation": "#8c564b"}
SECTIONS = ("overview", "structures", "orbitals", "binding", "classmap", "ranking", "calibration",
            "formulations", "failures", "methods")


@dataclass(frozen=True)
class ReportSettings:
    """Config section ``report``."""

    title: str = "solvscreen: electrolyte screening for potassium-metal batteries"
    structure_size_px: int = 170
    show_grid: bool = True  # grid formulations on the class map and in a collapsed table
    max_table_rows: int = 500

    @classmethod
    def from_dict(cls, d: dict | None) -> "ReportSettings":
        return cls(**known_keys(cls, d, "report"))

    def to_dict(self) -> dict:
        return asdict(self)


# ----------------------------------------------------------------------------- helpers
def esc(v) -> str:
    return html.escape("" if v is None else str(v))


def num(v, nd: int = 2) -> str:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return esc(v)
    if not math.isfinite(x):
        return ""
    return f"{x:.{nd}f}"


def fnum(v) -> float | None:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def table(headers: list[str], rows: list[list[str]], cls: str = "", raw: bool = False) -> str:
    """An HTML table; cells are escaped unless ``raw`` (then they are trusted HTML)."""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c if raw else esc(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def structure_svg(smiles: str, size: int = 170) -> str:
    """A 2D drawing of ``smiles`` as inline SVG (empty string if RDKit cannot draw it)."""
    from rdkit import Chem
    from rdkit.Chem.Draw import rdMolDraw2D

    mol = Chem.MolFromSmiles(smiles or "")
    if mol is None:
        return ""
    d = rdMolDraw2D.MolDraw2DSVG(size, size)
    opts = d.drawOptions()
    opts.clearBackground = False
    opts.fixedBondLength = 22
    rdMolDraw2D.PrepareAndDrawMolecule(d, mol)
    d.FinishDrawing()
    svg = d.GetDrawingText()
    return svg[svg.find("<svg"):]  # drop the XML declaration: the SVG is inline


def _mpl():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"svg.fonttype": "none", "svg.hashsalt": "solvscreen", "font.size": 9})
    return plt


def fig_svg(fig) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    _mpl().close(fig)
    svg = buf.getvalue()
    return svg[svg.find("<svg"):]


# ----------------------------------------------------------------------------- plots
def ladder_plot(desc: list[dict], anion_ref: str | None, levels: str = "alpb") -> str:
    """HOMO/LUMO levels (eV) of solvents, diluents and anions, anion LUMO as a dashed line.

    ``levels`` "alpb": the levels in the properties stage's ALPB dielectric, where anion and
    solvent levels are comparable; "gas" (or no dielectric levels in the run): gas phase.
    """
    def usable(sfx):
        return [r for r in desc if r.get("kind") in ("solvent", "diluent", "anion")
                and fnum(r.get("homo" + sfx)) is not None and fnum(r.get("lumo" + sfx)) is not None]

    sfx = "_alpb_eV" if levels == "alpb" and usable("_alpb_eV") else "_eV"
    rows = [{**r, "homo_eV": r["homo" + sfx], "lumo_eV": r["lumo" + sfx]} for r in usable(sfx)]
    where = next((r.get("orbital_solvent") for r in rows if r.get("orbital_solvent")), "ALPB") \
        if sfx == "_alpb_eV" else "gas phase"
    if not rows:
        return ""
    order = {"solvent": 0, "diluent": 1, "anion": 2}
    rows.sort(key=lambda r: (order[r["kind"]], fnum(r["lumo_eV"])))
    plt = _mpl()
    fig, ax = plt.subplots(figsize=(max(6.0, 0.42 * len(rows) + 1.5), 4.2))
    for i, r in enumerate(rows):
        col = KIND_COLOURS.get(r["kind"], "#333")
        for key, ls in (("homo_eV", "-"), ("lumo_eV", "-")):
            ax.hlines(fnum(r[key]), i - 0.35, i + 0.35, colors=col, linestyles=ls, linewidth=2.2)
        ax.vlines(i, fnum(r["homo_eV"]), fnum(r["lumo_eV"]), colors=col, linewidth=0.5, alpha=0.4)
    ref = next((r for r in rows if r["name"] == anion_ref), None)
    if ref is not None:
        ax.axhline(fnum(ref["lumo_eV"]), color=KIND_COLOURS["anion"], ls="--", lw=0.9,
                   label=f"LUMO of {anion_ref}")
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
    ax.set_xticks(range(len(rows)), [r["name"] for r in rows], rotation=60, ha="right")
    for lab, r in zip(ax.get_xticklabels(), rows):
        lab.set_color(KIND_COLOURS.get(r["kind"], "#333"))
    ax.set_ylabel(f"orbital energy (eV, xTB eigenvalue, {where})")
    ax.set_title("HOMO (lower bars) and LUMO (upper bars): solvents (blue), diluents (green), anions (purple)",
                 fontsize=9)
    ax.grid(axis="y", alpha=0.3)
    return fig_svg(fig)


def binding_plot(tables: ResultTables, cation: str, anion: str | None, roles: dict[str, str]) -> str:
    """Cation binding energies as horizontal bars: 1:1 E_bind and, where computed, per ligand in a shell."""
    rows = [r for r in tables.binding if r.get("status") == "ok" and r.get("kind") in ("solvent", "diluent")
            and fnum(r.get("E_bind_kcal_per_mol")) is not None
            and (not cation or r.get("cation", "").rstrip("+").lower() == cation.rstrip("+").lower())]
    if not rows:
        return ""
    rows.sort(key=lambda r: fnum(r["E_bind_kcal_per_mol"]))
    plt = _mpl()
    fig, ax = plt.subplots(figsize=(7.0, max(2.5, 0.28 * len(rows) + 1.0)))
    y = list(range(len(rows)))
    vals = [fnum(r["E_bind_kcal_per_mol"]) for r in rows]
    cols = [ROLE_COLOURS.get(roles.get(r["name"], "unknown"), "#7f7f7f") for r in rows]
    ax.barh([i + 0.18 for i in y], vals, height=0.36, color=cols, label="1:1 E_bind")
    shell = []
    for r in rows:
        v = tables.shell_value(r["name"], r.get("cation", cation), anion, "E_shell_per_ligand_kcal_per_mol") \
            if anion else None
        shell.append(v.value if v is not None and v.ok else None)
    if any(v is not None for v in shell):
        ax.barh([i - 0.18 for i, v in zip(y, shell) if v is not None], [v for v in shell if v is not None],
                height=0.36, color="none", edgecolor="#333", hatch="///", label="per ligand in filled shell")
    ax.set_yticks(y, [r["name"] for r in rows])
    ax.invert_xaxis()
    ax.set_xlabel(f"{cation} binding energy (kcal/mol; more negative = stronger; GFN2-xTB overbinds)")
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in ROLE_COLOURS.values()]
    labels = [f"1:1, {k}" for k in ROLE_COLOURS]
    if any(v is not None for v in shell):
        handles.append(plt.Rectangle((0, 0), 1, 1, facecolor="none", edgecolor="#333", hatch="///"))
        labels.append(f"per ligand in a filled shell ({anion} exchange shell)")
    ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, frameon=False,
              title="bars (role on its own)", title_fontsize=7)
    ax.grid(axis="x", alpha=0.3)
    return fig_svg(fig)


def class_map_plot(rows: list[dict], settings: dict, show_grid: bool) -> tuple[str, list[tuple[int, dict]]]:
    """Formulations over concentration and solvating power of their solvating core, coloured by class.

    Returns the SVG and the numbered table formulations (the numbers label the points).
    """
    pts = [r for r in rows if r.get("status") == "ok" and fnum(r.get("solvating_power")) is not None]
    if not pts:
        return "", []
    plt = _mpl()
    fig, ax = plt.subplots(figsize=(8.5, 5.5))
    if show_grid:  # one marker per distinct (c, S, class, diluent?); pairs a little right of singles
        seen = {}
        for r in pts:
            if r.get("origin") == "grid":
                dil = bool(r.get("diluents"))
                key = (round(fnum(r["concentration_mol_per_L"]), 3), round(fnum(r["solvating_power"]), 1),
                       r.get("label"), dil)
                seen[key] = r
        for dil, marker, dx in ((False, "o", -0.05), (True, "^", 0.05)):
            sel = [k for k in seen if k[3] == dil]
            if sel:
                ax.scatter([k[0] + dx for k in sel], [k[1] for k in sel], marker=marker, s=16, alpha=0.45,
                           c=[CLASS_COLOURS.get(k[2], "#777") for k in sel], edgecolors="none")
    numbered = [r for r in pts if r.get("origin") != "grid"]
    for dil, marker in ((False, "o"), (True, "^")):
        sel = [r for r in numbered if bool(r.get("diluents")) == dil]
        if sel:
            ax.scatter([fnum(r["concentration_mol_per_L"]) for r in sel], [fnum(r["solvating_power"]) for r in sel],
                       c=[CLASS_COLOURS.get(r.get("label"), "#777") for r in sel], marker=marker, s=70, alpha=0.95,
                       edgecolors=[CLASS_COLOURS.get(r.get("reported_class"), "#fff") for r in sel], linewidths=2.2,
                       zorder=3)
    for i, r in enumerate(numbered, start=1):
        ax.annotate(str(i), (fnum(r["concentration_mol_per_L"]), fnum(r["solvating_power"])), fontsize=7,
                    xytext=(5, 2 + 7 * (i % 2)), textcoords="offset points", zorder=4)
    c_min = settings.get("hce_min_concentration_mol_per_L")
    w_max = settings.get("weak_max")
    if c_min:
        ax.axvline(c_min, color="#999", ls=":", lw=1)
        ax.text(c_min, ax.get_ylim()[1], f" HCE c >= {c_min:g} M", fontsize=7, va="top", color="#666")
    if w_max is not None:
        ax.axhline(w_max, color="#999", ls=":", lw=1)
        ax.text(ax.get_xlim()[1], w_max, f"weakly solvating below {w_max:.4g} ", fontsize=7, ha="right",
                va="bottom", color="#666")
    handles = [plt.Line2D([], [], marker="o", ls="", color=c, label=k) for k, c in CLASS_COLOURS.items()]
    handles += [plt.Line2D([], [], marker="o", ls="", color="#aaa", label="no diluent"),
                plt.Line2D([], [], marker="^", ls="", color="#aaa", label="with diluent"),
                plt.Line2D([], [], marker="o", ls="", mfc="white", mec="#444", mew=2.2,
                           label="ring = literature class"),
                plt.Line2D([], [], marker="o", ls="", color="#aaa", alpha=0.45, ms=4, label="screening grid")]
    ax.legend(handles=handles, fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    metric = next((f"{r.get('solvating_metric')}, {r.get('solvating_power_unit')}" for r in pts
                   if r.get("solvating_metric")), "")
    ax.set_xlabel("salt concentration (mol/L)")
    ax.set_ylabel(f"solvating power of the solvating core ({metric})")
    ax.set_title("class map: fill = predicted class; numbers = formulation table (list below)", fontsize=9)
    ax.grid(alpha=0.3)
    return fig_svg(fig), list(enumerate(numbered, start=1))


# ----------------------------------------------------------------------------- sections
def _section(sid: str, title: str, body: str, note: str = "") -> str:
    n = f'<p class="note">{note}</p>' if note else ""
    return f'<section id="{sid}"><h2>{esc(title)}</h2>{n}{body}</section>\n'


def _missing(what: str) -> str:
    return f'<p class="missing">{esc(what)} not available in this run.</p>'


def _structures(desc: list[dict], roles: dict, size: int) -> str:
    cards = []
    for r in desc:
        svg = structure_svg(r.get("smiles", ""), size)
        status = "" if r.get("status") == "ok" else ' <span class="bad">failed</span>'
        role = roles.get(r["name"], "")
        cards.append(f'<figure class="mol">{svg}<figcaption><b>{esc(r["name"])}</b> '
                     f'<span class="kind">{esc(r.get("kind"))}{(" · " + esc(role)) if role else ""}</span>{status}'
                     f'<br><code>{esc(r.get("smiles"))}</code></figcaption></figure>')
    return f'<div class="mols">{"".join(cards)}</div>' if cards else _missing("descriptors.csv")


OBJECTIVE_HEADS = {
    "oxidative_stability": "oxidative stability (E_ox V, or -HOMO eV)",
    "anion_derived_sei": "LUMO - LUMO(anion) (eV)",
    "anion_rich_shell": "-E_exchange (kcal/mol)",
    "solvating_power": "dissolves salt (0-1)",
    "non_coordination": "E_bind (kcal/mol; higher = less coordinating)",
}


def _ranking(rank_rows: list[dict]) -> str:
    if not rank_rows:
        return _missing("ranking.csv")
    out = []
    for group, objs in (("solvent", ("oxidative_stability", "anion_derived_sei", "anion_rich_shell", "solvating_power")),
                        ("diluent", ("oxidative_stability", "anion_derived_sei", "non_coordination"))):
        sel = [r for r in rank_rows if r.get("group") == group and r.get("status") == "ok"]
        if not sel:
            continue
        heads = ["rank", "name", "role", "score", "Pareto"] + [OBJECTIVE_HEADS[o] for o in objs] + ["reasons"]
        body = []
        for r in sel:
            pareto = '<span class="pareto">★ front</span>' if r.get("pareto") == "yes" else ""
            body.append([esc(r.get("rank")), f"<b>{esc(r['name'])}</b>", esc(r.get("role")), num(r.get("score")),
                         pareto] + [num(r.get(f"obj_{o}")) for o in objs] + [esc(r.get("reasons"))])
        out.append(f"<h3>{group}s</h3>" + table(heads, body, "rank", raw=True))
    failed = [r for r in rank_rows if r.get("status") != "ok"]
    if failed:
        out.append("<h3>not ranked</h3>" + table(["name", "reason"], [[r["name"], r.get("failure_reason")] for r in failed]))
    return "".join(out)


def _scores_cell(r: dict) -> str:
    parts = []
    for k in ("LCE", "HCE", "LHCE", "WSE"):
        v = fnum(r.get(f"score_{k}"))
        if v is None:
            continue
        w = max(1, int(round(60 * v)))
        parts.append(f'<span class="sc"><span class="bar" style="width:{w}px;background:{CLASS_COLOURS[k]}"></span>'
                     f'{k} {v:.2f}</span>')
    return "<br>".join(parts)


def _label(v: str | None) -> str:
    if not v:
        return ""
    return f'<span class="cls" style="background:{CLASS_COLOURS.get(v, "#777")}">{esc(v)}</span>'


def _calibration(cal: dict | None, cls_rows: list[dict]) -> str:
    if not cal:
        return _missing("calibration.json")
    by_id = {r["id"]: r for r in cls_rows}
    s = cal.get("summary", {})
    lines = []
    for key, title in (("calibration", "calibration set, thresholds of this run"),
                       ("leave_one_out", "leave-one-out (refit on the others, predict the one left out)"),
                       ("held_out", "held-out literature formulations (not used in fitting)"),
                       ("refit", "refit on the whole calibration set (what calibration would choose now)")):
        v = s.get(key)
        if v and v.get("n"):
            lines.append(f"<li><b>{esc(title)}</b>: {v['n_correct']}/{v['n']} = {100 * v['n_correct'] / v['n']:.0f} %</li>")
    head = f"<ul class='acc'>{''.join(lines)}</ul>" if lines else ""
    rows = []
    for c in cal.get("cases", []):
        r = by_id.get(c["id"], {})
        ok = c.get("match")
        rows.append([
            f"<b>{esc(c['id'])}</b>", esc(c.get("set")), _label(c.get("reported_class")), _label(c.get("label")),
            '<span class="ok">✓</span>' if ok else ('<span class="bad">✗</span>' if ok is not None else ""),
            _label(c.get("loo_label")) if c.get("loo_label") else "",
            _scores_cell(r), esc(r.get("local_salt_to_solvent")), esc(c.get("explanation") or r.get("rule")),
        ])
    t = table(["formulation", "set", "literature", "predicted", "", "LOO", "scores", "salt:solvating", "why"],
              rows, "cal", raw=True)
    fitted = cal.get("refit_thresholds")
    th = ""
    if fitted:
        th = "<details><summary>thresholds: this run vs refit</summary>" + table(
            ["threshold", "this run", "refit"],
            [[k, esc(cal.get("thresholds", {}).get(k)), esc(v)] for k, v in fitted.items()]) + "</details>"
    return head + t + th


def _formulations(cls_rows: list[dict], show_grid: bool, max_rows: int) -> str:
    if not cls_rows:
        return _missing("classification.csv")

    def rows_of(sel):
        out = []
        for r in sel[:max_rows]:
            if r.get("status") != "ok":
                out.append([f"<b>{esc(r['id'])}</b>", esc(r.get("components")), num(r.get("concentration_mol_per_L"), 2),
                            '<span class="bad">failed</span>', "", "", esc(r.get("failure_reason"))])
                continue
            out.append([f"<b>{esc(r['id'])}</b>", esc(r.get("components")), num(r.get("concentration_mol_per_L"), 2),
                        _label(r.get("label")), _scores_cell(r), esc(r.get("roles")), esc(r.get("reasons"))])
        return out

    heads = ["formulation", "components", "c (M)", "class", "scores", "roles", "reasons"]
    tab = [r for r in cls_rows if r.get("origin") != "grid"]
    grid = [r for r in cls_rows if r.get("origin") == "grid"]
    out = table(heads, rows_of(tab), "forms", raw=True)
    if grid and show_grid:
        counts = {}
        for r in grid:
            counts[r.get("label") or "failed"] = counts.get(r.get("label") or "failed", 0) + 1
        summary = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
        more = f" (first {max_rows} shown)" if len(grid) > max_rows else ""
        out += (f"<details><summary>screening grid: {len(grid)} generated formulations ({esc(summary)}){more}"
                f"</summary>{table(heads, rows_of(grid), 'forms', raw=True)}</details>")
    return out


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
    if cal and cal.get("summary", {}).get("calibration", {}).get("n"):
        c = cal["summary"]["calibration"]
        items.append(f"calibration accuracy: {c['n_correct']}/{c['n']}")
    top = [r for r in rank_rows if r.get("group") == "solvent" and r.get("status") == "ok"][:3]
    if top:
        items.append("top-ranked solvents: " + ", ".join(esc(r["name"]) for r in top))
    nav = " · ".join(f'<a href="#{s}">{s}</a>' for s in SECTIONS[1:])
    return f"<ul>{''.join(f'<li>{i}</li>' for i in items)}</ul><p class='nav'>{nav}</p>"


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
<li><b>Classification</b>: soft rule scores for LCE, HCE, LHCE and WSE from concentration, the local
salt:solvating-solvent ratio, diluent roles and the solvating power of the solvating core; thresholds
calibrated on the eleven electrolytes of the review's Table 2 (leave-one-out shown above).</li>
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
.sc{white-space:nowrap;font-size:.9em} .bar{display:inline-block;height:8px;margin-right:3px;vertical-align:middle}
.pareto{color:#b8860b;font-weight:bold;white-space:nowrap} .plot svg{max-width:100%;height:auto}
.nav a{margin:0 .2em} details{margin:.5em 0} summary{cursor:pointer;color:#245}
ol.mapkey{columns:3;font-size:.8em;max-width:70em}
"""


def build_report(tables: ResultTables, cls_rows: list[dict], rank_rows: list[dict], calibration: dict | None,
                 settings: ReportSettings = ReportSettings(), classification_settings: dict | None = None,
                 cation: str = "K+", anion: str | None = "FSI", orbital_levels: str = "alpb") -> str:
    """The report page as one HTML string."""
    roles = {r["name"]: r.get("role", "") for r in rank_rows}
    cs = classification_settings or (calibration or {}).get("thresholds", {})
    ladder = ladder_plot(tables.descriptors, anion, orbital_levels)
    bplot = binding_plot(tables, cation, anion, roles)
    cmap, numbered = class_map_plot(cls_rows, cs, settings.show_grid)
    if cmap:
        key = "".join(f"<li value='{i}'>{_label(r.get('label'))} {esc(r['id'])}"
                      f"{(' (literature ' + esc(r['reported_class']) + ')') if r.get('reported_class') else ''}</li>"
                      for i, r in numbered)
        cmap = f'<div class="plot">{cmap}</div><ol class="mapkey">{key}</ol>'

    body = [
        _section("overview", "Overview", _overview(tables, cls_rows, rank_rows, calibration)),
        _section("structures", "Candidate structures", _structures(tables.descriptors, roles, settings.structure_size_px),
                 "RDKit 2D drawings of every molecule computed; role = its role on its own from descriptors."),
        _section("orbitals", "HOMO/LUMO ladder",
                 f'<div class="plot">{ladder}</div>' if ladder else _missing("orbital energies"),
                 f"A solvent LUMO above the anion's (dashed, {esc(anion)}) leaves the anion to be reduced first "
                 "(anion-derived SEI); a lower HOMO means better oxidative stability."),
        _section("binding", f"{cation} binding energies",
                 f'<div class="plot">{bplot}</div>' if bplot else _missing("binding.csv"),
                 "1:1 binding grows with size and polarizability; the per-ligand binding in a filled shell "
                 "(hatched, where computed) includes steric crowding."),
        _section("classmap", "Class map", cmap or _missing("classification"),
                 "Each formulation at its salt concentration and the solvating power of its solvating core, "
                 "coloured by predicted class; literature formulations are ringed in their reported class."),
        _section("ranking", "Ranking", _ranking(rank_rows),
                 "Objectives larger = better; score = weighted mean of objectives scaled to [0, 1] within the group; "
                 "★ = on the Pareto front (no other candidate at least as good on every objective)."),
        _section("calibration", "Calibration: predicted vs literature class", _calibration(calibration, cls_rows),
                 "Literature classes from the review's Table 2 (calibration) and from its text (held out)."),
        _section("formulations", "Classified formulations", _formulations(cls_rows, settings.show_grid,
                                                                          settings.max_table_rows)),
        _section("failures", "Failures", _failures(tables, cls_rows, rank_rows),
                 "Every molecule or stage that failed, with its reason."),
        _section("methods", "Methods and caveats", METHODS),
    ]
    stamp = time.strftime("%Y-%m-%d %H:%M")
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{esc(settings.title)}</title><style>{CSS}</style></head><body>"
            f"<h1>{esc(settings.title)}</h1><p class=\"note\">solvscreen {esc(__version__)} · {stamp}</p>"
            + "".join(body) + "</body></html>\n")


def write_report(out: str | Path, *, descriptors=None, binding=None, shells=None, classification=None,
                 calibration=None, ranking=None, settings: ReportSettings = ReportSettings(),
                 cation: str = "K+", anion: str | None = "FSI", orbital_levels: str = "alpb") -> str:
    from .records import write_text_atomic

    tables = ResultTables.load(descriptors, binding, shells)
    cal = json.loads(Path(calibration).read_text()) if calibration and Path(calibration).is_file() else None
    page = build_report(tables, read_rows(classification), read_rows(ranking), cal, settings,
                        (cal or {}).get("thresholds"), cation, anion, orbital_levels)
    dft_csv = Path(binding).with_name("dft_binding.csv") if binding else None
    if dft_csv is not None and dft_csv.is_file():  # the DFT stage's section (solvscreen.dft.report)
        from .dft.report import dft_section
        page = page.replace('<section id="failures">', dft_section(dft_csv) + '<section id="failures">', 1)
    write_text_atomic(out, page)
    return page
