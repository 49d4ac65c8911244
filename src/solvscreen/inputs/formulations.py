"""Electrolyte formulations: :class:`Formulation` and :func:`load_formulations`.

Formulation table (``molecules/formulations.csv``)::

    id,salt,concentration_mol_per_L,components,ratio_basis,reported_class,ratio_reported,source,set

``components`` is ``NAME:RATIO|NAME:RATIO...`` (a missing ratio means 1); names and
aliases are resolved to row names of the :class:`~solvscreen.inputs.library.Library`.
Listing one structure twice in a formulation (e.g. ``DGM:1|G2:1``, two names of diglyme)
is an error, not a silent merge: it is almost always a typo for another component.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass


from ..core.errors import ValidationError, ValidationErrors
from .schema import (
    FORMULATION_COLUMNS, FORMULATION_REQUIRED, GRID_ID_PREFIX, MAX_SALT_MASS_G_PER_L, PathLike, RATIO_RANGE,
    _Row, _as_paths, _flag, _number, _read_table, _row_schema_errors,
)
from .library import Library, Molecule


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
