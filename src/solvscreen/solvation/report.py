"""The solvating-power section of the HTML report (registered in solvscreen.core.registry;
written by solvscreen.report.page when the run has solvating_power.csv): bars of the solvating power with its uncertainty, the band of the
conventional reference solvents, and the stepwise table."""

from __future__ import annotations

from ..core.records import parse_number as _f
from ..core.result_tables import read_rows

__all__ = ["report_section", "solvating_section"]


def report_section(tables: dict, thresholds: dict) -> str:
    """The report's solvating-power section (registered in solvscreen.core.registry): "" without
    rows in solvating_power.csv; the reference solvents are the classification's."""
    rows = read_rows(tables.get("solvating_power"))
    if not rows:
        return ""
    return solvating_section(rows, thresholds.get("solvating_power_references") or "DME,DGM,EC,PC")


def solvating_section(rows: list[dict], references: str = "DME,DGM,EC,PC") -> str:
    from ..core.htmlparts import esc, fig_svg, num, pyplot, section, table

    ok = [r for r in rows if r.get("status") == "ok" and _f(r.get("solvating_power_kcal_per_mol")) is not None]
    if not rows:
        return ""
    refs = {n.strip() for n in references.replace(",", "|").split("|") if n.strip()}
    ok.sort(key=lambda r: _f(r["solvating_power_kcal_per_mol"]))
    body = ""
    if ok:
        plt = pyplot()
        fig, ax = plt.subplots(figsize=(6.2, 0.22 * len(ok) + 1.2))
        ys = range(len(ok))
        vals = [_f(r["solvating_power_kcal_per_mol"]) for r in ok]
        errs = [_f(r.get("solvating_power_err_kcal_per_mol")) or 0.0 for r in ok]
        colors = ["#d62728" if r["name"] in refs else "#1f77b4" for r in ok]
        ax.barh(list(ys), vals, xerr=errs, color=colors, height=0.6, error_kw={"lw": 0.8})
        ref_vals = [v for v, r in zip(vals, ok) if r["name"] in refs]
        if ref_vals:
            ax.axvspan(min(ref_vals), max(ref_vals), color="#d62728", alpha=0.1,
                       label="conventional references (" + ", ".join(sorted(refs)) + ")")
            ax.axvline(min(ref_vals), color="#d62728", lw=0.8, ls="--")
            ax.legend(fontsize=7, loc="lower right")
        ax.axvline(0, color="black", lw=0.6)
        ax.set_yticks(list(ys))
        ax.set_yticklabels([f"{r['name']} (n={r.get('n_last')})" for r in ok], fontsize=7)
        ax.set_xlabel("solvating power = -dG of the step completing the K+ shell (kcal/mol)")
        body += f'<div class="plot">{fig_svg(fig)}</div>'
    trs = [[r["name"], r.get("cation", ""), num(_f(r.get("solvating_power_kcal_per_mol")), 1),
            num(_f(r.get("solvating_power_err_kcal_per_mol")), 1), r.get("dG_steps_kcal_per_mol", ""),
            str(r.get("n_saturation", "")), num(_f(r.get("dG_anion_last_site_kcal_per_mol")), 1),
            str(r.get("anion_wins_last_site", "")), r.get("continuum", ""),
            r.get("failure_reason", "") if r.get("status") != "ok" else r.get("stop_reason", "")]
           for r in sorted(rows, key=lambda r: r["name"])]
    body += table(["molecule", "cation", "solvating power", "±", "dG_n (n:kcal/mol)", "n sat.", "dG anion last site",
                   "anion wins", "continuum", "stop / failure"], trs)
    note = ("Stepwise dG_n of M+(L)n-1 + L -> M+(L)n (GFN2-xTB in ALPB at the nearest parametrized solvent to "
            "the candidate's dielectric constant, quasi-RRHO at 298.15 K, clusters and anion at 1 M, the solvent at "
            "its neat-liquid concentration). Solvating power = -dG of the last step computed (the step completing "
            "the first shell, or the first unfavourable one). Red: the conventional reference solvents the "
            "classifier compares with.")
    return section("solvating", "Solvating power from crowded-shell free energies", body, esc(note))
