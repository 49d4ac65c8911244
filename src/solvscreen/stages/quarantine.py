"""Dead and unreadable records are set aside before a run, so that the run recomputes them.

Snakemake decides what to run from files and their times alone: a record that exists counts
as done, and a record that is missing is not recomputed either while the tables built from it
are present and newer. A record that is unreadable, lacks the record schema, or says its job
died (:func:`solvscreen.stages.harness.record_problem`) is no result, so before the DAG is
built the workflow moves it, with its companion directory, into
``<results>/quarantine/<UTC time>/`` (same relative paths, and ``why.tsv`` saying why), and
moves the run's final tables there too: their rules then run again and ask for the missing
records, which are recomputed; every other record stays and is not recomputed. Nothing is
deleted.
"""

from __future__ import annotations

import glob
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from .harness import record_problem

__all__ = ["DeadRecord", "find_dead_records", "set_aside"]

QUARANTINE = "quarantine"


@dataclass(frozen=True)
class DeadRecord:
    path: Path
    reason: str


MISSING = "record missing, its directory remains (deleted or lost)"


def find_dead_records(patterns: Iterable[str], missing: bool = False) -> list[DeadRecord]:
    """Records matching the glob ``patterns`` (``.../*.json``) that cannot stand as their job's
    output; with ``missing``, also a record that is gone while its companion directory remains
    (Snakemake would not recompute it while the tables built from it exist)."""
    found: dict[Path, DeadRecord] = {}
    for pattern in patterns:
        names = set(glob.glob(pattern))
        if missing and pattern.endswith(".json"):
            names |= {f"{d}.json" for d in glob.glob(pattern[: -len(".json")]) if Path(d).is_dir()}
        for name in sorted(names):
            path = Path(name)
            if path in found or QUARANTINE in path.parts or path.is_dir():
                continue
            reason = record_problem(path) if path.exists() else MISSING
            if reason is not None:
                found[path] = DeadRecord(path, reason)
    return list(found.values())


def _inside(path: Path, results: Path) -> Path:
    try:
        return path.resolve().relative_to(results.resolve())
    except ValueError:
        return Path(path.name)


def _move(path: Path, results: Path, folder: Path) -> Path | None:
    if not path.exists():
        return None
    target = folder / _inside(path, results)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(path), str(target))
    return target


def set_aside(dead: list[DeadRecord], results: str | Path, tables: Iterable[str | Path] = (),
              stamp: str | None = None) -> Path | None:
    """Move each dead record, its companion directory (``X.json`` -> ``X/``) and each existing
    table of ``tables`` into ``<results>/quarantine/<stamp>/``; return that folder (``None``
    when there is nothing to move). ``why.tsv`` there lists every record and its reason."""
    if not dead:
        return None
    results = Path(results)
    stamp = stamp or time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    folder = results / QUARANTINE / stamp
    n = 1
    while folder.exists():
        folder = results / QUARANTINE / f"{stamp}-{n}"
        n += 1
    folder.mkdir(parents=True)
    lines = ["record\treason"]
    for d in dead:
        _move(d.path.with_suffix(""), results, folder)  # the companion directory
        _move(d.path, results, folder)
        lines.append(f"{_inside(d.path, results)}\t{d.reason}")
    for table in map(Path, tables):
        if table.exists():
            _move(table, results, folder)
    (folder / "why.tsv").write_text("\n".join(lines) + "\n")
    return folder
