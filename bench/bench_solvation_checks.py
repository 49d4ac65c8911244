"""Checks of the solvating power on a finished run (prints tables, asserts nothing).

    python bench/bench_solvation_checks.py [results]

1. The review's design orderings as solvating power: DEE < DME (steric hindrance), MME < DME
   and TTE < DME (fluorinated diluents), each with both uncertainties.
2. Spearman rank correlation of solvating power with Gutmann donor numbers over the library
   solvents that have one (src/solvscreen/dft/data/donor_numbers.csv, with its sources).
3. Cost: CPU seconds of the solvation records (the records' timings.cpu_s), their sum and the
   largest ones, and the CPU seconds of every stage's records.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(results: str = "results") -> None:
    res = Path(results)
    rows = {r["name"]: r for r in csv.DictReader(open(res / "solvating_power.csv")) if r["status"] == "ok"}
    sp = {n: (float(r["solvating_power_kcal_per_mol"]), float(r["solvating_power_err_kcal_per_mol"]))
          for n, r in rows.items()}
    print("design orderings (solvating power, kcal/mol; larger = holds K+ more strongly)")
    print(f"{'pair':<12} {'a':>14} {'b':>14} {'a < b':>6} {'by > combined err':>18}")
    for a, b in (("DEE", "DME"), ("MME", "DME"), ("TTE", "DME")):
        if a in sp and b in sp:
            (va, ea), (vb, eb) = sp[a], sp[b]
            clear = (vb - va) > (ea**2 + eb**2) ** 0.5
            print(f"{a + '<' + b:<12} {va:8.2f}±{ea:4.1f} {vb:8.2f}±{eb:4.1f} {str(va < vb):>6} {str(clear):>18}")
        else:
            print(f"{a + '<' + b:<12} missing: {[n for n in (a, b) if n not in sp]}")
    dn = {r["name"]: float(r["donor_number_kcal_per_mol"])
          for r in csv.DictReader(open(ROOT / "src/solvscreen/dft/data/donor_numbers.csv"))}
    pts = [(n, dn[n], sp[n][0]) for n in sorted(dn) if n in sp]
    print("\nGutmann donor number vs solvating power")
    for n, d, s in pts:
        print(f"  {n:<6} DN {d:5.1f}  SP {s:7.2f}  n_last {rows[n]['n_last']}  {rows[n]['continuum']}")
    if len(pts) >= 3:
        from scipy.stats import spearmanr

        rho, p = spearmanr([d for _, d, _ in pts], [s for _, _, s in pts])
        print(f"Spearman rho = {rho:.2f} (p = {p:.2f}, n = {len(pts)})")
    cpu = []
    for rec in sorted((res / "solvation").glob("*/*.json")):
        r = json.loads(rec.read_text())
        cpu.append((r["timings"].get("cpu_s") or 0.0, r["timings"].get("wall_s") or 0.0, r["name"]))
    cpu.sort(reverse=True)
    print(f"\nsolvation records: {len(cpu)}, CPU {sum(c for c, _, _ in cpu):.0f} s in all, "
          f"wall {sum(w for _, w, _ in cpu):.0f} s in all (2 jobs at a time)")
    for c, w, n in cpu[:6]:
        print(f"  {n:<8} cpu {c:6.1f} s  wall {w:6.1f} s")
    stages = {}
    for rec in res.glob("*/**/*.json"):
        try:
            r = json.loads(rec.read_text())
        except (ValueError, OSError):
            continue
        if isinstance(r, dict) and "stage" in r and isinstance(r.get("timings"), dict):
            stages.setdefault(r["stage"], []).append(r["timings"].get("cpu_s") or 0.0)
    total = sum(sum(v) for v in stages.values())
    print("\nCPU seconds of every job record, per stage (the cost of a run independent of machine load):")
    for st, v in sorted(stages.items()):
        print(f"  {st:<12} {len(v):>3} jobs  {sum(v):7.1f} CPU-s  (max {max(v):6.1f})")
    print(f"  total {total:.0f} CPU-s: at least {total / 2:.0f} s of wall time on 2 cores")


if __name__ == "__main__":
    main(*sys.argv[1:])
