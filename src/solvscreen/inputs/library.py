"""The candidate library: :class:`Molecule`, :class:`Library` and :func:`load_library`.

The formulations are :mod:`.formulations`, the config and the checks of a whole run
:mod:`.config`, the tables' vocabulary and reading :mod:`.schema`. Every problem of a file
is collected and raised together as one :class:`~solvscreen.core.errors.ValidationErrors`;
each entry names the file, the row (``row N (line L)``, :mod:`.schema`) and the reason.

Candidate table (``molecules/library.csv``), one molecule per row::

    name,aliases,smiles,kind,full_name,density_g_per_mL,density_source

Only ``name`` and ``smiles`` are required columns; an empty ``kind`` is inferred from
the charge (neutral -> solvent, negative -> anion, positive -> cation, neutral ion
pair -> salt). A salt row is the dot-separated ion pair (``[K+].F[P-](F)(F)(F)(F)F``);
its cation and anion must also be rows of the library (their structures are computed
individually, the salt is not).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field

from rdkit import Chem

from ..core.errors import InputError, ValidationError, ValidationErrors
from ..xtb.structures import canonical_smiles, formal_charge, mol_from_smiles, parse_smiles, structure_problems
from .schema import (
    KINDS, LIBRARY_COLUMNS, LIBRARY_REQUIRED, LIQUID_KINDS, PathLike, _Row, _as_paths, _number, _read_table,
    _row_schema_errors,
)


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
