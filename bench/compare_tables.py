#!/usr/bin/env python
"""Compare the tables of two results directories cell by cell, timing columns left out.

    python bench/compare_tables.py RESULTS_A RESULTS_B

Reads every ``*.csv`` at the top of both directories (and ``calibration.json``). Columns
that measure the run rather than the chemistry (wall times, time inside xTB, CPU time,
record paths) are not compared; every other cell must be equal as text, after the two
directory paths are replaced by a placeholder. Prints one line per table and every cell
that differs; exits 1 if any does.
"""

from __future__ import annotations

import csv
import json
import re
import sys
from pathlib import Path

VOLATILE = re.compile(r"(^|_)(wall|xtb|cpu)(_[a-z]+)?_s$|^wall_s$|^record$|^geometry_xyz$|_hours$|ns_per_day")


def rows(path: Path, root: Path) -> tuple[list[str], list[dict]]:
    with path.open(newline="") as fh:
        reader = csv.DictReader(fh)
        out = [{k: (v or "").replace(str(root), "<results>") for k, v in r.items()} for r in reader]
        return list(reader.fieldnames or []), out


def compare(a: Path, b: Path) -> int:
    bad = 0
    names = sorted({p.name for p in a.glob("*.csv")} | {p.name for p in b.glob("*.csv")})
    for name in names:
        if not (a / name).is_file() or not (b / name).is_file():
            print(f"{name}: only in {'B' if not (a / name).is_file() else 'A'}")
            bad += 1
            continue
        ca, ra = rows(a / name, a)
        cb, rb = rows(b / name, b)
        cols = [c for c in ca if not VOLATILE.search(c)]
        diffs = []
        if ca != cb:
            diffs.append(f"  columns differ: {sorted(set(ca) ^ set(cb))}")
        if len(ra) != len(rb):
            diffs.append(f"  rows: {len(ra)} vs {len(rb)}")
        for i, (x, y) in enumerate(zip(ra, rb)):
            for c in cols:
                if x.get(c) != y.get(c):
                    diffs.append(f"  row {i + 1} ({x.get('name') or x.get('id')}) {c}: {x.get(c)!r} != {y.get(c)!r}")
        n_cells = len(ra) * len(cols)
        print(f"{name}: {len(ra)} rows x {len(cols)} compared columns = {n_cells} cells, "
              f"{len(diffs)} differences (left out: {[c for c in ca if VOLATILE.search(c)]})")
        for d in diffs[:20]:
            print(d)
        bad += bool(diffs)
    for name in ("calibration.json",):
        if (a / name).is_file() and (b / name).is_file():
            ja = json.loads((a / name).read_text().replace(str(a), "<results>"))
            jb = json.loads((b / name).read_text().replace(str(b), "<results>"))
            same = ja == jb
            print(f"{name}: {'identical' if same else 'DIFFERENT'}")
            bad += not same
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(compare(Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve()))
