"""The design-pair orderings of issue 23 from a pmf.csv, and the Spearman correlation with
Gutmann donor numbers.

    python bench/pmf_orderings.py PMF_CSV [--salt KFSI]

For each pair (weaker, stronger) the review's design rules expect, the difference of their
dG_assoc (kcal/mol; more negative = the anion pairs with K+ more = the weaker solvent) with an
interval: within one run both are measured against the same reference (DME), so
dG(weaker) - dG(stronger) = ddG(weaker) - ddG(stronger); the interval adds both runs'
half-widths (bootstrap and half-drift, md.pmf_stage.difference) in quadrature. The verdict
is "as expected" when the whole interval is below 0, "reversed" when above, otherwise
"not resolved"; a pair with a PMF still steeper than kT per A over its outer 2 A (the
classifier's check) is marked not usable. Pairs with a solvent missing from the table are listed as not measured.
The Spearman rank correlation is of dG_assoc with the donor number (dft/data/donor_numbers.csv,
Gutmann 1976 / Marcus 1984) over the solvents that have both: a stronger donor should hold
K+ more strongly, so pair less (a positive correlation).
"""
from __future__ import annotations

import argparse
import csv
import math
import sys
from pathlib import Path

from solvscreen.classify.rules import THRESHOLDS
from solvscreen.core.records import parse_number
from solvscreen.dft.calibrate import donor_numbers

#: the classifier's check (classification.pmf_outer_mean_force_max_kcal_per_mol_A): kT per A at 298 K
OUTER_FORCE_MAX = THRESHOLDS["pmf_outer_mean_force_max_kcal_per_mol_A"].default

#: (weaker, stronger): the review's design pairs and the strong-to-weak chain of issue 23
PAIRS = [("DEE", "DME"), ("MME", "DME"), ("TTE", "DME"), ("DMM", "DGM"), ("TFP", "TEP"), ("FEC", "EC"),
         ("DME", "DMSO")]


def spearman(x: list[float], y: list[float]) -> float | None:
    def ranks(v):
        order = sorted(range(len(v)), key=lambda i: v[i])
        r = [0.0] * len(v)
        i = 0
        while i < len(v):
            j = i
            while j + 1 < len(v) and v[order[j + 1]] == v[order[i]]:
                j += 1
            for k in range(i, j + 1):
                r[order[k]] = (i + j) / 2 + 1
            i = j + 1
        return r

    if len(x) < 3:
        return None
    rx, ry = ranks(x), ranks(y)
    mx, my = sum(rx) / len(rx), sum(ry) / len(ry)
    num = sum((a - mx) * (b - my) for a, b in zip(rx, ry))
    den = math.sqrt(sum((a - mx) ** 2 for a in rx) * sum((b - my) ** 2 for b in ry))
    return num / den if den else None


def load(path: Path, salt: str) -> dict[str, dict]:
    out = {}
    for r in csv.DictReader(path.open()):
        if r.get("salt") != salt or (r.get("status") or "ok") != "ok":
            continue
        dg = parse_number(r.get("dg_assoc_kcal_per_mol"))
        if dg is None:
            continue
        is_ref = not r.get("reference_solvent")
        ddg = 0.0 if is_ref else parse_number(r.get("ddg_vs_reference_kcal_per_mol"))
        lo, hi = parse_number(r.get("dg_assoc_lo_kcal_per_mol")), parse_number(r.get("dg_assoc_hi_kcal_per_mol"))
        a, b = (parse_number(r.get(f"dg_assoc_{h}_half_kcal_per_mol")) for h in ("first", "second"))
        half = math.hypot((hi - lo) / 2, abs(a - b) / 2 if None not in (a, b) else 0.0)
        out[r["solvent"]] = {"dg": dg, "ddg": ddg, "half": half, "converged": r.get("converged"),
                             "cpu_hours": parse_number(r.get("cpu_hours")),
                             "outer_force": parse_number(r.get("outer_mean_force_kcal_per_mol_A"))}
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("pmf_csv", type=Path)
    ap.add_argument("--salt", default="KFSI")
    a = ap.parse_args(argv)
    v = load(a.pmf_csv, a.salt)
    print("| weaker (expected) | stronger | dG(weaker) - dG(stronger) kcal/mol [95 %] | verdict |")
    print("| --- | --- | --- | --- |")
    for weak, strong in PAIRS:
        if weak not in v or strong not in v:
            miss = [n for n in (weak, strong) if n not in v]
            print(f"| {weak} | {strong} | – | not measured ({', '.join(miss)}) |")
            continue
        d = v[weak]["dg"] - v[strong]["dg"]
        h = math.hypot(v[weak]["half"], v[strong]["half"])
        verdict = "as expected" if d + h < 0 else ("reversed" if d - h > 0 else "not resolved")
        steep = [m for m in (weak, strong) if (v[m]["outer_force"] or 0.0) > OUTER_FORCE_MAX]
        if steep:
            verdict += (f"; not usable: {', '.join(steep)}'s PMF still rises by more than {OUTER_FORCE_MAX} kcal/mol "
                        "per A over its outer 2 A")
        print(f"| {weak} | {strong} | {d:+.2f} [{d - h:+.2f}, {d + h:+.2f}] | {verdict} |")
    dn = donor_numbers()
    both = sorted(n for n in v if n in dn)
    rho = spearman([v[n]["dg"] for n in both], [dn[n] for n in both])
    print(f"\nSpearman(dG_assoc, Gutmann DN) over {len(both)} solvents ({', '.join(both) or 'none'}): "
          + ("– (fewer than 3)" if rho is None else f"{rho:+.2f}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
