"""The report's solvation section (MD): speciation bars, RDFs, coordination table.

:func:`solvation_section` returns "" when it is given no ``solvation.csv``
(MD off), so the report shows the section only for runs that did MD.
"""

from __future__ import annotations

from pathlib import Path

from ..core.result_tables import read_rows

NOTE = ("K+-centred speciation: SSIP = no anion within the K-donor cutoff, CIP = one, AGG = two or more "
        "(error bars: block-averaged standard errors; short runs rank, they do not converge speciation: "
        "independent starts differ by more than these errors). Enrichment = mean g(r) of a species' donor "
        "atoms inside the cutoff (below 1 also for solvating molecules whose other donor atoms stay away, "
        "e.g. TMP's ester O). bulk x / shell x: the species' share of the neutral molecules in the liquid / "
        "in the K+ first shell; the classification calls a component a diluent when shell x / bulk x lies below "
        "md_diluent_shell_share_ratio_max (its value: the calibration section's threshold table).")


def _f(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return float("nan")


def speciation_plot(rows: list[dict]) -> str:
    from ..core.htmlparts import fig_svg, pyplot as _mpl

    ok = [r for r in rows if r.get("status") == "ok"]
    if not ok:
        return ""
    plt = _mpl()
    fig, ax = plt.subplots(figsize=(6.5, 0.45 * len(ok) + 1.0))
    left = [0.0] * len(ok)
    y = list(range(len(ok)))
    for key, label, color in (("ssip", "SSIP", "#4c8dc9"), ("cip", "CIP", "#f0a030"), ("agg", "AGG", "#c0392b")):
        vals = [_f(r[f"{key}_fraction"]) for r in ok]
        errs = [_f(r[f"{key}_fraction_err"]) for r in ok]
        ax.barh(y, vals, left=left, color=color, label=label, xerr=errs, error_kw={"lw": 0.8, "capsize": 2})
        left = [a + b for a, b in zip(left, vals)]
    ax.set_yticks(y, [r["formulation"] for r in ok])
    ax.set_xlim(0, 1)
    ax.set_xlabel("fraction of K+")
    ax.invert_yaxis()
    ax.legend(ncol=3, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
    return fig_svg(fig)


def rdf_plot(results: Path, rows: list[dict], max_panels: int = 6) -> str:
    from ..core.htmlparts import fig_svg, pyplot as _mpl

    ok = [r["formulation"] for r in rows if r.get("status") == "ok"][:max_panels]
    data = [(f, read_rows(results / "md" / f / "rdf.csv")) for f in ok]
    data = [(f, d) for f, d in data if d]
    if not data:
        return ""
    plt = _mpl()
    fig, axes = plt.subplots(1, len(data), figsize=(3.0 * len(data), 2.6), squeeze=False, sharey=True)
    for ax, (f, d) in zip(axes[0], data):
        r = [_f(x["r_A"]) for x in d]
        for col in d[0]:
            if col != "r_A":
                ax.plot(r, [_f(x[col]) for x in d], lw=1, label=col[2:].replace("_", "–", 1).replace("_", "/"))
        ax.axhline(1.0, color="0.6", lw=0.6, ls=":")
        ax.set_title(f, fontsize=8)
        ax.set_xlabel("r (Å)")
        ax.legend(fontsize=6, frameon=False)
    axes[0][0].set_ylabel("g(r), K+–donor")
    return fig_svg(fig)


def report_section(tables: dict, thresholds: dict) -> str:
    """The report's MD sections (registered in solvscreen.core.registry): the solvation structure
    ("" without solvation.csv) and the K+-anion free energy ("" without pmf.csv)."""
    from ..core.htmlparts import section

    from .pmf_report import pmf_section

    html = solvation_section(tables.get("solvation"), tables.get("coordination"))
    out = section("solvation", "Solvation structure (MD)", html) if html else ""
    t = (thresholds or {}).get("pmf_weak_ddg_max_kcal_per_mol", 0.0)
    pmf = pmf_section(tables.get("pmf"), float(t) if isinstance(t, (int, float)) else 0.0)
    return out + (section("pmf", "K+–anion free energy in each solvent (MD)", pmf) if pmf else "")


def solvation_section(solvation: str | Path | None, coordination: str | Path | None = None) -> str:
    """HTML body of the solvation section from the MD stage's ``solvation.csv`` (and
    ``coordination.csv``; the RDFs from ``md/<formulation>/rdf.csv`` beside them), or "" when
    there is no solvation table."""
    from ..core.htmlparts import esc, num, table

    if not solvation:
        return ""
    results = Path(solvation).parent
    rows = read_rows(Path(solvation))
    if not rows:
        return ""
    coord = read_rows(Path(coordination)) if coordination else []
    parts = [f'<p class="note">{esc(NOTE)}</p>']
    bars = speciation_plot(rows)
    if bars:
        parts.append(f'<div class="plot">{bars}</div>')
    rdf = rdf_plot(results, rows)
    if rdf:
        parts.append(f'<div class="plot">{rdf}</div>')
    srows = [[r["formulation"], r["status"], r.get("preset", ""), f"{num(r.get('ns_production'), 3)}",
              f"{num(r.get('density_g_per_mL'), 3)}", f"{num(r.get('anion_cn'))} ± {num(r.get('anion_cn_err'))}",
              num(r.get("solvent_cn")), f"{num(r.get('anion_share_of_shell'))}", r.get("platform", ""),
              r.get("failure_reason", "")] for r in rows]
    parts.append(table(["formulation", "status", "preset", "ns", "density g/mL", "anion CN", "solvent CN",
                        "anion share", "platform", "failure"], srows))
    if coord:
        crows = [[c["formulation"], c["species"], c["kind"], f"{num(c['cn'])} ± {num(c['cn_err'])}",
                  num(c["cn_donor_atoms"]), f"{num(c['cutoff_A'])} ({c['cutoff_source']})",
                  f"{num(c['enrichment'])} ± {num(c['enrichment_err'])}", num(c.get("bulk_mole_fraction")),
                  num(c.get("shell_mole_fraction"))] for c in coord]
        parts.append(table(["formulation", "species", "kind", "CN (molecules)", "CN (donor atoms)", "cutoff Å",
                            "enrichment", "bulk x", "shell x"], crows))
    return "".join(parts)
