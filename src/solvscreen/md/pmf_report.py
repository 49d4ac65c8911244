"""The report's section for the K+-anion free energy (``pmf.csv`` of the md_pmf stage): a plot
of each solvent's dG_assoc minus the reference solvent's with its interval, and the table.
"" without a pmf.csv, so runs without ``md.pmf`` show nothing."""

from __future__ import annotations

from pathlib import Path

from ..core.records import parse_number
from ..core.result_tables import read_rows

NOTE = ("K+–anion contact free energy in each neat solvent (one ion pair, umbrella sampling + WHAM, GAFF2/AM1-BCC "
        "with ions × 0.8; docs/md_free_energy.md). dG_assoc = −RT ln K_a (1 mol/L standard state), referenced to "
        "the 8–9 Å shell. Plot: dG_assoc minus the reference solvent's (same salt, force field and protocol); "
        "bars: its interval (both runs' bootstrap half-widths and half their drift between production halves, "
        "in quadrature). Left of the line (the reference's own value, the classification threshold "
        "pmf_weak_ddg_max_kcal_per_mol): the anion pairs with K+ more than in the reference, a weaker solvent. "
        "'not converged' = the protocol's criterion (halves within 0.5 kcal/mol, interval at most 1.0 kcal/mol "
        "wide) is not met; the interval still holds what the run measured. dw/dr outer 2 Å: the PMF's slope over "
        "its last 2 Å; above kT per Å (pmf_outer_mean_force_max_kcal_per_mol_A) the ions still attract at the "
        "reference shell and the classifier does not use the row.")


def ddg_plot(rows: list[dict], threshold: float = 0.0) -> str:
    """Dot-and-whisker plot of dG_assoc minus the reference's per solvent (one salt per panel row)."""
    from ..core.htmlparts import fig_svg, pyplot

    pts = []
    for r in rows:
        d = parse_number(r.get("ddg_vs_reference_kcal_per_mol"))
        lo, hi = parse_number(r.get("ddg_lo_kcal_per_mol")), parse_number(r.get("ddg_hi_kcal_per_mol"))
        if None not in (d, lo, hi):
            pts.append((f"{r['solvent']} ({r['salt']})", d, lo, hi, r.get("reference_solvent") or "the reference"))
    if not pts:
        return ""
    pts.sort(key=lambda p: p[1])
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.0, 0.35 * len(pts) + 1.0))
    for i, (name, d, lo, hi, _) in enumerate(pts):
        color = "#b2182b" if hi < threshold else ("#2166ac" if lo >= threshold else "#777777")
        ax.errorbar([d], [i], xerr=[[d - lo], [hi - d]], fmt="o", color=color, capsize=3, ms=5)
    ax.axvline(threshold, color="black", lw=0.8, ls="--")
    ax.set_yticks(range(len(pts)), [p[0] for p in pts])
    refs = sorted({p[4] for p in pts})
    ax.set_xlabel(f"dG_assoc minus {', '.join(refs)}'s (kcal/mol); red: weaker, blue: at least as strong, "
                  "grey: not resolved")
    return fig_svg(fig)


def pmf_section(pmf: str | Path | None, threshold: float = 0.0) -> str:
    """HTML body of the PMF section, or "" without a pmf table."""
    from ..core.htmlparts import esc, num, table

    rows = read_rows(Path(pmf)) if pmf else []
    if not rows:
        return ""
    parts = [f'<p class="note">{esc(NOTE)}</p>']
    plot = ddg_plot([r for r in rows if (r.get("status") or "ok") == "ok"], threshold)
    if plot:
        parts.append(f'<div class="plot">{plot}</div>')

    def interval(r, key, lo, hi, nd=2):
        return f"{num(r.get(key), nd)} [{num(r.get(lo), nd)}, {num(r.get(hi), nd)}]" if r.get(key) not in (None, "") else ""

    trows = [[r["solvent"], r["salt"], r.get("status", ""),
              f"{r.get('n_windows', '')} × {r.get('production_ps_per_window', '')} ps",
              interval(r, "dg_assoc_kcal_per_mol", "dg_assoc_lo_kcal_per_mol", "dg_assoc_hi_kcal_per_mol"),
              interval(r, "ddg_vs_reference_kcal_per_mol", "ddg_lo_kcal_per_mol", "ddg_hi_kcal_per_mol"),
              r.get("ordering_vs_reference", ""),
              interval(r, "paired_fraction_1M", "paired_fraction_1M_lo", "paired_fraction_1M_hi"),
              "yes" if str(r.get("converged")) == "True" else ("no: " + (r.get("convergence_reason") or "")
                                                              if r.get("status") == "ok" else ""),
              num(r.get("outer_mean_force_kcal_per_mol_A")),
              num(r.get("ns_total")), num(r.get("cpu_hours")) + ("" if str(r.get("cost_complete", "True")) != "False"
                                                                 else " (earlier calls not counted)"),
              r.get("failure_reason", "")] for r in rows]
    parts.append(table(["solvent", "salt", "status", "windows", "dG_assoc kcal/mol [95 %]",
                        "minus reference [interval]", "ordering", "paired at 1 M", "converged",
                        "dw/dr outer 2 Å kcal/mol/Å", "ns", "CPU-h",
                        "failure"], trows))
    return "".join(parts)
