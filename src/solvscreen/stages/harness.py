"""One harness for every stage: record, failure capture, engine, counters, provenance, files.

A stage is written as a function ``compute(ctx) -> StageResult``::

    def compute(ctx: StageContext) -> MyResult:
        engine = ctx.engine(engine_settings)          # xTB engine; counted, in provenance
        ...                                           # chemistry
        ctx.write_file("xyz", ".xyz", xyz_text)       # a declared companion file
        return MyResult(...)

    record = run_stage("mystage", name, out, compute, inputs={...}, settings={...},
                       requires=[upstream_record])

:func:`run_stage` then

* builds the :class:`~solvscreen.core.records.Record` (stage, name, inputs, settings),
* refuses to start when an upstream record it ``requires`` failed (the failure carries
  the upstream reason, ``error_type = "<upstream stage>:<type>"``),
* turns a :class:`~solvscreen.core.errors.CalculationFailed` or an unexpected exception into a
  failed record (input errors, :class:`~solvscreen.core.errors.SolvscreenError`, still raise:
  they are the user's to fix),
* adds the counters of every engine made through ``ctx.engine`` (gradients, single points,
  SCF retries, seconds inside xTB) and its provenance,
* stores the typed result as ``record.results`` (``StageResult.to_results()``),
* writes the record atomically to ``out``.

Companion files (geometries, trajectories, logs of external programs) go into one
directory per record, ``files_dir`` (default: ``out`` without its suffix, e.g.
``structures/DME.json`` -> ``structures/DME/``), so two records never share a file as long
as record names are file-safe (no ``.`` or ``/``; the library enforces it). The Snakemake
rule declares that directory as an output. A job that dies before writing its record is
turned into a failure record by :func:`write_died_record` (called from the rule's shell
fallback), and aggregation reads records with :func:`read_record`, which turns a missing
or unreadable record into a failure row ("no record: job died") instead of an error. Before
the next run such records are no result (:func:`record_problem`): the workflow sets them aside
and recomputes them (:mod:`solvscreen.stages.quarantine`).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from ..core.errors import CalculationFailed, SolvscreenError
from ..core.records import Record, StageResult, capture_failure, schema_problem, write_text_atomic

__all__ = [
    "StageContext",
    "StageResult",
    "missing_record",
    "read_record",
    "record_problem",
    "run_stage",
    "write_died_record",
    "DIED_REPEATEDLY",
    "JOB_DIED",
    "NO_RECORD",
]

NO_RECORD = "no_record"
"""``failure.error_type`` of a record that was never written (the job died)."""

DIED_REPEATEDLY = "died_repeatedly"
"""``failure.error_type`` of a died record kept as a failure after its job died in
``max_job_deaths`` runs in a row (:mod:`solvscreen.stages.quarantine`): a result, not recomputed."""

JOB_DIED = "its job died"
"""How :func:`record_problem` begins the reason of a record whose job died."""


@dataclass
class StageContext:
    """What a stage's ``compute`` function gets: its record, file places and engines."""

    record: Record
    out: Path
    files_dir: Path
    _engines: list = field(default_factory=list)
    _counters: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.record.name

    # -- engines ---------------------------------------------------------------
    def engine(self, settings=None):
        """An xTB :class:`~solvscreen.xtb.engine.Engine`; its work is counted in the record."""
        from ..xtb.engine import Engine, EngineSettings

        eng = Engine(settings or EngineSettings())
        self.track_engine(eng)
        return eng

    def track_engine(self, engine) -> None:
        """Count the work of an engine made elsewhere (its counters from now on)."""
        self._engines.append((engine, engine.stats.copy()))
        self.record.provenance.update(engine.provenance())

    def count(self, **amounts: float) -> None:
        """Add to stage-specific counters (e.g. ``md_steps=5000``), stored under timings."""
        for k, v in amounts.items():
            self._counters[k] = self._counters.get(k, 0) + v

    def timing(self, **items: Any) -> None:
        """Add stage-specific timings (e.g. ``phases_s={...}``) to ``record.timings``."""
        self.record.timings.update(items)

    def provenance(self, **items: Any) -> None:
        """Add provenance (program versions, platform, force field, level of theory ...)."""
        self.record.provenance.update(items)

    # -- files -----------------------------------------------------------------
    def file_path(self, key: str, filename: str) -> Path:
        """Declare a companion file (written by the caller or an external program).

        ``filename`` is relative to :attr:`files_dir`; the record stores it relative to the
        record's own directory under ``record.files[key]``.
        """
        if key in self.record.files:
            raise ValueError(f"{self.record.stage} {self.name}: file key {key!r} declared twice")
        if "/" in filename or filename.startswith("."):
            raise ValueError(f"companion file name must be a plain name, got {filename!r}")
        path = self.files_dir / filename
        path.parent.mkdir(parents=True, exist_ok=True)
        self.record.files[key] = os.path.relpath(path, self.out.parent)
        return path

    def write_file(self, key: str, filename: str, text: str) -> Path:
        """Write a companion text file atomically and declare it."""
        path = self.file_path(key, filename)
        write_text_atomic(path, text)
        return path

    # -- failure -----------------------------------------------------------------
    @staticmethod
    def fail(reason: str, error_type: str = "calculation") -> None:
        raise CalculationFailed(reason, error_type=error_type)

    def _finish(self) -> None:
        if self._engines:
            tot = {"singlepoints": 0, "gradients": 0, "scf_retries": 0, "seconds_in_xtb": 0.0}
            for eng, before in self._engines:
                d = eng.stats.since(before).to_dict()
                for k in tot:
                    tot[k] += d.get(k, 0)
            tot["seconds_in_xtb"] = round(tot["seconds_in_xtb"], 4)
            self.record.timings["engine"] = tot
        if self._counters:
            self.record.timings["counters"] = dict(self._counters)


def _upstream_failure(stage: str, upstream: Record) -> CalculationFailed:
    f = upstream.failure or {}
    return CalculationFailed(
        f"{upstream.stage} stage failed for {upstream.name}: {f.get('reason', 'unknown reason')}",
        error_type=f"{upstream.stage}:{f.get('error_type', 'failed')}",
    )


def run_stage(
    stage: str,
    name: str,
    out: str | Path,
    compute: Callable[[StageContext], StageResult | dict],
    *,
    inputs: dict | None = None,
    settings: dict | None = None,
    requires: Iterable[Record] = (),
    files_dir: str | Path | None = None,
    write: bool = True,
) -> Record:
    """Run one unit of a stage through the harness and write its record to ``out``."""
    out = Path(out)
    record = Record(stage=stage, name=name, inputs=dict(inputs or {}), settings=dict(settings or {}))
    ctx = StageContext(record=record, out=out, files_dir=Path(files_dir) if files_dir else out.with_suffix(""))
    t_cpu = time.process_time()
    with capture_failure(record):
        for upstream in requires:
            if not upstream.ok:
                raise _upstream_failure(stage, upstream)
        result = compute(ctx)
        record.results = result.to_results() if isinstance(result, StageResult) else dict(result or {})
    ctx._finish()
    record.timings["cpu_s"] = round(time.process_time() - t_cpu, 4)
    if write:
        # the record's directory exists even when the unit wrote no file (a failure, a stage
        # without companion files): the workflow declares it as an output of every stage job
        ctx.files_dir.mkdir(parents=True, exist_ok=True)
        record.write(out)
    return record


def missing_record(stage: str, name: str, reason: str = "no record: job died", inputs: dict | None = None) -> Record:
    """The failure record that stands for a record that was never written."""
    return Record(stage=stage, name=name, status="failed", inputs=dict(inputs or {}),
                  failure={"error_type": NO_RECORD, "reason": reason})


def read_record(path: str | Path, stage: str | None = None, name: str | None = None) -> Record:
    """Read a stage record; a missing or unreadable one becomes a failure record.

    ``stage`` and ``name`` label the stand-in (default: from the path).
    """
    path = Path(path)
    try:
        return Record.read(path)
    except FileNotFoundError:
        return missing_record(stage or path.parent.name, name or path.stem)
    except (ValueError, KeyError, SolvscreenError) as exc:
        return missing_record(stage or path.parent.name, name or path.stem,
                              f"no record: unreadable record {path.name} ({exc})")


#: the modules of this package's own stages whose StageResult classes name their RECORD_STAGES
#: (the stage packages' are in the registry: solvscreen.core.registry.StageSpec.results)
RESULT_MODULES = ("solvscreen.stages.structure", "solvscreen.xtb.properties", "solvscreen.complexes.search",
                  "solvscreen.stages.shell")


def load_result_schemas() -> None:
    """Import every module that defines a stage's result (their classes register what an ok
    record of their stage holds: :data:`solvscreen.core.records.RESULT_SCHEMAS`). A stage package
    missing from a build is left out; the MD stage's records store plain mappings and are
    checked against the record schema only."""
    import importlib

    from ..core.registry import STAGES

    for module in (*RESULT_MODULES, *(m for spec in STAGES for m in spec.results)):
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name is None or not module.startswith(exc.name):
                raise


def companion_problem(path: str | Path, data: dict) -> str | None:
    """Why the companion files of the ok record ``data`` at ``path`` are not all there (``None``
    when they are): each file of its ``files`` (relative to the record's folder) must exist."""
    path = Path(path)
    files = data.get("files") or {}
    gone = sorted(rel for rel in files.values() if isinstance(rel, str) and not (path.parent / rel).exists())
    return f"companion file missing: {', '.join(gone)}" if gone else None


def record_problem(path: str | Path) -> str | None:
    """Why the record at ``path`` cannot stand for its job's output, or ``None`` when it can
    (or does not exist: then the workflow computes it anyway).

    A record that cannot be read, lacks the record schema (its stage's results included:
    :func:`~solvscreen.core.records.schema_problem`), says its job died ("no record: job died",
    written by :func:`write_died_record`) or, when ok, misses a companion file it names, is no
    result: the workflow sets it aside and recomputes it (:mod:`solvscreen.stages.quarantine`).
    A failed calculation is a result.
    """
    load_result_schemas()
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return f"unreadable record ({type(exc).__name__}: {exc})"
    problem = schema_problem(data)
    if problem:
        return problem
    failure = data.get("failure") or {}
    if data["status"] == "failed" and isinstance(failure, dict) and failure.get("error_type") == NO_RECORD:
        return f"{JOB_DIED} ({failure.get('reason', 'no record')})"
    return companion_problem(path, data) if data["status"] == "ok" else None


def write_died_record(stage: str, name: str, out: str | Path, *, exit_code: int | None = None,
                      log: str | Path | None = None, files_dir: str | Path | None = None,
                      inputs: dict | None = None) -> Record | None:
    """Write a failure record for a job that died without writing one (nothing if it exists).

    Called from a rule's shell fallback (``cmd || solvscreen died ...``) after the process
    was killed (out of memory, a segfault, a signal). The reason quotes the exit code and
    the last line of the job's log. The companion directory is created empty so the job's
    declared outputs exist.
    """
    out = Path(out)
    fdir = Path(files_dir) if files_dir else out.with_suffix("")
    fdir.mkdir(parents=True, exist_ok=True)
    if out.exists():
        return None
    reason = "no record: job died"
    if exit_code is not None:
        sig = f", signal {exit_code - 128}" if exit_code > 128 else ""
        reason += f" (exit code {exit_code}{sig})"
    if log is not None and Path(log).exists():
        tail = [ln for ln in Path(log).read_text(errors="replace").splitlines() if ln.strip()][-1:]
        if tail:
            reason += f"; last log line: {tail[0][:300]}"
    rec = missing_record(stage, name, reason, inputs)
    rec.write(out)
    return rec
