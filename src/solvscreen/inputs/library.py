"""Load and validate the candidate library, the formulation table and the workflow config.

Everything a run needs is checked here, before any computation: the Snakefile calls
:func:`solvscreen.interface.inputs.validate_all` (this module's checks and the stage packages') at
parse time and ``solvscreen validate`` prints its :func:`summary`.
Every problem of a file is collected and raised together as one
:class:`~solvscreen.core.errors.ValidationErrors`; each entry names the file, the row and
the reason.

Row numbers
-----------
``row N (line L)``: *N* is the 1-based data row (the header, blank lines and ``#``
comment lines are not counted), *L* the line of the file (1-based, header included).
:attr:`Molecule.row` and :attr:`Formulation.row` hold *N*.

Tables
------
Candidate table (``molecules/library.csv``), one molecule per row::

    name,aliases,smiles,kind,full_name,density_g_per_mL,density_source

Only ``name`` and ``smiles`` are required columns; an empty ``kind`` is inferred from
the charge (neutral -> solvent, negative -> anion, positive -> cation, neutral ion
pair -> salt). A salt row is the dot-separated ion pair (``[K+].F[P-](F)(F)(F)(F)F``);
its cation and anion must also be rows of the library (their structures are computed
individually, the salt is not).

Formulation table (``molecules/formulations.csv``)::

    id,salt,concentration_mol_per_L,components,ratio_basis,reported_class,ratio_reported,source,set

``components`` is ``NAME:RATIO|NAME:RATIO...`` (a missing ratio means 1); names and
aliases are resolved to row names. Listing one structure twice in a formulation
(e.g. ``DGM:1|G2:1``, two names of diglyme) is an error, not a silent merge: it is
almost always a typo for another component.

Config
------
The schema with every default is ``schemas/config.schema.yaml``; :func:`load_config`
validates a config against it and fills in the defaults.
"""

from __future__ import annotations

import copy
import csv
import difflib
import io
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Union

import jsonschema
import yaml
from rdkit import Chem

from ..core.errors import InputError, ValidationError, ValidationErrors
from ..core.records import parse_number
from ..xtb.structures import canonical_smiles, formal_charge, mol_from_smiles, structure_problems

__all__ = [
    "KINDS",
    "LIQUID_KINDS",
    "REPORTED_CLASSES",
    "RATIO_BASES",
    "MAX_CONCENTRATION_MOL_PER_L",
    "MAX_SALT_MASS_G_PER_L",
    "Molecule",
    "Library",
    "Formulation",
    "load_library",
    "load_formulations",
    "load_config",
    "validate_inputs",
    "read_config_files",
    "deep_update",
    "BASE_CONFIG_CHECKERS",
    "summary",
    "load_schema",
    "size_problem",
]

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


# ============================================================================ data types
@dataclass(frozen=True)
class Molecule:
    """One validated row of the candidate table.

    Attributes
    ----------
    name, smiles, kind
        Row name (unique, file-name safe), the SMILES as written, one of :data:`KINDS`.
    aliases
        Other names that resolve to this row (e.g. ``("DEGDME", "G2")`` for DGM).
    charge
        Net formal charge (e).
    canonical_smiles
        RDKit canonical SMILES (no explicit H): the structure identity used for duplicates.
    molar_mass_g_per_mol
        Average molar mass; for a salt, of the whole ion pair.
    density_g_per_mL, density_source
        Liquids: density at ~25 °C; salts (optional): crystal density; and where it comes
        from (``"estimate"`` when uncertain). ``None``/``""`` when not given (always for ions).
    source, row
        File the row came from and its 1-based data row.
    cation, anion
        Salt rows only: names of the library rows of its cation and anion.
    """

    name: str
    smiles: str
    kind: str
    aliases: tuple[str, ...]
    full_name: str
    charge: int
    canonical_smiles: str
    molar_mass_g_per_mol: float
    density_g_per_mL: float | None
    density_source: str
    source: str
    row: int
    cation: str | None = None
    anion: str | None = None
    n_atoms: int = 0  # atoms with explicit hydrogens (the size guard ``max_atoms`` counts these)
    #: liquids: static dielectric constant at ~25 °C and its source (optional; the solvation stage
    #: estimates one, stating how, where it is missing)
    dielectric_constant: float | None = None
    dielectric_source: str = ""

    @property
    def is_liquid(self) -> bool:
        """True for solvents and diluents (the components of a formulation)."""
        return self.kind in LIQUID_KINDS

    @property
    def density_is_estimate(self) -> bool:
        """True when the density is given and its source says it is an estimate."""
        return self.density_g_per_mL is not None and self.density_source.lower().startswith("estimate")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["aliases"] = list(self.aliases)
        return d


class Library:
    """The validated candidate molecules, by name, in file order.

    ``name in library`` accepts names and aliases (case-insensitive); iterating yields
    :class:`Molecule` objects.
    """

    def __init__(self, molecules: Iterable[Molecule] = ()):
        self.molecules: dict[str, Molecule] = {}
        self._lookup: dict[str, str] = {}
        for mol in molecules:
            keys = [mol.name, *mol.aliases]
            taken = [k for k in keys if k.lower() in self._lookup]
            if mol.name in self.molecules or taken:
                raise ValueError(f"name or alias {taken or mol.name!r} of {mol.name!r} is already in the library")
            self.molecules[mol.name] = mol
            for key in keys:
                self._lookup[key.lower()] = mol.name

    def resolve(self, name: str) -> Molecule:
        """The molecule called ``name`` (a name or an alias, case-insensitive).

        Raises
        ------
        ValidationError
            Naming the unknown name and the closest known names.
        """
        key = str(name).strip()
        hit = self.molecules.get(key) or self.molecules.get(self._lookup.get(key.lower(), ""))
        if hit is not None:
            return hit
        known = list(self.molecules) + [a for m in self.molecules.values() for a in m.aliases]
        close = difflib.get_close_matches(key, known, n=3, cutoff=0.6)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise ValidationError(f"unknown molecule {key!r} (not a name or alias in the library){hint}")

    def get(self, name: str, default: Molecule | None = None) -> Molecule | None:
        """Like :meth:`resolve`, but ``default`` instead of an error."""
        try:
            return self.resolve(name)
        except ValidationError:
            return default

    def names(self, kinds: str | Iterable[str] | None = None) -> list[str]:
        """Row names, in file order, optionally only of the given kind(s)."""
        if kinds is None:
            return list(self.molecules)
        wanted = (kinds,) if isinstance(kinds, str) else tuple(kinds)
        unknown = [k for k in wanted if k not in KINDS]
        if unknown:
            raise ValueError(f"unknown kind(s) {unknown}; kinds are {KINDS}")
        return [n for n, m in self.molecules.items() if m.kind in wanted]

    def computed_names(self) -> list[str]:
        """Rows whose structure is computed on its own: everything except salts."""
        return [n for n, m in self.molecules.items() if m.kind != "salt"]

    def salts(self) -> list[Molecule]:
        return [m for m in self.molecules.values() if m.kind == "salt"]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.strip().lower() in self._lookup

    def __iter__(self) -> Iterator[Molecule]:
        return iter(self.molecules.values())

    def __len__(self) -> int:
        return len(self.molecules)

    def __repr__(self) -> str:
        counts = ", ".join(f"{len(self.names(k))} {k}" for k in KINDS)
        return f"<Library of {len(self)} molecules: {counts}>"


@dataclass(frozen=True)
class Formulation:
    """One validated electrolyte formulation.

    Attributes
    ----------
    id
        Unique identifier (file-name safe).
    salt
        Library name of the salt row.
    concentration_mol_per_L
        Salt molarity, mol per litre of solution.
    components
        ``((name, ratio), ...)``: library names of the liquids and their ratios as given
        (not normalized; see :attr:`fractions`).
    ratio_basis
        ``"volume"`` or ``"molar"``: what the ratios mean.
    reported_class
        Class the literature assigns (LCE, HCE, LHCE, WSE) or ``None``.
    source
        Literature source text.
    ratio_reported
        Whether the source reports the mixing ratio (``False``: equal parts assumed).
    row, file
        1-based data row and the file it came from.
    set
        Which reference set the row belongs to: ``calibration`` (thresholds are fitted on
        it), ``generalization`` (checking only, never fitting), ``other`` or ``None``.
    """

    id: str
    salt: str
    concentration_mol_per_L: float
    components: tuple[tuple[str, float], ...]
    ratio_basis: str = "volume"
    reported_class: str | None = None
    source: str = ""
    ratio_reported: bool | None = None
    row: int = 0
    file: str = ""
    set: str | None = None

    @property
    def component_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.components)

    @property
    def fractions(self) -> tuple[tuple[str, float], ...]:
        """Components with ratios normalized to 1 (on :attr:`ratio_basis`)."""
        total = sum(r for _, r in self.components)
        return tuple((name, r / total) for name, r in self.components)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["components"] = [[name, ratio] for name, ratio in self.components]
        return d


# ============================================================================ schemas
@lru_cache(maxsize=None)
def load_schema(name: str) -> dict:
    """A packaged JSON schema (``config``, ``molecule`` or ``formulation``) as a dict."""
    text = resources.files("solvscreen").joinpath("schemas", f"{name}.schema.yaml").read_text(encoding="utf-8")
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


# ============================================================================ library
@dataclass
class _Candidate:
    """A parsed library row on its way to becoming a :class:`Molecule`."""

    row: _Row
    src: str
    record: dict
    mol: Chem.Mol | None = None
    kind: str | None = None
    charge: int = 0
    canonical: str = ""
    fragments: list[tuple[str, int]] = field(default_factory=list)  # (canonical SMILES, charge)
    errors: list[ValidationError] = field(default_factory=list)

    def fail(self, reason: str) -> None:
        self.errors.append(ValidationError(reason, source=self.src, row=self.row.where))


def _parse_molecule_row(row: _Row, src: str) -> _Candidate:
    """Per-row checks: cell types (row schema), SMILES, elements, spin, charge vs kind."""
    c = row.cells
    record = {
        "name": c.get("name") or None,
        "aliases": [a.strip() for a in c.get("aliases", "").split("|") if a.strip()],
        "smiles": c.get("smiles") or None,
        "kind": c.get("kind", "").lower() or None,
        "full_name": c.get("full_name") or None,
        "density_g_per_mL": _number(c.get("density_g_per_mL", "")),
        "density_source": c.get("density_source") or None,
        "dielectric_constant": _number(c.get("dielectric_constant", "")),
        "dielectric_source": c.get("dielectric_source") or None,
    }
    cand = _Candidate(row, src, record)
    for reason in _row_schema_errors("molecule", record):
        cand.fail(reason)
    if record["smiles"]:
        _check_structure(cand)
    _check_density(cand)
    _check_dielectric(cand)
    return cand


def _check_structure(cand: _Candidate) -> None:
    smiles = cand.record["smiles"]
    try:
        mol = mol_from_smiles(smiles)
    except InputError as exc:
        cand.fail(f"invalid SMILES: {exc}")
        return
    cand.mol = mol
    for reason in structure_problems(mol, smiles):
        cand.fail(reason)
    cand.charge = formal_charge(mol)
    cand.canonical = canonical_smiles(mol)
    cand.fragments = [(canonical_smiles(f), formal_charge(f))
                      for f in Chem.GetMolFrags(mol, asMols=True, sanitizeFrags=False)]
    kind = cand.record["kind"]
    if kind is None:
        kind = _infer_kind(cand.charge, cand.fragments)
    cand.kind = kind
    if kind not in KINDS:
        return  # already reported by the row schema
    q = cand.charge
    wanted = {"solvent": q == 0, "diluent": q == 0, "anion": q < 0, "cation": q > 0, "salt": q == 0}[kind]
    if not wanted:
        need = {"anion": "negative", "cation": "positive"}.get(kind, "neutral (net charge 0)")
        cand.fail(f"charge/kind mismatch: kind {kind} must be {need}, but SMILES {smiles!r} "
                  f"has net charge {q:+d}")
    if kind != "salt" and len(cand.fragments) > 1:
        cand.fail(f"kind {kind} must be one molecule, but SMILES {smiles!r} has {len(cand.fragments)} "
                  "dot-separated fragments (an ion pair is a row of kind salt)")
    if kind == "salt":
        _check_salt_fragments(cand)


def size_problem(name: str, n_atoms: int, limit: int, setting: str = "max_atoms") -> str | None:
    """The size guard (config ``max_atoms``) for one molecule, or ``None`` when it passes."""
    if n_atoms <= limit:
        return None
    where = " (config)" if setting == "max_atoms" else ""
    return (f"{name} has {n_atoms} atoms (hydrogens included), more than {setting} = {limit}{where}; "
            f"such a molecule's jobs run for hours; raise {setting} knowingly or leave it out")


def _infer_kind(charge: int, fragments: list[tuple[str, int]]) -> str:
    if len(fragments) > 1 and charge == 0:
        return "salt"
    return "anion" if charge < 0 else "cation" if charge > 0 else "solvent"


def _check_salt_fragments(cand: _Candidate) -> None:
    """A salt is one cation fragment plus anion fragment(s) of one structure, no neutrals."""
    cations = [s for s, q in cand.fragments if q > 0]
    anions = [s for s, q in cand.fragments if q < 0]
    neutral = [s for s, q in cand.fragments if q == 0]
    if not anions:
        cand.fail("salt without anion: the SMILES has no negatively charged fragment; write the ion "
                  "pair with dots, e.g. [K+].O=S(=O)(F)[N-]S(=O)(=O)F")
    if len(cations) != 1:
        cand.fail(f"a salt needs exactly one cation fragment, found {len(cations)}")
    if len(set(anions)) > 1:
        cand.fail(f"mixed-anion salts are not supported (anion fragments {sorted(set(anions))}); "
                  "list each salt on its own row")
    if neutral:
        cand.fail(f"a salt row is an ion pair, but it contains neutral fragment(s) {neutral}")


def _check_density(cand: _Candidate) -> None:
    density = cand.record["density_g_per_mL"]
    if not isinstance(density, float):
        return  # empty, or not a number (reported by the row schema)
    if cand.kind in ("anion", "cation"):
        cand.fail(f"density is only used for liquids and salts, not for kind {cand.kind}; leave it empty")
    if not cand.record["density_source"]:
        cand.fail("density_source is empty: name where the density comes from (handbook, supplier data "
                  "sheet) or write 'estimate'")


def _check_dielectric(cand: _Candidate) -> None:
    eps = cand.record["dielectric_constant"]
    if not isinstance(eps, float):
        return  # empty, or not a number (reported by the row schema)
    if cand.kind not in LIQUID_KINDS:
        cand.fail(f"dielectric_constant is only used for solvents and diluents, not for kind {cand.kind}; leave it empty")
    if not cand.record["dielectric_source"]:
        cand.fail("dielectric_source is empty: name where the dielectric constant comes from")


def _load_library(paths: list[PathLike]) -> tuple[Library, list[ValidationError], set[str]]:
    """Library of the valid rows, all errors, and the names/aliases of the invalid rows.

    Returning a partial library lets formulation checks run without repeating (as
    "unknown component") a problem already reported on the molecule row.
    """
    errors: list[ValidationError] = []
    cands: list[_Candidate] = []
    for path in paths:
        for row in _read_table(path, LIBRARY_COLUMNS, LIBRARY_REQUIRED, errors):
            cands.append(_parse_molecule_row(row, str(path)))
    _check_unique_names(cands)
    _check_unique_structures(cands)
    _check_salt_ions(cands)
    library = Library(_to_molecule(c) for c in cands if not c.errors)
    broken = {k.lower() for c in cands if c.errors for k in [c.record["name"] or "", *c.record["aliases"]] if k}
    for c in cands:
        errors.extend(c.errors)
    return library, errors, broken


def _first_seen(cand: _Candidate) -> str:
    return f"{cand.src}, row {cand.row.where}"


def _check_unique_names(cands: list[_Candidate]) -> None:
    seen: dict[str, tuple[_Candidate, str]] = {}
    for c in cands:
        for key in [c.record["name"], *c.record["aliases"]]:
            if not isinstance(key, str) or not key:
                continue
            prev = seen.get(key.lower())
            if prev is None:
                seen[key.lower()] = (c, key)
            elif prev[0] is c:
                c.fail(f"alias {key!r} repeats this row's own name or alias")
            else:
                c.fail(f"duplicate name or alias {key!r}: already used by {prev[0].record['name']!r} "
                       f"({_first_seen(prev[0])}); names and aliases must be unique (case-insensitive)")


def _check_unique_structures(cands: list[_Candidate]) -> None:
    seen: dict[str, _Candidate] = {}
    for c in cands:
        if not c.canonical:
            continue
        prev = seen.setdefault(c.canonical, c)
        if prev is not c:
            c.fail(f"duplicate structure: {c.record['name']!r} is the same molecule as {prev.record['name']!r} "
                   f"({_first_seen(prev)}; canonical SMILES {c.canonical}); make {c.record['name']!r} an alias "
                   f"of {prev.record['name']!r} (aliases column) instead of a separate row")


def _check_salt_ions(cands: list[_Candidate]) -> None:
    """Each salt's cation and anion must be cation/anion rows of the (whole) library."""
    ions = {(c.canonical, c.kind): c for c in cands if c.kind in ("cation", "anion") and not c.errors}
    for c in cands:
        if c.kind != "salt" or c.mol is None:
            continue
        for smiles, q in dict.fromkeys(c.fragments):
            kind = "cation" if q > 0 else "anion" if q < 0 else None
            if kind is None:
                continue
            ion = ions.get((smiles, kind))
            if ion is None:
                c.fail(f"the salt's {kind} {smiles} is not a valid {kind} row of the library; "
                       f"add it as a row of kind {kind} (its structure is computed on its own)")
            elif kind == "cation":
                c.record["cation"] = ion.record["name"]
            else:
                c.record["anion"] = ion.record["name"]


def _to_molecule(c: _Candidate) -> Molecule:
    r = c.record
    return Molecule(
        name=r["name"],
        smiles=r["smiles"],
        kind=c.kind,
        aliases=tuple(r["aliases"]),
        full_name=r["full_name"] or "",
        charge=c.charge,
        canonical_smiles=c.canonical,
        molar_mass_g_per_mol=round(sum(a.GetMass() for a in c.mol.GetAtoms()), 4),
        density_g_per_mL=r["density_g_per_mL"],
        density_source=r["density_source"] or "",
        source=c.src,
        row=c.row.number,
        cation=r.get("cation"),
        anion=r.get("anion"),
        n_atoms=c.mol.GetNumAtoms(),
        dielectric_constant=r.get("dielectric_constant"),
        dielectric_source=r.get("dielectric_source") or "",
    )


def load_library(paths: PathLike | Iterable[PathLike]) -> Library:
    """Load and validate one candidate table, or several whose rows are added in order.

    Parameters
    ----------
    paths
        A CSV path, or a list of them (the default library first, then custom ones).
        Names, aliases and structures must be unique across all of them.

    Raises
    ------
    ValidationErrors
        Every problem found, each naming file, row and reason.
    """
    library, errors, _ = _load_library(_as_paths(paths))
    if errors:
        raise ValidationErrors(errors)
    return library


# ============================================================================ formulations
def _parse_components(text: str) -> tuple[list[tuple[str, float]], list[str]]:
    """``"DME:1|TTE:2"`` -> ``[("DME", 1.0), ("TTE", 2.0)]`` and the reasons it fails."""
    parts, reasons = [], []
    for item in text.split("|"):
        item = item.strip()
        name, sep, ratio_text = item.partition(":")
        name, ratio_text = name.strip(), ratio_text.strip()
        if not name:
            reasons.append(f"components {text!r}: empty component (expected NAME:RATIO|NAME:RATIO)")
            continue
        ratio = _number(ratio_text) if sep else 1.0
        if not isinstance(ratio, float) or ratio <= 0 or ":" in ratio_text:
            reasons.append(f"components {text!r}: ratio {ratio_text!r} of {name!r} is not a positive number")
            continue
        if not RATIO_RANGE[0] <= ratio <= RATIO_RANGE[1]:
            reasons.append(f"components {text!r}: ratio {ratio_text!r} of {name!r} is outside "
                           f"{RATIO_RANGE[0]:g}-{RATIO_RANGE[1]:g} (relative parts; smaller shares are additives)")
            continue
        parts.append((name, ratio))
    return parts, reasons


def _parse_formulation_row(row: _Row, src: str, library: Library, broken: set[str]
                           ) -> tuple[Formulation | None, list[str]]:
    c = row.cells
    record = {
        "id": c.get("id") or None,
        "salt": c.get("salt") or None,
        "concentration_mol_per_L": _number(c.get("concentration_mol_per_L", "")),
        "components": c.get("components") or None,
        "ratio_basis": c.get("ratio_basis", "").lower() or "volume",
        "reported_class": c.get("reported_class", "").upper() or None,
        "ratio_reported": _flag(c.get("ratio_reported", "")),
        "source": c.get("source") or None,
        "set": c.get("set", "").lower() or None,
    }
    reasons = _row_schema_errors("formulation", record)

    def lookup(name: str) -> Molecule | None:
        """Resolve, recording the reason unless the row was already reported broken."""
        try:
            return library.resolve(name)
        except ValidationError as exc:
            if name.strip().lower() not in broken:
                reasons.append(exc.reason)
            return None

    salt = lookup(record["salt"]) if record["salt"] else None
    if salt is not None and salt.kind != "salt":
        reasons.append(f"salt {record['salt']!r} is a row of kind {salt.kind}, not a salt "
                       f"(salts: {', '.join(library.names('salt'))})")
        salt = None

    components: list[tuple[str, float]] = []
    if record["components"]:
        parts, bad = _parse_components(record["components"])
        reasons.extend(bad)
        seen: dict[str, str] = {}
        for name, ratio in parts:
            mol = lookup(name)
            if mol is None:
                continue
            if not mol.is_liquid:
                reasons.append(f"component {name!r} is a{'n' if mol.kind[0] in 'aeiou' else ''} {mol.kind}; "
                               "components must be solvents or diluents (the salt has its own column)")
            elif mol.name in seen:
                reasons.append(f"components {seen[mol.name]!r} and {name!r} are the same molecule "
                               f"({mol.name}); list it once")
            elif mol.density_g_per_mL is None:
                reasons.append(f"component {mol.name!r} has no density_g_per_mL in the library; it is needed to "
                               f"turn {record['ratio_basis']} ratios and molarity into a salt:solvent ratio "
                               "(give a value, with density_source 'estimate' if unsure)")
            seen.setdefault(mol.name, name)
            components.append((mol.name, ratio))

    conc = record["concentration_mol_per_L"]
    if salt is not None and isinstance(conc, float) and conc * salt.molar_mass_g_per_mol > MAX_SALT_MASS_G_PER_L:
        reasons.append(f"more salt than fits: {conc:g} mol/L of {salt.name} is "
                       f"{conc * salt.molar_mass_g_per_mol:.0f} g of salt per litre of solution "
                       f"(limit {MAX_SALT_MASS_G_PER_L:.0f} g/L)")
    if reasons or salt is None:
        return None, reasons
    return Formulation(
        id=record["id"],
        salt=salt.name,
        concentration_mol_per_L=conc,
        components=tuple(components),
        ratio_basis=record["ratio_basis"],
        reported_class=record["reported_class"],
        source=record["source"] or "",
        ratio_reported=record["ratio_reported"],
        row=row.number,
        file=src,
        set=record["set"],
    ), []


def _load_formulations(paths: list[PathLike], library: Library, broken: set[str] = frozenset()
                       ) -> tuple[list[Formulation], list[ValidationError]]:
    errors: list[ValidationError] = []
    formulations: list[Formulation] = []
    first: dict[str, str] = {}
    for path in paths:
        src = str(path)
        for row in _read_table(path, FORMULATION_COLUMNS, FORMULATION_REQUIRED, errors):
            fid = row.cells.get("id", "")
            reasons = []
            if fid and fid in first:
                reasons.append(f"duplicate id {fid!r} (first used at {first[fid]})")
            if fid.lower().startswith(GRID_ID_PREFIX):
                reasons.append(f"id {fid!r} starts with {GRID_ID_PREFIX!r}: such ids belong to the formulations the "
                               "screening grid generates (config grid), so the two could collide; choose another id")
            first.setdefault(fid, f"{src}, row {row.where}")
            form, more = _parse_formulation_row(row, src, library, broken)
            reasons.extend(more)
            errors.extend(ValidationError(r, source=src, row=row.where) for r in reasons)
            if form is not None and not reasons:
                formulations.append(form)
    return formulations, errors


def load_formulations(paths: PathLike | Iterable[PathLike], library: Library) -> list[Formulation]:
    """Load and validate one formulation table, or several (ids unique across them).

    Raises
    ------
    ValidationErrors
        Every problem found, each naming file, row and reason.
    """
    formulations, errors = _load_formulations(_as_paths(paths), library)
    if errors:
        raise ValidationErrors(errors)
    return formulations


# ============================================================================ config
def _key_path(path: Iterable[Any]) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "(top level)"


def _config_errors(err: jsonschema.ValidationError) -> list[ValidationError]:
    """User-facing errors for one schema violation, naming the config key path."""
    path = list(err.absolute_path)
    if err.validator == "additionalProperties":
        allowed = list(err.schema.get("properties", {}))
        return [ValidationError(f"{_key_path(path + [k])}: unknown key; allowed keys here: {', '.join(allowed)}",
                                source="config")
                for k in err.instance if k not in allowed]
    if err.validator in ("oneOf", "anyOf") and "description" in err.schema:
        reason = f"{err.instance!r} is not valid; expected {err.schema['description']}"
    else:
        reason = err.message
    return [ValidationError(f"{_key_path(path)}: {reason}", source="config")]


def _resolve_path(base_dir: PathLike, value: str) -> str:
    p = Path(value).expanduser()
    return str(p if p.is_absolute() else Path(base_dir) / p)


def load_config(config: Mapping | None, base_dir: PathLike = ".") -> dict:
    """Validate a workflow config against the schema and fill in its defaults.

    Parameters
    ----------
    config
        The config mapping (e.g. Snakemake's ``config``); not modified.
    base_dir
        Directory that relative paths (``library``, ``extra_libraries``, ``formulations``,
        ``extra_formulations``, ``results``) are resolved against. With the default
        ``"."`` relative paths stay relative, so calling this again on its own output
        changes nothing.

    Returns
    -------
    dict
        A new, complete config.

    Raises
    ------
    ValidationErrors
        One entry per problem, each naming the key path (``engine.method``) and reason.
    """
    if config is None:
        config = {}
    if not isinstance(config, Mapping):
        raise ValidationErrors([ValidationError(
            f"the config must be a mapping of keys to values, not {type(config).__name__}", source="config")])
    cfg = copy.deepcopy(dict(config))
    validator = _DefaultFillingValidator(load_schema("config"))
    errors = [e for err in sorted(validator.iter_errors(cfg), key=lambda e: list(map(str, e.absolute_path)))
              for e in _config_errors(err)]
    if errors:
        raise ValidationErrors(errors)
    for key in ("library", "formulations", "results"):
        cfg[key] = _resolve_path(base_dir, cfg[key])
    for key in ("extra_libraries", "extra_formulations"):
        cfg[key] = [_resolve_path(base_dir, p) for p in cfg[key]]
    return cfg


def _check_settings(config: dict, errors: list[ValidationError]) -> None:
    """Settings the schema cannot express (combinations) are checked by their own classes."""
    from ..xtb.engine import EngineSettings
    from ..xtb.structures import ConformerSettings

    for key, cls in (("engine", EngineSettings), ("conformers", ConformerSettings)):
        try:
            cls(**config[key])
        except (InputError, TypeError, ValueError) as exc:
            errors.append(ValidationError(f"{key}: {exc}", source="config"))


def _existing(config: dict, key: str, errors: list[ValidationError]) -> list[str]:
    values = config[key] if isinstance(config[key], list) else [config[key]]
    found = []
    for i, p in enumerate(values):
        if Path(p).is_file():
            found.append(p)
        else:
            where = key if key in ("library", "formulations") else f"{key}[{i}]"
            errors.append(ValidationError(f"{where}: no such file {p!r}", source="config"))
    return found


def _check_selection(config: dict, library: Library, broken: set[str], errors: list[ValidationError]) -> None:
    """``molecules`` and ``cations`` must name library rows of the right kind."""
    selections = [("cations", config["cations"])]
    if config["molecules"] != "all":
        selections.append(("molecules", config["molecules"]))
    for key, names in selections:
        for i, name in enumerate(names):
            mol = library.get(name)
            if mol is None:
                if name.lower() not in broken:
                    errors.append(ValidationError(f"{key}[{i}]: unknown molecule {name!r}", source="config"))
            elif key == "cations" and mol.kind != "cation":
                errors.append(ValidationError(f"cations[{i}]: {name!r} is {'an' if mol.kind[0] in 'aeiou' else 'a'} {mol.kind}, not a cation "
                                              f"(cations: {', '.join(library.names('cation'))})", source="config"))
            elif key == "molecules" and mol.kind == "salt":
                errors.append(ValidationError(
                    f"molecules[{i}]: {name!r} is a salt; salts are not computed on their own, list its ions "
                    f"({mol.cation}, {mol.anion}) or a formulation that uses it", source="config"))


def check_molecule_size(config: dict, library: Library, formulations: list[Formulation]) -> list[ValidationError]:
    """Size guard: every molecule computed on its own has at most ``max_atoms`` atoms (H included)."""
    return [ValidationError(reason, source=m.source, row=m.row) for m in library if m.kind != "salt"
            and (reason := size_problem(m.name, m.n_atoms, config["max_atoms"])) is not None]


def _reference(library: Library, key: str, name: str, kinds: tuple[str, ...]) -> ValidationError | None:
    """An error when the config key ``key`` names no library row of one of ``kinds``."""
    mol = library.get(name)
    if mol is None:
        try:
            library.resolve(name)
        except ValidationError as exc:
            return ValidationError(f"{key}: {exc.reason}", source="config")
    if mol.kind not in kinds:
        names = ", ".join(n for k in kinds for n in library.names(k))
        return ValidationError(f"{key}: {name!r} is a{'n' if mol.kind[0] in 'aeiou' else ''} {mol.kind}, "
                               f"not a{'n' if kinds[0][0] in 'aeiou' else ''} {' or '.join(kinds)} ({names})",
                               source="config")
    return None


def check_references(config: dict, library: Library, formulations: list[Formulation]) -> list[ValidationError]:
    """Every config value that names a library row names one of the right kind (key path in the message)."""
    refs: list[tuple[str, str, tuple[str, ...]]] = []
    refs += [(f"binding.exchange_anions[{i}]", n, ("anion",))
             for i, n in enumerate((config.get("binding") or {}).get("exchange_anions", ["FSI"]))]
    ranking, grid = config.get("ranking") or {}, config.get("grid") or {}
    if ranking.get("salt") is not None:
        refs.append(("ranking.salt", ranking["salt"], ("salt",)))
    for key in ("k_metal_stable_references", "k_metal_reduced_references"):
        names = list(ranking.get(key) or [])
        # the default lists name molecules of the default library: one a smaller library lacks leaves
        # the K-metal verdict undecided (said in the ranking's reasons); a list you set must name rows
        default = names == load_schema("config")["properties"]["ranking"]["properties"][key]["default"]
        refs += [(f"ranking.{key}[{i}]", n, LIQUID_KINDS) for i, n in enumerate(names)
                 if not (default and n not in library)]
    refs += [(f"grid.salts[{i}]", n, ("salt",)) for i, n in enumerate(grid.get("salts") or [])]
    for key in ("solvents", "diluents"):
        if grid.get(key, "all") != "all":
            refs += [(f"grid.{key}[{i}]", n, LIQUID_KINDS) for i, n in enumerate(grid[key])]
    return [e for key, name, kinds in refs if (e := _reference(library, key, name, kinds)) is not None]


ConfigChecker = Callable[[dict, Library, "list[Formulation]"], "list[ValidationError]"]

#: The checks of this module that :func:`validate_inputs` runs on a complete config with its
#: library and formulations; each returns its errors (config key path or file and row in each).
#: The stage packages' section checks (md/, dft/) are added by :mod:`solvscreen.interface.inputs`, which
#: sits above them: this module knows no stage.
BASE_CONFIG_CHECKERS: list[ConfigChecker] = [check_molecule_size, check_references]


def validate_inputs(config: Mapping, checkers: "list[ConfigChecker]") -> tuple[Library, list[Formulation]]:
    """Validate everything a run needs; return the library and the formulations. The entry
    point is :func:`solvscreen.interface.inputs.validate_all` (these checks and every stage's).

    ``config`` may be raw or already passed through :func:`load_config` (paths already
    resolved stay as they are). Checks the config, the settings, every library and
    formulation file, that the config's ``molecules`` and ``cations`` exist, then every
    checker in ``checkers`` (size guard, cross-references, stage sections).

    Raises
    ------
    ValidationErrors
        All problems found, across all files.
    """
    config = load_config(config)
    errors: list[ValidationError] = []
    _check_settings(config, errors)
    library_paths = _existing(config, "library", errors) + _existing(config, "extra_libraries", errors)
    formulation_paths = (_existing(config, "formulations", errors)
                         + _existing(config, "extra_formulations", errors))
    library, lib_errors, broken = _load_library(library_paths)
    errors.extend(lib_errors)
    formulations, form_errors = _load_formulations(formulation_paths, library, broken)
    errors.extend(form_errors)
    _check_selection(config, library, broken, errors)
    for checker in checkers:
        errors.extend(e for e in checker(config, library, formulations)
                      if not (e.source == "config" and _names_broken_row(e, broken)))
    if errors:
        raise ValidationErrors(errors)
    return library, formulations


def _names_broken_row(error: ValidationError, broken: set[str]) -> bool:
    """True for an "unknown molecule" error about a row already reported as invalid."""
    return "unknown molecule" in error.reason and any(f"'{b}'" in error.reason.lower() for b in broken)


def read_config_files(paths: Iterable[PathLike]) -> dict:
    """Merge YAML config files (later ones on top, nested sections merged like Snakemake's).

    A missing file or malformed YAML is a :class:`ValidationErrors` naming the file (and
    the line), never a traceback.
    """
    config: dict = {}
    errors: list[ValidationError] = []
    for path in _as_paths(paths):
        try:
            text = Path(path).read_text()
        except OSError as exc:
            errors.append(ValidationError(f"cannot read config file: {exc.strerror or exc}", source=str(path)))
            continue
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
            problem = getattr(exc, "problem", None) or str(exc)
            errors.append(ValidationError(f"malformed YAML: {where}{problem}", source=str(path)))
            continue
        if data is None:
            continue
        if not isinstance(data, Mapping):
            errors.append(ValidationError(f"a config file must be a mapping of keys to values, "
                                          f"not {type(data).__name__}", source=str(path)))
            continue
        deep_update(config, data)
    if errors:
        raise ValidationErrors(errors)
    return config


def deep_update(base: dict, new: Mapping) -> dict:
    for k, v in new.items():
        if isinstance(v, Mapping) and isinstance(base.get(k), dict):
            deep_update(base[k], v)
        else:
            base[k] = copy.deepcopy(v) if isinstance(v, (dict, list)) else v
    return base


# ============================================================================ summary
def summary(library: Library, formulations: list[Formulation]) -> str:
    """Human-readable overview of a validated library and its formulations."""
    lines = [f"library: {len(library)} molecules ({len(library.computed_names())} computed individually)"]
    for kind in KINDS:
        mols = [library.molecules[n] for n in library.names(kind)]
        if not mols:
            continue
        lines.append(f"  {kind} ({len(mols)}):")
        for m in mols:
            extra = [f"aliases {', '.join(m.aliases)}"] if m.aliases else []
            if m.density_g_per_mL is not None:
                extra.append(f"{m.density_g_per_mL:g} g/mL" + (" (estimate)" if m.density_is_estimate else ""))
            if m.kind == "salt":
                extra.append(f"{m.cation} + {m.anion}")
            lines.append(f"    {m.name:<10} {m.canonical_smiles}" + (f"  [{'; '.join(extra)}]" if extra else ""))
    lines.append(f"formulations: {len(formulations)}")
    for f in formulations:
        comps = ":".join(n for n in f.component_names)
        ratios = ":".join(f"{r:g}" for _, r in f.components)
        ratio = f" {ratios} ({f.ratio_basis}{'' if f.ratio_reported is not False else ', assumed'})" \
            if len(f.components) > 1 else ""
        cls = f"  reported {f.reported_class}" if f.reported_class else ""
        lines.append(f"  {f.id:<22} {f.concentration_mol_per_L:g} M {f.salt} in {comps}{ratio}{cls}")
    return "\n".join(lines)
