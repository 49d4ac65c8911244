"""Preferential solvation of K+ in an equimolar blend of two solvents (issue 23's observable b),
to set beside the K+-anion PMF (observable a) and choose between them by the numbers.

    python bench/bench_prefsolv.py OUT_DIR DME DEE [--ns 0.9] [--salt KFSI] [--threads 1] [--cache DIR]
    python bench/bench_prefsolv.py OUT_DIR --csv prefsolv.csv     # the table of the finished runs

One K+ and one anion in an equimolar A:B blend filling a ~24 A cube (ideal mixing of the
library densities), the md.pmf screening force field and protocol (GAFF2/AM1-BCC, ions x 0.8,
HMR 4 fs, 298.15 K, 1 bar). The anion is held beyond 9 A of K+ by a flat-bottom restraint, so
the K+ shell is the two solvents' competition only. Every ps: the solvent molecules with an
O atom within ``--shell-A`` of K+ (4.1 A: the first minimum of the K+-solvent O g(r) that the MD
stage measures with this force field, 4.1-4.2 A). Printed:

- the shell mole fraction of B against its bulk one (0.5), and
  ddG(B - A) = -RT ln[(x_B,shell / x_A,shell) / (x_B,bulk / x_A,bulk)] (kcal/mol; positive = the
  shell prefers A: B is the weaker solvent), with a block error (5 blocks) and the
  first-half/second-half values;
- the number of exchanges (a molecule entering the shell after at least 2 ps outside), per
  species: the count that says whether the average is an equilibrium one or the initial
  packing's;
- the cost (ns, CPU-h).

The first ``--discard-ps`` (default 50) after a 20 ps start are not used. The protocol and its
analysis are solvscreen.md.prefsolv; this script runs it and writes OUT_DIR/A-B-SALT.json.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from solvscreen.inputs.library import load_library
from solvscreen.md.pair_box import Component
from solvscreen.md.pmf import pmf_settings
from solvscreen.md.prefsolv import run_prefsolv, write_prefsolv_table

ROOT = Path(__file__).resolve().parents[1]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("a", nargs="?", help="the solvating partner (e.g. DME)")
    ap.add_argument("b", nargs="?", help="the candidate whose share of the K+ shell is measured")
    ap.add_argument("--salt", default="KFSI")
    ap.add_argument("--ns", type=float, default=0.9)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--shell-A", type=float, default=4.1)
    ap.add_argument("--cache", type=Path, default=None, help="GAFF2/AM1-BCC parameter cache (default OUT/cache)")
    ap.add_argument("--discard-ps", type=float, default=50.0)
    ap.add_argument("--csv", type=Path, help="write prefsolv.csv (for `solvscreen classify --prefsolv`) from every "
                                             "finished A-B-SALT.json under OUT_DIR; with no A B, run nothing")
    x = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if x.a is None or x.b is None:
        if not x.csv:
            ap.error("give A and B to run, or --csv to tabulate")
        return _table(x.out, x.csv)
    out = x.out / f"{x.a}-{x.b}-{x.salt}"
    out.mkdir(parents=True, exist_ok=True)
    lib = load_library([ROOT / "molecules" / "library.csv"])
    comp = lambda m: Component(m.name, m.smiles, m.density_g_per_mL)  # noqa: E731
    sm = lib.resolve(x.salt)
    res = run_prefsolv(comp(lib.resolve(x.a)), comp(lib.resolve(x.b)), comp(lib.resolve(sm.anion)),
                       comp(lib.resolve(sm.cation)), pmf_settings("screening", threads=x.threads), out,
                       ns=x.ns, shell_A=x.shell_A, discard_ps=x.discard_ps, salt=sm.name,
                       cache_dir=x.cache or x.out / "cache")
    text = json.dumps(res.as_dict(), indent=1)
    (x.out / f"{x.a}-{x.b}-{x.salt}.json").write_text(text)
    print(text)
    return _table(x.out, x.csv) if x.csv else 0


def _table(out: Path, csv_path: Path) -> int:
    recs = [json.loads(p.read_text()) for p in sorted(out.rglob("*.json"))]
    recs = [r for r in recs if isinstance(r, dict) and {"a", "b", "ddg_b_minus_a_kcal_per_mol"} <= set(r)]
    rows = write_prefsolv_table(recs, csv_path)
    print("| A | B | salt | shell A, B | ddG(B-A) kcal/mol [95 %] | B shell/bulk share [95 %] | entries A, B | "
          "converged | ns | CPU-h |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        ok = r["status"] == "ok"
        if not ok:
            dd = "–"
        elif r.get("interval_method") == "entry bound":  # B never or rarely entered: a lower bound only
            dd = f"≥ {r['ddg_lo_kcal_per_mol']:+.2f} (entry bound)"
        else:
            dd = (f"{r['ddg_b_minus_a_kcal_per_mol']:+.2f} [{r['ddg_lo_kcal_per_mol']:+.2f}, "
                  f"{r['ddg_hi_kcal_per_mol']:+.2f}]")
        sh = (f"{r['shell_share_ratio_b']:.2f} [{r['shell_share_ratio_b_lo']:.2f}, {r['shell_share_ratio_b_hi']:.2f}]"
              if ok else "–")
        print(f"| {r['solvent_a']} | {r['solvent_b']} | {r['salt']} | {r['mean_shell_a']:.2f}, {r['mean_shell_b']:.2f} "
              f"| {dd} | {sh} | {r['exchanges_a']}, {r['exchanges_b']} | "
              f"{'yes' if r['converged'] else 'no: ' + r['convergence_reason']} | {r['ns_production']} | "
              f"{r['cpu_hours']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
