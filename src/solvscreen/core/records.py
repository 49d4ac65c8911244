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


CHECKSUM_SUFFIX = ".sha256"
"""A table ``X.csv`` written by :func:`write_csv` has its checksum in ``X.csv.sha256`` (the
``sha256sum`` format: ``sha256sum -c X.csv.sha256`` checks it by hand)."""


def checksum_path(path: str | Path) -> Path:
    path = Path(path)
    return path.with_name(path.name + CHECKSUM_SUFFIX)


def _sha256(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def table_problem(path: str | Path) -> str | None:
    """Why the table at ``path`` is not the one :func:`write_csv` wrote (``None`` when it is, or
    when it has no checksum to compare with: absent, or written before checksums were kept):
    its content does not match the checksum beside it (truncated, edited, half-copied)."""
    path = Path(path)
    side = checksum_path(path)
    try:
        recorded = side.read_text().split()[0]
        data = path.read_bytes()
    except (FileNotFoundError, IndexError):
        return None
    except OSError as exc:
        return f"table unreadable ({type(exc).__name__}: {exc})"
    if _sha256(data) != recorded:
        return (f"table {path.name} does not match its checksum ({side.name}): truncated or changed after it "
                f"was written")
    return None


def write_csv(path: str | Path, rows: list[dict], columns: list[str] | None = None) -> None:
    """Write rows as CSV (atomically); columns default to the union of keys in order of appearance.

    Its checksum goes beside it (:func:`checksum_path`), written first: a table that no longer
    matches it is rebuilt by the workflow and refused by :func:`solvscreen.core.result_tables.read_rows`."""
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
    text = buf.getvalue()
    write_text_atomic(checksum_path(path), f"{_sha256(text.encode())}  {Path(path).name}\n")
    write_text_atomic(path, text)


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


#: JSON types of a record's ``results`` values: name -> the Python types json.loads gives for it.
JSON_TYPES: dict[str, tuple[type, ...]] = {"number": (int, float), "integer": (int,), "string": (str,),
                                           "boolean": (bool,), "object": (dict,), "array": (list,)}
_ANNOTATION_TYPES = {"float": "number", "int": "integer", "str": "string", "bool": "boolean", "dict": "object",
                     "list": "array", "tuple": "array"}

#: stage name -> {key: JSON type name or None (any type)} that an ``ok`` record's ``results`` must
#: hold; filled by each :class:`StageResult` subclass that names its ``RECORD_STAGES``.
RESULT_SCHEMAS: dict[str, dict[str, str | None]] = {}


def _json_type(annotation: Any) -> str | None:
    """The JSON type name of a dataclass field's annotation (a string under postponed
    evaluation); ``None`` for a type the check does not know (a nested dataclass)."""
    parts = [p.strip() for p in str(annotation).split("|") if p.strip() != "None"]
    names = {_ANNOTATION_TYPES.get(p.split("[")[0].strip()) for p in parts}
    return names.pop() if len(names) == 1 else None


class StageResult:
    """Mixin for a stage's typed result (a dataclass).

    ``COLUMNS`` names the table columns (units in the names) that the result contributes
    to its stage's aggregate table; :meth:`row` gives their values. ``to_results`` is what
    is stored in the record (all dataclass fields by default).

    ``RECORD_STAGES`` names the stages whose ``ok`` records store this result: their
    ``results`` must hold the keys of :meth:`required_results` (a record without them is no
    result: :func:`schema_problem`). ``REQUIRED_RESULTS`` gives those keys where
    :meth:`to_results` is not the dataclass's fields; by default they are the fields without a
    default, with the JSON type of their annotation.
    """

    COLUMNS: ClassVar[tuple[str, ...]] = ()
    RECORD_STAGES: ClassVar[tuple[str, ...]] = ()
    REQUIRED_RESULTS: ClassVar[dict[str, str | None] | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for stage in cls.__dict__.get("RECORD_STAGES", ()):
            RESULT_SCHEMAS[stage] = cls  # type: ignore[assignment]  # resolved by result_schema()

    @classmethod
    def required_results(cls) -> dict[str, str | None]:
        """{key: JSON type name or None}: what an ok record of this result must hold."""
        if cls.REQUIRED_RESULTS is not None:
            return dict(cls.REQUIRED_RESULTS)
        if not dataclasses.is_dataclass(cls):
            return {}
        return {f.name: _json_type(f.type) for f in dataclasses.fields(cls)
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING}

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
#: the parts of every record that are JSON objects (``Record.to_dict`` always writes them)
RECORD_OBJECTS = ("inputs", "results", "files", "settings", "provenance", "timings")


def result_schema(stage: str) -> dict[str, str | None]:
    """{key: JSON type name or None} that an ok record of ``stage`` must hold in its ``results``
    ({} for a stage whose result class is not imported, or that has none)."""
    cls = RESULT_SCHEMAS.get(stage)
    return cls.required_results() if cls is not None else {}  # type: ignore[union-attr]


def results_problem(stage: str, results: dict) -> str | None:
    """Why the ``results`` of an ok ``stage`` record lack what its stage stores (``None`` when
    they hold it): a required key absent, or present with a value of another JSON type (a
    ``null`` passes: a NaN is stored as null)."""
    schema = result_schema(stage)
    missing = [k for k in schema if k not in results]
    if missing:
        return f"{stage} record results without {', '.join(missing)}"
    for key, kind in schema.items():
        value = results[key]
        if kind is None or value is None:
            continue
        if not isinstance(value, JSON_TYPES[kind]) or (isinstance(value, bool) and kind != "boolean"):
            return f"{stage} record results.{key} is a JSON {_json_name(value)}, not a{'n' * (kind[0] in 'aeiou')} {kind}"
    return None


def _json_name(value: Any) -> str:
    return next((name for name, types in JSON_TYPES.items() if isinstance(value, types)
                 and not (isinstance(value, bool) and name != "boolean")), type(value).__name__)


def schema_problem(d: Any) -> str | None:
    """Why a parsed record does not have the record schema (``None`` when it has): the one
    check shared by :meth:`Record.read` and the workflow's scan for dead records.

    The schema: ``schema_version``; ``stage``, ``name`` and ``status`` as text; the parts of
    :data:`RECORD_OBJECTS` as objects (``results`` present); ``failure`` an object in a failed
    record; and an ok record's ``results`` holding what its stage stores
    (:func:`results_problem`)."""
    if not isinstance(d, dict):
        return f"not a record: a JSON {type(d).__name__}, not an object"
    if d.get("schema_version") != SCHEMA_VERSION:
        return f"record schema version {d.get('schema_version')} != {SCHEMA_VERSION}"
    missing = [k for k in RECORD_KEYS if not isinstance(d.get(k), str)]
    if missing:
        return f"record without {', '.join(missing)}"
    if d["status"] not in ("ok", "failed"):
        return f"record status {d['status']!r} is neither 'ok' nor 'failed'"
    if "results" not in d:
        return "record without results"
    wrong = [k for k in RECORD_OBJECTS if k in d and not isinstance(d[k], dict)]
    if wrong:
        return "record " + ", ".join(f"{k} is a JSON {_json_name(d[k])}, not an object" for k in wrong)
    failure = d.get("failure")
    if d["status"] == "failed" and not isinstance(failure, dict):
        return "failed record without a failure object"
    return results_problem(d["stage"], d["results"]) if d["status"] == "ok" else None


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
