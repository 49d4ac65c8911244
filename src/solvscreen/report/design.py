"""The design report: per parent, its derivatives' redox estimates and solvating power relative to
the parent, the K-metal verdict of the ranking, and a plot of oxidative stability against
solvating power with the eps-Pareto front (``results/design.csv``, ``results/design.html``).

It reads the run's tables only (``design/derivatives.json``, ``descriptors.csv``,
``solvating_power.csv``, ``ranking.csv``). The front is the ranking's (:func:`solvscreen.classify.rank.pareto_front`
with the ranking's resolutions): larger E_ox is better, a *weaker* solvating power is better (the
anion keeps the last site of the K+ shell: anion-derived SEI). Two members are **tied** when
neither eps-dominates the other and they differ by less than eps on both axes: the descriptors
cannot order them. Members without a solvating power (solvation stage failed or not run) are listed
and left out of the front.

The class of each member in a 1 M formulation of the ranking's salt is the classification's label
of a 1 M formulation of that salt in the member alone (a formulation table's row, else the
screening grid's ``grid-<salt>-<name>-1M``: derivatives have an estimated density, so the grid
makes them); empty when there is none.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from ..core.htmlparts import esc, fig_svg, num, pyplot, section, table
from ..core.records import parse_number
from ..core.result_tables import ResultTables, read_rows

__all__ = ["REVIEW_DESIGNS", "DESIGN_REPORT_COLUMNS", "design_rows", "write_design_report"]

#: the review's designs and their parents ("Design Strategies": steric hindrance at the ends,
#: halogenation, reshaping the backbone)
REVIEW_DESIGNS = {"DEE": "DME", "DBE": "DME", "DEECl": "DME", "DGT": "DGM", "DMM": "DGM", "TFP": "TEP",
                  "FEC": "EC", "FEMC": "EMC"}

DESIGN_REPORT_COLUMNS = [
    "parent", "name", "role", "path", "smiles", "E_ox_vs_K_V", "E_red_vs_K_V", "lumo_alpb_eV",
    "solvating_power_kcal_per_mol", "solvating_power_err_kcal_per_mol", "d_solvating_power_vs_parent_kcal_per_mol",
    "d_solvating_power_err_kcal_per_mol", "k_metal", "class_1M", "class_1M_confidence", "pareto", "ties", "status",
    "note",
]


@dataclass
class _Member:
    parent: str
    name: str
    role: str  # parent / review design / derivative
    path: str
    smiles: str


def _members(design: dict) -> list[_Member]:
    parent = design["parent"]
    out = [_Member(parent, parent, "parent", parent, design.get("parent_smiles", ""))]
    for d in design["derivatives"]:
        if not d["passed"]:
            continue
        role = "review design" if d.get("library_name") in REVIEW_DESIGNS and REVIEW_DESIGNS[d["library_name"]] == parent \
            else "derivative"
        out.append(_Member(parent, d["name"], role, d["path"], d["smiles"]))
    return out


def design_rows(designs: list[dict], tables: ResultTables, ranking: list[dict], cation: str,
                eps_ox_V: float, eps_sp_kcal: float, classification: list[dict] = (), salt: str = "KFSI") -> list[dict]:
    """One row per parent and passing derivative (those the run computed), front and ties per parent."""
    from ..classify.rank import eps_dominates, pareto_front

    by_rank = {r.get("name"): r for r in ranking}
    one_molar = {}  # the first 1 M formulation of the salt in each single liquid (a table row before the grid's)
    for r in classification:
        comps = (r.get("components") or "").split("|")
        if r.get("salt") == salt and parse_number(r.get("concentration_mol_per_L")) == 1.0 and len(comps) == 1:
            one_molar.setdefault(comps[0].split(":")[0], r)
    rows: list[dict] = []
    for design in designs:
        members = [m for m in _members(design) if tables.descriptor_row(m.name) is not None]
        group = []
        for m in members:
            d = tables.descriptor_row(m.name) or {}
            sp = tables.solvation_row(m.name, cation) or {}
            row = {"parent": m.parent, "name": m.name, "role": m.role, "path": m.path, "smiles": m.smiles,
                   "E_ox_vs_K_V": parse_number(d.get("E_ox_vs_K_V")), "E_red_vs_K_V": parse_number(d.get("E_red_vs_K_V")),
                   "lumo_alpb_eV": parse_number(d.get("lumo_alpb_eV")),
                   "solvating_power_kcal_per_mol": parse_number(sp.get("solvating_power_kcal_per_mol")),
                   "solvating_power_err_kcal_per_mol": parse_number(sp.get("solvating_power_err_kcal_per_mol")),
                   "k_metal": (by_rank.get(m.name) or {}).get("k_metal", ""),
                   # a 1 M row the classifier refused (e.g. the salt may not dissolve) says so
                   "class_1M": ((one_molar.get(m.name) or {}).get("label")
                                or ("not classified" if m.name in one_molar else "")),
                   "class_1M_confidence": (one_molar.get(m.name) or {}).get("confidence", ""),
                   "pareto": "", "ties": "",
                   "status": d.get("status", ""), "note": ""}
            if row["E_ox_vs_K_V"] is None or row["solvating_power_kcal_per_mol"] is None:
                row["note"] = "no front: " + ("no E_ox" if row["E_ox_vs_K_V"] is None else
                                              f"no {cation} solvating power ({sp.get('failure_reason') or 'not computed'})")
            else:
                group.append(row)
            rows.append(row)
        par = next((r for r in rows if r["parent"] == design["parent"] and r["role"] == "parent"), None)
        for r in rows:
            if r["parent"] != design["parent"] or par is None:
                continue
            a, b = r["solvating_power_kcal_per_mol"], par["solvating_power_kcal_per_mol"]
            if a is not None and b is not None:
                r["d_solvating_power_vs_parent_kcal_per_mol"] = round(a - b, 2)
                ea, eb = r["solvating_power_err_kcal_per_mol"] or 0.0, par["solvating_power_err_kcal_per_mol"] or 0.0
                r["d_solvating_power_err_kcal_per_mol"] = round(math.hypot(ea, eb), 2)
        vecs = [[r["E_ox_vs_K_V"], -r["solvating_power_kcal_per_mol"]] for r in group]
        eps = [eps_ox_V, eps_sp_kcal]
        for r, on in zip(group, pareto_front(vecs, eps)):
            r["pareto"] = "yes" if on else "no"
        for i, r in enumerate(group):
            r["ties"] = ";".join(
                o["name"] for j, o in enumerate(group) if j != i
                and not eps_dominates(vecs[i], vecs[j], eps) and not eps_dominates(vecs[j], vecs[i], eps)
                and all(abs(x - y) < e for x, y, e in zip(vecs[i], vecs[j], eps)))
    return rows


def _plot(rows: list[dict], parent: str, eps_ox: float, eps_sp: float) -> str:
    pts = [r for r in rows if r["parent"] == parent and r["pareto"]]
    if not pts:
        return "<p>No member of this design has both E_ox and a solvating power: no plot.</p>"
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.0, 4.2))
    for r in pts:
        x, y = r["solvating_power_kcal_per_mol"], r["E_ox_vs_K_V"]
        marker = {"parent": "*", "review design": "D"}.get(r["role"], "o")
        color = "black" if r["role"] == "parent" else ("tab:red" if r["role"] == "review design" else "tab:blue")
        ax.errorbar(x, y, xerr=r["solvating_power_err_kcal_per_mol"] or 0, yerr=eps_ox, fmt=marker, color=color,
                    mfc=color if r["pareto"] == "yes" else "white", ms=9 if marker == "*" else 6, lw=0.6, capsize=2)
        if r["role"] != "derivative" or r["pareto"] == "yes":
            ax.annotate(r["name"], (x, y), textcoords="offset points", xytext=(4, 4), fontsize=7)
    front = sorted((r for r in pts if r["pareto"] == "yes"), key=lambda r: r["solvating_power_kcal_per_mol"])
    ax.plot([r["solvating_power_kcal_per_mol"] for r in front], [r["E_ox_vs_K_V"] for r in front], "-",
            color="grey", lw=0.8, zorder=0)
    ax.set_xlabel("K+ solvating power (kcal/mol; weaker = more anion in the shell, better)")
    ax.set_ylabel("E_ox vs K+/K (V; higher = better)")
    ax.set_title(f"{parent}: filled = eps-Pareto front (eps {eps_ox:g} V, {eps_sp:g} kcal/mol); "
                 "star parent, diamond review design", fontsize=8)
    return fig_svg(fig)


def write_design_report(results: str | Path, out_csv: str | Path, out_html: str | Path, *, cation: str = "K+",
                        salt: str = "KFSI", eps_ox_V: float = 0.4, eps_sp_kcal: float = 3.0) -> list[dict]:
    """Write ``design.csv`` and ``design.html`` from a results directory; return the rows."""
    from ..core.records import write_csv

    results = Path(results)
    designs = json.loads((results / "design" / "derivatives.json").read_text())
    tables = ResultTables.from_dir(results)
    rows = design_rows(designs, tables, read_rows(results / "ranking.csv"), cation, eps_ox_V, eps_sp_kcal,
                       read_rows(results / "classification.csv"), salt)
    write_csv(out_csv, rows, DESIGN_REPORT_COLUMNS)
    body = []
    for design in designs:
        parent = design["parent"]
        mine = [r for r in rows if r["parent"] == parent]
        removed = ", ".join(f"{k} {v}" for k, v in design["removed_by"].items())
        head = (f"<p>{len(design['derivatives'])} derivatives ({design['n_duplicates']} duplicates removed by InChIKey); "
                f"removed by filter: {esc(removed)}; {len(mine) - 1} passing derivatives computed in this run.</p>")
        cells = [[esc(r["name"]), esc(r["role"]), esc(r["path"]), num(r["E_ox_vs_K_V"]), num(r["E_red_vs_K_V"]),
                  num(r["solvating_power_kcal_per_mol"], 1)
                  + (f" ± {num(r['solvating_power_err_kcal_per_mol'], 1)}" if r["solvating_power_err_kcal_per_mol"] else ""),
                  "" if r.get("d_solvating_power_vs_parent_kcal_per_mol") is None else
                  f"{r['d_solvating_power_vs_parent_kcal_per_mol']:+.1f} ± {r['d_solvating_power_err_kcal_per_mol']:.1f}",
                  esc(r["k_metal"]), esc(r["class_1M"]) + (f" ({esc(r['class_1M_confidence'])})" if r["class_1M"] else ""),
                  esc(r["pareto"]), esc(r["ties"].replace(";", ", ")), esc(r["note"])]
                 for r in mine]
        body.append(section(f"design-{parent}", f"Design from {parent}", head + table(
            ["name", "role", "strategy path", "E_ox vs K (V)", "E_red vs K (V)", "solvating power (kcal/mol)",
             "vs parent (kcal/mol)", "K metal", f"1 M {salt} class (confidence)", "front", "tied with", "note"], cells, raw=True)
            + _plot(rows, parent, eps_ox_V, eps_sp_kcal)))
    note = (f"Class: the label of the screening-grid formulation 1 M {salt} in the member (derivative densities "
            "are estimates: parent's measured molar volume + Fedors increments). Ties: neither member eps-dominates the other "
            f"and they differ by less than eps on both axes ({eps_ox_V:g} V, {eps_sp_kcal:g} kcal/mol).")
    html = ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>solvscreen design</title>"
            "<style>body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse;font-size:12px}"
            "td,th{border:1px solid #ccc;padding:2px 5px}.note{color:#555}</style></head><body>"
            f"<h1>Design from parent solvents</h1><p class='note'>{esc(note)}</p>{''.join(body)}</body></html>")
    Path(out_html).write_text(html)
    return rows


def add_parsers(sub, command) -> None:
    p = sub.add_parser("design-report", help="design.csv and design.html from a results directory with a design")
    p.add_argument("results", help="results directory (with design/derivatives.json and the stage tables)")
    p.add_argument("--out", help="design.csv (default: <results>/design.csv)")
    p.add_argument("--html", help="design.html (default: <results>/design.html)")
    p.add_argument("--cation", default="K+")
    p.add_argument("--salt", default="KFSI", help="the salt of the 1 M grid formulation whose class is shown")
    p.add_argument("--eps-ox", type=float, default=0.4, help="V (ranking.resolution.oxidative_stability)")
    p.add_argument("--eps-sp", type=float, default=3.0, help="kcal/mol (ranking.resolution.anion_rich_shell)")

    def run(ns) -> int:
        res = Path(ns.results)
        rows = write_design_report(res, ns.out or res / "design.csv", ns.html or res / "design.html",
                                   cation=ns.cation, salt=ns.salt, eps_ox_V=ns.eps_ox, eps_sp_kcal=ns.eps_sp)
        print(f"design report: {len(rows)} rows, {sum(r['pareto'] == 'yes' for r in rows)} on a parent's front")
        return 0

    command("design-report")(run)
