#!/usr/bin/env python
"""The chemistry checks of a classification and a ranking, as tables (issue 24).

    python bench/label_checks.py RESULTS [--library molecules/library.csv]

Reads RESULTS/classification.csv, calibration.json and ranking.csv (each when present) and prints:
grid rows per label (with the confidence), accuracy per reference set (calibration and
generalization apart), and the checks: neat 1,4-dioxane not WSE, no confident HCE where the
salt is not shown to dissolve, no carbonate or other pi-donor among the diluents or undecided
roles, no glyme blend WSE or LHCE; then the top of the solvent ranking and where named
solvents sit, with their rank bands. Run it on two results directories to compare.
"""

from __future__ import annotations

import argparse
import csv
import json
from collections import Counter
from pathlib import Path

GLYMES = {"DME", "DEE", "DBE", "DGM", "TREGDME", "TEGDME", "DGT", "DMM"}
WATCH = ("DME", "DGM", "DEE", "TFP", "TEGDME", "DX")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("results", type=Path)
    ap.add_argument("--library", default=Path(__file__).resolve().parents[1] / "molecules" / "library.csv")
    ns = ap.parse_args()
    from solvscreen.complexes import pi_donor_group
    from solvscreen.xtb.structures import mol_from_smiles
    from solvscreen.inputs.library import load_library

    lib = load_library(ns.library)
    cls = ns.results / "classification.csv"
    if cls.is_file():
        rows = list(csv.DictReader(cls.open()))
        grid = [r for r in rows if r["origin"] == "grid"]
        counts = Counter((r["label"] or f"no class ({r['status']})", r["confidence"]) for r in grid)
        print(f"grid rows per label ({len(grid)}):")
        for (label, conf), n in sorted(counts.items(), key=lambda t: -t[1]):
            print(f"  {label:<22} {conf or '-':<5} {n:4d}")
        by_label = Counter(r["label"] or "no class" for r in grid)
        print("  by label: " + ", ".join(f"{k} {v}" for k, v in by_label.most_common()))
        dx = [r for r in rows if r["components"] == "DX:1"]
        print("neat DX: " + "; ".join(f"{r['id']} {r['label'] or 'no class'} {r['confidence']}" for r in dx))
        hce = [r for r in rows if r["label"] == "HCE" and r["confidence"] == "high"]
        print(f"confident HCE rows ({len(hce)}): " + ", ".join(r["id"] for r in hce))
        bad = []
        for r in rows:
            if "|" not in r["components"]:  # a lone solvent is never a diluent (every-diluent case excluded)
                continue
            for n in filter(None, (r["diluents"] + "|" + r["undecided_roles"]).split("|")):
                g = pi_donor_group(mol_from_smiles(lib.resolve(n).smiles))
                if g:
                    bad.append(f"{r['id']}:{n} ({g})")
        print(f"pi-donor (carbonate, P=O, S=O, C#N) diluent or undecided roles in blends ({len(bad)}): " + ", ".join(bad))
        blends = [r for r in rows if len(r["components"].split("|")) > 1
                  and all(c.split(":")[0] in GLYMES for c in r["components"].split("|"))]
        print("glyme blends: " + "; ".join(f"{r['id']} {r['label'] or 'no class'} {r['confidence']}" for r in blends))
    cal = ns.results / "calibration.json"
    if cal.is_file():
        c = json.loads(cal.read_text())
        for mode, summ in (("descriptors", c.get("summary")), ("with MD", c.get("summary_with_md"))):
            if not summ:
                continue
            for s in ("calibration", "leave_one_out", "generalization"):
                a = summ.get(s) or {}
                print(f"accuracy {mode:<11} {s:<15} n {a.get('n', 0):2d}  right {a.get('n_right', 0):2d}  "
                      f"two-class {a.get('n_two_class', 0):2d}  wrong {a.get('n_wrong', 0):2d}  "
                      f"confidently wrong {a.get('n_confidently_wrong', 0)}")
        for r in c.get("cases", []):
            print(f"  {r['set']:<14} {r['id']:<22} {r['reported_class']:<5} -> {r['label'] or 'no class'} "
                  f"({r['confidence'] or r['status']}) {r['outcome']}")
    rank = ns.results / "ranking.csv"
    if rank.is_file():
        rr = [r for r in csv.DictReader(rank.open()) if r.get("group") == "solvent" and r.get("status") == "ok"]
        empty = [k for k in (rr[0] if rr else {}) if not any(r.get(k) for r in csv.DictReader(rank.open()))]
        print(f"ranking.csv empty columns: {empty}")
        band = lambda r: r.get("rank_band") or r.get("rank")  # noqa: E731
        err = lambda r: f" ± {float(r['score_err']):.2f}" if r.get("score_err") else ""  # noqa: E731
        print("solvent ranking, top 10:")
        for r in rr[:10]:
            print(f"  {r['rank']:>3} band {band(r):<6} {r['name']:<8} {r['k_metal']:<9} score "
                  f"{float(r['score']):.3f}{err(r)}  tied with {r.get('tied_with', '')}")
        for n in WATCH:
            r = next((x for x in rr if x["name"] == n), None)
            if r:
                print(f"  {n:<7} rank {r['rank']} band {band(r)} {r['k_metal']} score {float(r['score']):.3f}{err(r)}"
                      f" tied with {r.get('tied_with', '')}")
        notes = {n for r in rr for n in (r.get("terms_weighing_nothing") or "").split("; ") if n}
        for n in sorted(notes):
            print(f"  note: {n}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
