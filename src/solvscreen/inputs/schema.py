"""The input tables' vocabulary and reading: kinds, limits and columns, the packaged JSON
schemas (``schemas/*.schema.yaml``, with the limits below filled in), and CSV row reading
with row and line numbers for every message.

Row numbers
-----------
``row N (line L)``: *N* is the 1-based data row (the header, blank lines and ``#``
comment lines are not counted), *L* the line of the file (1-based, header included).
"""

from __future__ import annotations

import copy
import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Union

import jsonschema
import yaml

from ..core.errors import ValidationError
from ..core import registry
from ..core.records import parse_number


KINDS = ("solvent", "diluent", "anion", "cation", "salt")
LIQUID_KINDS = ("solvent", "diluent")
REPORTED_CLASSES = ("LCE", "HCE", "LHCE", "WSE")
RATIO_BASES = ("volume", "molar")
#: Above this molarity a "solution" is not a liquid electrolyte (the most concentrated
#: K electrolytes in the literature are ~5-7 M). The one home of the limit: the schemas
#: (formulation rows, grid concentrations) and GridSettings read it from here.
MAX_CONCENTRATION_MOL_PER_L = 8.0
#: Constants the packaged schemas name as ``${NAME}`` (filled in by :func:`load_schema`).
SCHEMA_CONSTANTS = {"MAX_CONCENTRATION_MOL_PER_L": MAX_CONCENTRATION_MOL_PER_L}
#: More salt than fits: c x M(salt) above 2 kg per litre of solution would need a
#: solution density above 2 g/mL from the salt alone, before any solvent is counted
#: (21 m LiTFSI water-in-salt, an extreme, holds ~1.5 kg salt per litre).
MAX_SALT_MASS_G_PER_L = 2000.0
#: Component ratios (``NAME:RATIO``) are relative parts: each must lie in this range. A part
#: below 1/1000 of the unit is an additive, not a solvent or diluent (components below a 5 %
#: volume fraction are not even counted as diluents by the classification); above 1000 the
#: other components are the additives. Values like 1e-300 are typos.
RATIO_RANGE = (1e-3, 1e3)
#: Ids of the formulations the screening grid generates (solvscreen.inputs.grid) start with this;
#: no formulation of a table may, so that ids stay unique across both.
GRID_ID_PREFIX = "grid-"

LIBRARY_COLUMNS = ("name", "aliases", "smiles", "kind", "full_name", "density_g_per_mL", "density_source",
                   "dielectric_constant", "dielectric_source")
LIBRARY_REQUIRED = ("name", "smiles")
FORMULATION_COLUMNS = ("id", "salt", "concentration_mol_per_L", "components", "ratio_basis",
                       "reported_class", "ratio_reported", "source", "set")
FORMULATION_REQUIRED = ("id", "salt", "concentration_mol_per_L", "components")

PathLike = Union[str, Path]
_TRUE = {"yes", "y", "true", "1"}
_FALSE = {"no", "n", "false", "0"}


# ============================================================================ schemas
@lru_cache(maxsize=None)
def load_schema(name: str) -> dict:
    """A packaged JSON schema (``config``, ``molecule`` or ``formulation``) as a dict. The config
    schema gets each registered stage's section (``<package>/config.schema.yaml``, from
    :data:`solvscreen.core.registry.STAGES`)."""
    schema = _read_yaml(resources.files("solvscreen").joinpath("schemas", f"{name}.schema.yaml"))
    if name == "config":
        for spec in registry.STAGES:
            if spec.config_section:
                fragment = _read_yaml(resources.files(spec.package).joinpath("config.schema.yaml"))
                schema["properties"][spec.config_section] = fragment[spec.config_section]
    return schema


def _read_yaml(path) -> dict:
    """A schema file with the constants it names as ``${NAME}`` filled in."""
    text = path.read_text(encoding="utf-8")
    for key, value in SCHEMA_CONSTANTS.items():
        text = text.replace("${" + key + "}", f"{value:g}")
    return yaml.safe_load(text)


def _with_defaults(cls):
    """A validator class that fills in each property's ``default`` before validating it."""
    validate_properties = cls.VALIDATORS["properties"]

    def properties(validator, props, instance, schema):
        if validator.is_type(instance, "object"):
            for prop, sub in props.items():
                if isinstance(sub, dict) and "default" in sub and prop not in instance:
                    instance[prop] = copy.deepcopy(sub["default"])
        yield from validate_properties(validator, props, instance, schema)

    return jsonschema.validators.extend(cls, {"properties": properties})


_DefaultFillingValidator = _with_defaults(jsonschema.Draft202012Validator)


@lru_cache(maxsize=None)
def _row_validator(name: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(load_schema(name))


def _row_schema_errors(name: str, record: dict) -> list[str]:
    """Reasons ``record`` fails the row schema ``name``: one per column, user-facing."""
    props = load_schema(name)["properties"]
    reasons: dict[str, str] = {}
    for err in _row_validator(name).iter_errors(record):
        column = str(err.path[0]) if err.path else ""
        if column in reasons:
            continue
        hint = props.get(column, {}).get("x-message", err.message)
        value = record.get(column)
        shown = "empty" if value in (None, "") else repr(value)
        reasons[column] = f"{column} is {shown}: {hint}" if column else err.message
    return list(reasons.values())


# ============================================================================ CSV reading
@dataclass
class _Row:
    number: int  # 1-based data row
    line: int  # 1-based line of the file (header included)
    cells: dict[str, str]

    @property
    def where(self) -> str:
        return f"{self.number} (line {self.line})"


def _read_table(path: PathLike, columns: tuple[str, ...], required: tuple[str, ...],
                errors: list[ValidationError]) -> list[_Row]:
    """Rows of a CSV table as stripped strings; header problems go to ``errors``.

    Blank lines and lines whose first cell starts with ``#`` are skipped. Unknown columns
    are reported and ignored; a missing required column makes the file unreadable.
    """
    src = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        errors.append(ValidationError("file not found", source=src))
        return []
    except (OSError, UnicodeDecodeError) as exc:
        errors.append(ValidationError(f"cannot read the file: {exc}", source=src))
        return []
    reader = csv.reader(io.StringIO(text))
    header: list[str] | None = None
    rows: list[_Row] = []
    try:
        for cells in reader:
            if not any(c.strip() for c in cells) or cells[0].lstrip().startswith("#"):
                continue
            if header is None:
                header = [c.strip() for c in cells]
                if not _header_ok(header, columns, required, src, errors):
                    return []
                continue
            row = _Row(len(rows) + 1, reader.line_num, {})
            if len(cells) > len(header) and any(c.strip() for c in cells[len(header):]):
                errors.append(ValidationError(
                    f"{len(cells)} cells but the header has {len(header)} columns "
                    "(a comma inside a value needs double quotes)", source=src, row=row.where))
            row.cells = {h: (cells[i].strip() if i < len(cells) else "")
                         for i, h in enumerate(header) if h in columns}
            rows.append(row)
    except csv.Error as exc:
        errors.append(ValidationError(f"malformed CSV: {exc}", source=src, row=f"? (line {reader.line_num})"))
    if header is None:
        errors.append(ValidationError(f"empty table: no header line (expected {','.join(columns)})", source=src))
    return rows


def _header_ok(header: list[str], columns: tuple[str, ...], required: tuple[str, ...], src: str,
               errors: list[ValidationError]) -> bool:
    repeated = sorted({h for h in header if header.count(h) > 1})
    unknown = [h for h in header if h not in columns]
    missing = [c for c in required if c not in header]
    if repeated:
        errors.append(ValidationError(f"repeated column(s) {repeated} in the header", source=src))
    if unknown:
        errors.append(ValidationError(f"unknown column(s) {unknown}; allowed columns: {', '.join(columns)}",
                                      source=src))
    if missing:
        errors.append(ValidationError(f"missing required column(s) {missing}; "
                                      f"the header must name at least {', '.join(required)}", source=src))
    return not missing and not repeated


def _number(text: str) -> float | str | None:
    """``float`` of a cell, ``None`` when empty, the text itself when it is not a finite number."""
    if text.strip() == "":
        return None
    value = parse_number(text)
    return text if value is None else value


def _flag(text: str) -> bool | str | None:
    low = text.lower()
    if low == "":
        return None
    return True if low in _TRUE else False if low in _FALSE else text


def _as_paths(paths: PathLike | Iterable[PathLike]) -> list[PathLike]:
    return [paths] if isinstance(paths, (str, Path)) else list(paths)
