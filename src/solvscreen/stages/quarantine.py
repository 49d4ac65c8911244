"""Dead and unreadable records are set aside before a run, so that the run recomputes them.

Snakemake decides what to run from files and their times alone: a record that exists counts
as done, and a record that is missing is not recomputed either while the tables built from it
are present and newer. A record that is unreadable, lacks the record schema or its stage's
results, says its job died, misses a companion file it names
(:func:`solvscreen.stages.harness.record_problem`) or its companion directory is no result,
and an aggregate table that does not match the checksum beside it (:func:`find_bad_tables`)
is no table, so before the DAG is
built the workflow moves it, with its companion directory, into
``<results>/quarantine/<UTC time>/`` (same relative paths, and ``why.tsv`` saying why), and
moves the run's final tables there too: their rules then run again and ask for the missing
records, which are recomputed, and rebuild the tables; every other record stays and is not
recomputed. Nothing is deleted.

A job that dies every time (a molecule too large for its memory limit) would be recomputed by
every run, hours each for MD. :func:`triage_deaths` therefore counts, per record, the runs in
a row in which its job died (``<results>/quarantine/deaths.tsv``; a record found computed
resets its count): once the count reaches the config's ``max_job_deaths``, the died record is
kept in place as a failure (``error_type`` :data:`~solvscreen.stages.harness.DIED_REPEATEDLY`,
its reason says so and how to compute it again) instead of being set aside.
"""

from __future__ import annotations

import glob
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from ..core.records import Record, checksum_path, table_problem, write_text_atomic
from .harness import DIED_REPEATEDLY, JOB_DIED, record_problem

__all__ = ["DeadRecord", "find_bad_tables", "find_dead_records", "set_aside", "triage_deaths"]

QUARANTINE = "quarantine"


@dataclass(frozen=True)
class DeadRecord:
    path: Path
    reason: str

    @property
    def died(self) -> bool:
        """The record says its job died (not unreadable, not missing)."""
        return self.reason.startswith(JOB_DIED)


MISSING = "record missing, its directory remains (deleted or lost)"
NO_DIRECTORY = "companion directory missing (deleted or lost)"


def find_dead_records(patterns: Iterable[str], missing: bool = False) -> list[DeadRecord]:
    """Records matching the glob ``patterns`` (``.../*.json``) that cannot stand as their job's
    output (:func:`~solvscreen.stages.harness.record_problem`, or its companion directory
    ``X/`` of ``X.json`` is gone: every stage rule declares it); with ``missing``, also a record
    that is gone while its companion directory remains (Snakemake would not recompute either
    while the tables built from it exist)."""
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
            if reason is None and not path.with_suffix("").is_dir():
                reason = NO_DIRECTORY
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


def find_bad_tables(paths: Iterable[str | Path]) -> list[DeadRecord]:
    """The existing tables of ``paths`` that do not match the checksum written beside them
    (:func:`~solvscreen.core.records.table_problem`): truncated or changed after their rule
    wrote them. Snakemake would let the rules after them read them as they are."""
    return [DeadRecord(Path(p), reason) for p in paths if (reason := table_problem(p)) is not None]


def set_aside(dead: list[DeadRecord], results: str | Path, tables: Iterable[str | Path] = (),
              stamp: str | None = None, bad_tables: Iterable[DeadRecord] = ()) -> Path | None:
    """Move each dead record, its companion directory (``X.json`` -> ``X/``), each table of
    ``bad_tables`` and each existing table of ``tables`` (with their checksums) into
    ``<results>/quarantine/<stamp>/``; return that folder (``None`` when there is nothing to
    move). ``why.tsv`` there lists every record and bad table and its reason."""
    bad_tables = list(bad_tables)
    if not dead and not bad_tables:
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
    for t in bad_tables:
        lines.append(f"{_inside(t.path, results)}\t{t.reason}")
    for table in [*(t.path for t in bad_tables), *map(Path, tables)]:
        for path in (table, checksum_path(table)):
            _move(path, results, folder)
    (folder / "why.tsv").write_text("\n".join(lines) + "\n")
    return folder


# ---- jobs that die in run after run -------------------------------------------------------
DEATHS = "deaths.tsv"
"""``<results>/quarantine/deaths.tsv``: record (relative to the results) -> runs in a row in
which its job died."""


def read_deaths(results: str | Path) -> dict[str, int]:
    path = Path(results) / QUARANTINE / DEATHS
    if not path.exists():
        return {}
    rows = [line.split("\t") for line in path.read_text().splitlines()[1:] if line.strip()]
    return {rel: int(n) for rel, n in rows}


def _write_deaths(results: Path, deaths: dict[str, int]) -> None:
    path = results / QUARANTINE / DEATHS
    if not deaths:
        path.unlink(missing_ok=True)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, "record\tdeaths_in_a_row\n" + "".join(f"{r}\t{n}\n" for r, n in sorted(deaths.items())))


def _computed(path: Path) -> bool:
    """The record exists and stands as its job's output (a died record kept as a failure does not
    count: its job never finished)."""
    if not path.exists() or record_problem(path) is not None:
        return False
    try:
        failure = Record.read(path).failure or {}
    except (OSError, ValueError, KeyError):
        return False
    return failure.get("error_type") != DIED_REPEATEDLY


def keep_reason(rel: str, deaths: int, max_deaths: int, last: str) -> str:
    return (f"no record: its job died in {deaths} runs in a row (max_job_deaths = {max_deaths}), so the died "
            f"record is kept as a failure and not recomputed again; last: {last.removeprefix('no record: ')}. "
            f"To compute it once more, delete {rel} and run again")


def triage_deaths(dead: list[DeadRecord], results: str | Path, max_deaths: int,
                  write: bool = True) -> tuple[list[DeadRecord], list[DeadRecord]]:
    """Split ``dead`` into the records to set aside (and recompute) and the died records to keep.

    A died record is this job's death number n = 1 + the count in ``deaths.tsv``; with n >=
    ``max_deaths`` it is kept, else set aside with n in its reason. Unreadable and missing
    records are always set aside and never counted. A counted record that is now computed
    (ok, or a failed calculation) loses its count. With ``write``, ``deaths.tsv`` is updated
    and each kept record rewritten in place (``error_type`` ``died_repeatedly``, a reason
    that says why and how to compute it again); without, nothing is changed (a dry run)."""
    results = Path(results)
    deaths = read_deaths(results)
    dead_rels = {str(_inside(d.path, results)) for d in dead}
    for rel in [r for r in deaths if r not in dead_rels and _computed(results / r)]:
        del deaths[rel]
    aside: list[DeadRecord] = []
    keep: list[DeadRecord] = []
    for d in dead:
        if not d.died:
            aside.append(d)
            continue
        rel = str(_inside(d.path, results))
        n = deaths[rel] = deaths.get(rel, 0) + 1
        if n >= max_deaths:
            keep.append(DeadRecord(d.path, f"{d.reason}; died in {n} runs in a row: kept as a failure "
                                           f"(max_job_deaths = {max_deaths})"))
            if write:
                record = Record.read(d.path)
                last = (record.failure or {}).get("reason", "no record: job died")
                record.failure = {"error_type": DIED_REPEATEDLY, "reason": keep_reason(rel, n, max_deaths, last)}
                record.write(d.path)
        else:
            aside.append(DeadRecord(d.path, f"{d.reason}; died in {n} run(s) in a row, kept as a failure "
                                            f"at {max_deaths}"))
    if write:
        _write_deaths(results, deaths)
    return aside, keep
