"""The DFT section of the HTML report: parity plot GFN2 vs DFT, the binding order at both
levels, and flags where the order changes (registered in solvscreen.core.registry; written by
solvscreen.report.page when results/dft_binding.csv exists)."""

from __future__ import annotations

import json
from itertools import combinations
from pathlib import Path

from ..core.records import parse_number as _f
from ..core.result_tables import read_rows

__all__ = ["report_section", "dft_section", "flipped_pairs", "orderings"]


def orderings(rows: list[dict]) -> list[dict]:
    """Rows computed at both levels, strongest binder first at the DFT level, with both ranks."""
    pts = [dict(r, g=_f(r.get("E_bind_gfn2_kcal_per_mol")), d=_f(r.get("E_bind_dft_kcal_per_mol")))
           for r in rows if r.get("status") == "ok"]
    pts = [p for p in pts if p["g"] is not None and p["d"] is not None]
    g_rank = {id(p): i + 1 for i, p in enumerate(sorted(pts, key=lambda p: p["g"]))}
    d_sorted = sorted(pts, key=lambda p: p["d"])
    return [dict(p, rank_gfn2=g_rank[id(p)], rank_dft=i + 1) for i, p in enumerate(d_sorted)]


def flipped_pairs(ordered: list[dict]) -> list[tuple[str, str, float, float]]:
    """(a, b, gfn2 gap, dft gap) for pairs whose binding order differs between the levels
    (gap = E_bind(a) - E_bind(b), kcal/mol; a binds more strongly at the DFT level)."""
    out = []
    for a, b in combinations(ordered, 2):
        if a["cation"] != b["cation"]:
            continue
        dg, dd = a["g"] - b["g"], a["d"] - b["d"]
        if dg * dd < 0:
            out.append((a["name"], b["name"], dg, dd))
    return out


def parity_plot(ordered: list[dict], calibration: dict | None) -> str:
    from ..core.htmlparts import fig_svg, pyplot as _mpl

    if not ordered:
        return ""
    plt = _mpl()
    fig, ax = plt.subplots(figsize=(4.6, 4.2))
    xs, ys = [p["g"] for p in ordered], [p["d"] for p in ordered]
    ax.scatter(xs, ys, s=18, color="#1f77b4", zorder=3)
    for p in ordered:
        ax.annotate(p["name"], (p["g"], p["d"]), fontsize=7, xytext=(3, 2), textcoords="offset points")
    lo, hi = min(xs + ys) - 3, max(xs + ys) + 3
    ax.plot([lo, hi], [lo, hi], color="grey", lw=0.8, ls="--", label="y = x")
    for cat, c in ((calibration or {}).get("cations") or {}).items():
        if "slope" in c:
            ax.plot([lo, hi], [c["slope"] * lo + c["intercept"], c["slope"] * hi + c["intercept"]], lw=1,
                    label=f"{cat}: DFT = {c['slope']:.2f} GFN2 {c['intercept']:+.1f} (LOO RMSE "
                          f"{c['loo_rmse']:.1f})" if c.get("loo_rmse") is not None else f"{cat}: fit")
    ax.set_xlabel("E_bind GFN2-xTB (kcal/mol)")
    ax.set_ylabel(f"E_bind {ordered[0].get('level')}/{ordered[0].get('basis')} (kcal/mol)")
    ax.legend(fontsize=7, loc="upper left")
    return fig_svg(fig)


def report_section(tables: dict, thresholds: dict) -> str:
    """The report's DFT section (registered in solvscreen.core.registry): "" without dft_binding.csv."""
    del thresholds
    path = tables.get("dft_binding")
    return dft_section(path) if path and Path(path).is_file() else ""


def dft_section(dft_csv: str | Path) -> str:
    """The report section (HTML) from dft_binding.csv (+ dft_calibration.json beside it)."""
    from ..core.htmlparts import esc, num, section as _section, table

    rows = read_rows(dft_csv)
    cal_path = Path(dft_csv).with_name("dft_calibration.json")
    cal = json.loads(cal_path.read_text()) if cal_path.is_file() else None
    ordered = orderings(rows)
    flips = flipped_pairs(ordered)
    flipped_names = {n for a, b, _, _ in flips for n in (a, b)}
    plot = parity_plot(ordered, cal)
    trs = [[p["name"], p["cation"], num(p["g"], 1), str(p["rank_gfn2"]), num(p["d"], 1), str(p["rank_dft"]),
            num(p.get("d_K_donor_gfn2_A"), 2), num(p.get("d_K_donor_dft_A"), 2),
            "order changes" if p["name"] in flipped_names else ""] for p in ordered]
    body = f'<div class="plot">{plot}</div>' if plot else ""
    body += table(["molecule", "cation", "E_bind GFN2", "rank GFN2", "E_bind DFT", "rank DFT", "d(M-donor) GFN2 Å",
                   "d(M-donor) DFT Å", "flag"], trs)
    if flips:
        body += "<p>Pairs whose binding order changes between GFN2-xTB and DFT (gap = E_bind(a) − E_bind(b), kcal/mol):</p>"
        body += table(["a (stronger at DFT)", "b", "gap GFN2", "gap DFT"],
                      [[a, b, num(g, 1), num(d, 1)] for a, b, g, d in flips])
    n_cal = sum(r.get("E_bind_best_source") == "calibrated_gfn2" for r in rows)
    note = (f"{len(ordered)} of {len(rows)} molecule-cation pairs computed at the DFT level; {n_cal} more use the "
            "calibrated GFN2 value (dft_binding.csv, E_bind_best_source). Rank 1 = strongest binder. "
            "Energies in kcal/mol, negative = bound.")
    return _section("dft", "DFT reference level: GFN2-xTB vs DFT binding", body, esc(note))
