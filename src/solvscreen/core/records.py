"""Per-stage result records: schema-versioned JSON with provenance, written atomically.

Every stage writes one record per unit of work (molecule, complex, formulation).
A record carries what was computed (``results``), how (``provenance``: package,
engine and version, method, settings), how long it took (``timings``), and
whether it worked (``status`` ``"ok"`` or ``"failed"`` with ``failure``). Failed
records are ordinary outputs, so one bad molecule never stops a batch and the
report can list it.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import io
import json
import math
import os
import platform
import socket
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Iterator

import numpy as np

from .. import SCHEMA_VERSION, __version__
from .errors import CalculationFailed, SolvscreenError


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating, float)):
        v = float(obj)
        return None if math.isnan(v) or math.isinf(v) else v
    if isinstance(obj, (np.bool_,)):
        return bool(obj)
    if isinstance(obj, Path):
        return str(obj)
    return obj


_UMASK = os.umask(0)
os.umask(_UMASK)


def write_text_atomic(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file and rename: never half-written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; outputs are ordinary files
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_json(path: str | Path, data: dict) -> None:
    write_text_atomic(path, json.dumps(_jsonable(data), indent=2, sort_keys=False) + "\n")


def read_json(path: str | Path) -> dict:
    return json.loads(Path(path).read_text())


def write_csv(path: str | Path, rows: list[dict], columns: list[str] | None = None) -> None:
    """Write rows as CSV (atomically); columns default to the union of keys in order of appearance."""
    if columns is None:
        columns = []
        for row in rows:
            for key in row:
                if key not in columns:
                    columns.append(key)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _csv_cell(row.get(k)) for k in columns})
    write_text_atomic(path, buf.getvalue())


def parse_number(text: Any) -> float | None:
    """A finite float from a table cell (str or number); ``None`` for empty, non-numeric or NaN/inf.

    The one number parser of the package: CSV tables written by :func:`write_csv` and the
    input tables read by :mod:`solvscreen.inputs.library` both go through it.
    """
    if text is None or isinstance(text, bool):
        return None
    if isinstance(text, str):
        text = text.strip()
        if not text:
            return None
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _csv_cell(value: Any) -> Any:
    value = _jsonable(value)
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}" if abs(value) < 1e6 else f"{value:.10g}"
    if isinstance(value, list):
        return ";".join(str(_csv_cell(v)) for v in value)
    return value


def base_provenance() -> dict:
    import rdkit

    return {
        "solvscreen_version": __version__,
        "rdkit_version": rdkit.__version__,
        "python": platform.python_version(),
        "host": socket.gethostname(),
        "threads": int(os.environ.get("OMP_NUM_THREADS", "0") or 0) or None,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


class StageResult:
    """Mixin for a stage's typed result (a dataclass).

    ``COLUMNS`` names the table columns (units in the names) that the result contributes
    to its stage's aggregate table; :meth:`row` gives their values. ``to_results`` is what
    is stored in the record (all dataclass fields by default).
    """

    COLUMNS: ClassVar[tuple[str, ...]] = ()

    def to_results(self) -> dict:
        if dataclasses.is_dataclass(self):
            return dataclasses.asdict(self)
        raise TypeError(f"{type(self).__name__} is not a dataclass; override to_results()")

    def row(self) -> dict:
        return self.row_from_results(self.to_results())

    @classmethod
    def row_from_results(cls, results: dict) -> dict:
        """Table values from a stored record's ``results`` (the reading side of :meth:`row`)."""
        return {c: results.get(c) for c in cls.COLUMNS}


@dataclass
class Record:
    """One stage's result for one subject (molecule, complex, formulation)."""

    stage: str
    name: str
    status: str = "ok"
    results: dict = field(default_factory=dict)
    provenance: dict = field(default_factory=dict)
    settings: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)
    files: dict = field(default_factory=dict)
    failure: dict | None = None
    inputs: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_dict(self) -> dict:
        return {
            "schema_version": SCHEMA_VERSION,
            "stage": self.stage,
            "name": self.name,
            "status": self.status,
            "failure": self.failure,
            "inputs": self.inputs,
            "results": self.results,
            "files": self.files,
            "settings": self.settings,
            "provenance": {**base_provenance(), **self.provenance},
            "timings": self.timings,
        }

    def write(self, path: str | Path) -> None:
        write_json(path, self.to_dict())

    @classmethod
    def read(cls, path: str | Path) -> "Record":
        d = read_json(path)
        problem = schema_problem(d)
        if problem:
            raise SolvscreenError(f"{path}: {problem}; rerun the stage")
        return cls(
            stage=d["stage"],
            name=d["name"],
            status=d["status"],
            results=d.get("results") or {},
            provenance=d.get("provenance") or {},
            settings=d.get("settings") or {},
            timings=d.get("timings") or {},
            files=d.get("files") or {},
            failure=d.get("failure"),
            inputs=d.get("inputs") or {},
        )


RECORD_KEYS = ("stage", "name", "status")


def schema_problem(d: Any) -> str | None:
    """Why a parsed record does not have the record schema (``None`` when it has): the one
    check shared by :meth:`Record.read` and the workflow's scan for dead records."""
    if not isinstance(d, dict):
        return f"not a record: a JSON {type(d).__name__}, not an object"
    if d.get("schema_version") != SCHEMA_VERSION:
        return f"record schema version {d.get('schema_version')} != {SCHEMA_VERSION}"
    missing = [k for k in RECORD_KEYS if not isinstance(d.get(k), str)]
    if missing:
        return f"record without {', '.join(missing)}"
    if d["status"] not in ("ok", "failed"):
        return f"record status {d['status']!r} is neither 'ok' nor 'failed'"
    return None


@contextlib.contextmanager
def capture_failure(record: Record) -> Iterator[Record]:
    """Run a stage body; a :class:`CalculationFailed` (or other error) marks the record failed.

    Input errors are *not* swallowed: they are the user's to fix, not a molecule's fate.
    """
    t0 = time.perf_counter()
    try:
        yield record
    except CalculationFailed as exc:
        record.status = "failed"
        record.failure = {"error_type": exc.error_type, "reason": str(exc)}
    except (KeyboardInterrupt, SystemExit):
        raise
    except SolvscreenError:
        raise
    except Exception as exc:  # an unexpected crash of one molecule is data too
        record.status = "failed"
        record.failure = {
            "error_type": type(exc).__name__,
            "reason": str(exc) or type(exc).__name__,
            "traceback": traceback.format_exc(limit=6),
        }
    finally:
        record.timings["wall_s"] = round(time.perf_counter() - t0, 4)
