#!/usr/bin/env python
"""Design from a parent: derivatives per parent, what each filter removed, enumeration time, and
(with ``--results``) the cost of computing a parent's set in the default stages.

Per parent (default strategies, ``--max-steps``): products made, duplicates (by InChIKey),
distinct derivatives, how many each filter removed (a derivative failing two filters counts in
both), how many pass, how many of those are new (not library rows), the review's designs found,
and the wall time of enumeration + screening.

With ``--results DIR`` (a finished run, e.g. the default run's results): the per-molecule wall
time of the default stages for the run's solvents (structure + properties from
descriptors.csv, K+ binding from binding.csv, solvation from solvating_power.csv), its median,
and the estimate for each parent's new passing set = n x median, as single-thread job seconds
and as wall time on ``--cores`` cores (jobs run in parallel, one thread each); and where each of
the review's designs ranks among its parent's computed derivatives on each descriptor the run has
(E_ox vs K+/K, LUMO in ALPB, solvating power: larger, larger, smaller is better), with the members
within the ranking's resolution of it (0.4 V, 0.8 eV, 3 kcal/mol), which that descriptor cannot order.

    python bench/bench_design.py
    python bench/bench_design.py --results results --cores 2
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from solvscreen.core.records import parse_number
from solvscreen.core.result_tables import read_rows
from solvscreen.design.library import FILTERS, DesignSettings, run_design
from solvscreen.inputs.library import load_library
from solvscreen.report.design import REVIEW_DESIGNS

ROOT = Path(__file__).resolve().parent.parent


def stage_costs(results: Path) -> dict[str, float]:
    """{solvent name: wall seconds of structure + properties + binding + solvation} (rows with all four)."""
    out: dict[str, list[float | None]] = {}
    for r in read_rows(results / "descriptors.csv"):
        if r.get("kind") == "solvent":
            out[r["name"]] = [parse_number(r.get("structure_wall_s")), parse_number(r.get("properties_wall_s"))]
    for table in ("binding.csv", "solvating_power.csv"):
        seen = set()
        for r in read_rows(results / table):
            if r.get("name") in out and r["name"] not in seen and (r.get("cation") or "").startswith("K"):
                out[r["name"]].append(parse_number(r.get("wall_s")))
                seen.add(r["name"])
    return {n: sum(v) for n, v in out.items() if len(v) == 4 and all(x is not None for x in v)}


#: descriptor, better direction (+1 larger), resolution (the ranking's eps), unit
RANK_BY = (("E_ox_vs_K_V", +1, 0.4, "V"), ("lumo_alpb_eV", +1, 0.8, "eV"),
           ("solvating_power_kcal_per_mol", -1, 3.0, "kcal/mol"))


def review_ranks(designs, results: Path) -> list[str]:
    """Lines: each review design's rank among its parent's computed members, per descriptor."""
    values: dict[str, dict[str, float]] = {}
    for r in read_rows(results / "descriptors.csv"):
        values[r["name"]] = {k: parse_number(r.get(k)) for k in ("E_ox_vs_K_V", "lumo_alpb_eV")}
    for r in read_rows(results / "solvating_power.csv"):
        if r.get("name") in values and (r.get("cation") or "").startswith("K"):
            values[r["name"]]["solvating_power_kcal_per_mol"] = parse_number(r.get("solvating_power_kcal_per_mol"))
    lines = []
    for d in designs:
        members = [d.parent] + [e.name for e in d.passed]
        for e in d.passed:
            if REVIEW_DESIGNS.get(e.derivative.library_name) != d.parent:
                continue
            for key, sign, eps, unit in RANK_BY:
                got = {m: values[m][key] for m in members if values.get(m, {}).get(key) is not None}
                if e.name not in got:
                    lines.append(f"{d.parent:7} {e.name:7} {key:30} not computed")
                    continue
                mine = got[e.name]
                better = sum(1 for v in got.values() if sign * (v - mine) > eps)
                tied = sum(1 for m, v in got.items() if m != e.name and abs(v - mine) <= eps)
                lines.append(f"{d.parent:7} {e.name:7} {key:30} {mine:8.2f} {unit:8} rank {better + 1:>3} of {len(got):>3}"
                             f" ({tied} within {eps:g} {unit}: not ordered)")
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("parents", nargs="*", default=["DME", "DGM", "TEP", "EC", "EMC"])
    ap.add_argument("--max-steps", type=int, default=2)
    ap.add_argument("--library", default=str(ROOT / "molecules" / "library.csv"))
    ap.add_argument("--results", help="a finished run's results directory (per-molecule stage costs)")
    ap.add_argument("--cores", type=int, default=2)
    ns = ap.parse_args(argv)
    library = load_library(ns.library)
    settings = DesignSettings(max_steps=ns.max_steps)
    head = (f"{'parent':7} {'products':>8} {'dupes':>5} {'distinct':>8} "
            + " ".join(f"{f:>9}" for f in FILTERS) + f" {'pass':>5} {'new':>4} {'time_s':>7}  review designs found")
    print(f"design, default strategies, max_steps {ns.max_steps}")
    print(head)
    designs = []
    for parent in ns.parents:
        t0 = time.perf_counter()
        d = run_design(parent, library, settings)
        dt = time.perf_counter() - t0
        designs.append(d)
        e, rem = d.enumeration, d.removed_by()
        found = sorted({x.derivative.library_name for x in d.entries if REVIEW_DESIGNS.get(x.derivative.library_name) == d.parent})
        print(f"{d.parent:7} {e.n_products:>8} {e.n_duplicates:>5} {len(d.entries):>8} "
              + " ".join(f"{rem[f]:>9}" for f in FILTERS)
              + f" {len(d.passed):>5} {len(d.new_passed):>4} {dt:>7.2f}  {', '.join(found) or '-'}")
    if ns.results:
        print("\nthe review's designs among their parents' computed members (rank 1 = best; "
              "members better by more than the resolution come first)")
        for line in review_ranks(designs, Path(ns.results)):
            print(line)
        costs = stage_costs(Path(ns.results))
        if not costs:
            print(f"\n{ns.results}: no solvent with all four stage timings")
            return 0
        med = statistics.median(costs.values())
        print(f"\nper-solvent wall time of structure+properties+binding+solvation in {ns.results} "
              f"({len(costs)} solvents): median {med:.0f} s, min {min(costs.values()):.0f} s, "
              f"max {max(costs.values()):.0f} s (single thread)")
        print(f"{'parent':7} {'new':>4} {'job_s':>8} {f'wall_h_{ns.cores}cores':>14}")
        for d in designs:
            n = len(d.new_passed)
            print(f"{d.parent:7} {n:>4} {n * med:>8.0f} {n * med / ns.cores / 3600:>14.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
