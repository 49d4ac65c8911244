#!/usr/bin/env python
"""The classification-settings walk, measured: which source files read the classification
settings while formulations are classified, and how often the reading leaves a file and
comes back to it.

Every read of a field of :class:`~solvscreen.classify.ClassificationSettings` (and of its
``composition`` section) is recorded with the file of the code that reads it. Consecutive
reads from one file are one *visit*; the walk of one formulation is its sequence of visits.
Printed: the files the walks visit, the visits per file, and the *returns* (visits to a file
the walk of that formulation had already left: its visits minus its distinct files), summed
over the formulations.

    python bench/settings_walk.py                       # the default run's tables in results/
    python bench/settings_walk.py RESULTS --formulation LHCE-DME-TTE
    python bench/settings_walk.py --static              # files that read a threshold, from the source

``--static`` counts, per source file under the imported ``solvscreen``, the attribute reads
``x.<name>`` of a threshold (a key of ``rules.THRESHOLDS``, or ``use_md``): every path,
MD and calibration included, without running anything.

Scope: ``classify_formulation`` of one formulation (default: every calibration formulation of
the formulation table, one walk each, summed), with the diluent threshold the calibration fits.
The code under measurement is whatever ``solvscreen`` imports (``PYTHONPATH``), so the same
script measures two checkouts.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def instrument(classes, log: list[str]) -> None:
    """Record the caller's file of every read of a dataclass field of ``classes``."""
    import dataclasses

    for cls in classes:
        names = {f.name for f in dataclasses.fields(cls)}
        base = cls.__getattribute__

        def getattribute(self, name, _names=names, _base=base):
            if name in _names:
                frame = sys._getframe(1)
                log.append(frame.f_code.co_filename)
            return _base(self, name)

        cls.__getattribute__ = getattribute


def walk(files: list[str]) -> list[str]:
    """The visits: consecutive reads from one file collapsed."""
    out: list[str] = []
    for f in files:
        if not out or out[-1] != f:
            out.append(f)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("results", nargs="?", type=Path, default=ROOT / "results")
    ap.add_argument("--library", type=Path, default=ROOT / "molecules" / "library.csv")
    ap.add_argument("--formulations", type=Path, default=ROOT / "molecules" / "formulations.csv")
    ap.add_argument("--formulation", action="append", help="formulation id (repeatable); default: the calibration set")
    ap.add_argument("--static", action="store_true", help="count threshold reads in the source instead")
    ns = ap.parse_args()
    if ns.static:
        return static()

    import solvscreen
    from solvscreen.classify import ClassificationSettings, classify_formulation, read_evidence
    from solvscreen.classify.calibration import calibrate_and_report
    from solvscreen.classify.solubility import reported_formulations
    from solvscreen.inputs.composition import CompositionSettings
    from solvscreen.inputs.formulations import load_formulations
    from solvscreen.inputs.library import load_library

    src = Path(solvscreen.__file__).resolve().parent
    r = ns.results
    evidence = read_evidence(r / "descriptors.csv", r / "binding.csv", r / "shells.csv",
                             solvating_power=r / "solvating_power.csv")
    library = load_library(ns.library)
    forms = load_formulations(ns.formulations, library)
    settings = ClassificationSettings()
    d_max, _ = calibrate_and_report(forms, library.resolve, evidence, settings)
    chosen = ([f for f in forms if f.id in set(ns.formulation)] if ns.formulation
              else [f for f in forms if getattr(f, "set", None) == "calibration"])
    known = reported_formulations(forms)

    log: list[str] = []
    instrument((ClassificationSettings, CompositionSettings), log)
    visits: list[str] = []
    returns = 0
    for f in chosen:
        log.clear()
        classify_formulation(f, library.resolve, evidence, settings, diluent_bind_max=d_max, known=known)
        w = walk([str(Path(p).resolve().relative_to(src)) if p.startswith(str(src)) else p for p in log])
        visits += w
        returns += len(w) - len(set(w))
    per_file = Counter(visits)
    print(f"code: {src}")
    print(f"formulations walked: {len(chosen)}")
    print(f"{'file':<32} visits")
    for name, n in sorted(per_file.items(), key=lambda t: (-t[1], t[0])):
        print(f"{name:<32} {n:6d}")
    n = max(1, len(chosen))
    print(f"files {len(per_file)}; visits {len(visits)} ({len(visits) / n:.1f} per formulation); "
          f"returns {returns} ({returns / n:.1f} per formulation: visits to a file the walk had left)")
    return 0


def static() -> int:
    import ast

    import solvscreen
    from solvscreen.classify.rules import THRESHOLDS

    src = Path(solvscreen.__file__).resolve().parent
    keys = set(THRESHOLDS) | {"use_md"}
    files = {}
    for p in sorted(src.rglob("*.py")):
        n = sum(isinstance(node, ast.Attribute) and node.attr in keys and isinstance(node.ctx, ast.Load)
                for node in ast.walk(ast.parse(p.read_text())))
        if n:
            files[str(p.relative_to(src))] = n
    print(f"code: {src}")
    for name, n in files.items():
        print(f"{name:<32} {n:6d}")
    print(f"files {len(files)}; threshold reads {sum(files.values())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
