"""A design as part of a run: the ``design`` config section, the parents resolved against the
library, every derivative named and screened, and the survivors as library rows.

A derivative's run name is ``<parent>-<first 6 letters of its InChIKey>`` (``DME-ZNCHNT``): it
names the structure, so the same molecule keeps its name (and its records) whatever the
strategies or ``max_steps`` of a later run. A derivative already in the library keeps its library
name and is not added again. Surviving derivatives enter the library as kind ``solvent``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from rdkit import Chem

from ..core.errors import InputError
from ..core.settings import ConfigSection
from ..inputs.library import Library, Molecule, parse_smiles
from ..xtb.structures import canonical_smiles
from .density import derivative_density
from .filters import FilterSettings, Screened, screen
from .strategies import DEFAULT_STRATEGIES, STRATEGIES, Derivative, Enumeration, enumerate_derivatives

__all__ = ["DesignSettings", "DesignEntry", "Design", "FILTERS", "design_parent", "known_inchikeys",
           "run_design", "run_designs", "add_to_library", "DesignRun", "design_for_run", "write_library_csv", "LIBRARY_CSV_COLUMNS"]

#: the filters, in the order they are reported
FILTERS = ("elements", "size", "stability", "synthesis")


@dataclass(frozen=True)
class DesignSettings(ConfigSection):
    """Config section ``design`` (empty ``parents``: no design, the run is unchanged)."""

    SECTION = "design"

    parents: tuple[str, ...] = ()
    strategies: tuple[str, ...] = DEFAULT_STRATEGIES
    max_steps: int = 2
    max_atoms: int = FilterSettings.max_atoms
    max_sa_score: float = FilterSettings.max_sa_score
    min_boiling_point_K: float = FilterSettings.min_boiling_point_K

    def __post_init__(self) -> None:
        unknown = [s for s in self.strategies if s not in STRATEGIES]
        if unknown or not self.strategies:
            raise InputError(f"design.strategies: unknown {unknown or '(empty list)'}; "
                             f"strategies are {', '.join(STRATEGIES)}")
        if self.max_steps < 1:
            raise InputError(f"design.max_steps must be at least 1, not {self.max_steps}")

    @classmethod
    def _prepare(cls, d: dict) -> dict:
        for key in ("parents", "strategies"):
            if key in d:
                d[key] = tuple(d[key])
        return d

    @property
    def filters(self) -> FilterSettings:
        return FilterSettings(self.max_atoms, self.max_sa_score, self.min_boiling_point_K)


@dataclass(frozen=True)
class DesignEntry:
    """A derivative, its run name and its filter results."""

    name: str
    derivative: Derivative
    screened: Screened
    density_g_per_mL: float | None = None  # estimate (.density), None when the parent has none
    density_source: str = ""

    @property
    def new(self) -> bool:
        """Not already a library row."""
        return self.derivative.library_name is None

    def to_dict(self) -> dict:
        s = self.screened
        return {"name": self.name, **self.derivative.to_dict(), "passed": s.passed, "sa_score": s.sa_score,
                "T_b_joback_K": s.T_b_K, "density_g_per_mL": self.density_g_per_mL,
                "density_source": self.density_source, "failed": dict(s.failed), "warnings": list(s.warnings)}


@dataclass(frozen=True)
class Design:
    """One parent's design: the enumeration and every derivative screened."""

    enumeration: Enumeration
    entries: tuple[DesignEntry, ...]

    @property
    def parent(self) -> str:
        return self.enumeration.parent

    def removed_by(self) -> dict[str, int]:
        """{filter: derivatives it fails} (a derivative failing two filters counts in both)."""
        return {f: sum(f in e.screened.failed for e in self.entries) for f in FILTERS}

    @property
    def passed(self) -> list[DesignEntry]:
        return [e for e in self.entries if e.screened.passed]

    @property
    def new_passed(self) -> list[DesignEntry]:
        """What a run adds to its library: passed and not already a library row."""
        return [e for e in self.passed if e.new]


def known_inchikeys(library: Library) -> dict[str, str]:
    """InChIKey -> library name of every neutral single molecule (solvents, diluents)."""
    out = {}
    for m in library:
        if m.kind in ("solvent", "diluent"):
            try:
                out.setdefault(Chem.MolToInchiKey(parse_smiles(m.smiles)), m.name)
            except InputError:
                continue
    return out


def design_parent(text: str, library: Library | None) -> tuple[str, str]:
    """(name, SMILES) of a parent given by library name/alias or by SMILES.

    A SMILES that is a library row takes that row's name; any other is labelled
    ``P-<first 6 letters of its InChIKey>``.
    """
    if library is not None:
        mol = library.get(text)
        if mol is not None:
            if mol.kind not in ("solvent", "diluent"):
                raise InputError(f"design: parent {text!r} is a library {mol.kind}, not a solvent or diluent")
            return mol.name, mol.smiles
    try:
        parsed = parse_smiles(text) if text else None
    except InputError:
        parsed = None
    if parsed is None:
        what = "a library name or alias nor " if library is not None else ""
        raise InputError(f"design: parent {text!r} is neither {what}a valid SMILES")
    key = Chem.MolToInchiKey(parsed)
    if library is not None:
        name = known_inchikeys(library).get(key)
        if name:
            return name, library.molecules[name].smiles
    return f"P-{key[:6]}", text


def _run_name(parent: str, key: str, taken: set[str]) -> str:
    for n in (6, 8, 10, 14):
        name = f"{parent}-{key[:n]}"
        if name.lower() not in taken:
            return name
    raise InputError(f"design: no free name for the derivative {key} of {parent}")


def run_design(parent: str, library: Library | None, settings: DesignSettings = DesignSettings()) -> Design:
    """Enumerate and screen one parent (a library name or SMILES) against ``library``."""
    name, smiles = design_parent(parent, library)
    known = known_inchikeys(library) if library is not None else {}
    enum = enumerate_derivatives(name, smiles, settings.strategies, settings.max_steps, known)
    taken = {n.lower() for n in library.molecules} if library is not None else set()
    taken |= {a.lower() for m in (library or []) for a in m.aliases}
    row = library.molecules.get(name) if library is not None else None
    rho = row.density_g_per_mL if row is not None else None
    how = (f"estimate: {name} {rho:g} g/mL and Fedors (1974) molar-volume increments" if rho else "")
    entries = []
    for d in enum.derivatives:
        run_name = d.library_name or _run_name(name, d.inchikey, taken)
        taken.add(run_name.lower())
        density = derivative_density(smiles, rho, d.smiles) if rho else None
        entries.append(DesignEntry(run_name, d, screen(d.mol, settings.filters), density, how))
    return Design(enum, tuple(entries))


def run_designs(settings: DesignSettings, library: Library) -> list[Design]:
    """Every parent of the config section, in order (a derivative of two parents is kept with the first)."""
    designs, seen = [], set()
    for p in settings.parents:
        d = run_design(p, library, settings)
        entries = tuple(e for e in d.entries if e.derivative.inchikey not in seen)
        seen.update(e.derivative.inchikey for e in entries)
        designs.append(Design(d.enumeration, entries))
    return designs


def _molecule(entry: DesignEntry, source: str, row: int) -> Molecule:
    mol = parse_smiles(entry.derivative.smiles)
    return Molecule(
        name=entry.name, smiles=entry.derivative.smiles, kind="solvent", aliases=(),
        full_name=entry.derivative.path_text, charge=0, canonical_smiles=canonical_smiles(mol),
        molar_mass_g_per_mol=round(sum(a.GetMass() for a in Chem.AddHs(mol).GetAtoms()), 4),
        density_g_per_mL=entry.density_g_per_mL, density_source=entry.density_source, source=source, row=row,
        n_atoms=entry.derivative.n_atoms)


def add_to_library(library: Library, designs: Iterable[Design], source: str = "design") -> Library:
    """A new library: ``library`` and every new, passing derivative (kind solvent) after it."""
    new = [e for d in designs for e in d.new_passed]
    return Library([*library, *(_molecule(e, source, i + 1) for i, e in enumerate(new))])


#: the columns of a design's library table (molecules/library.csv's, plus where it came from)
LIBRARY_CSV_COLUMNS = ("name", "aliases", "smiles", "kind", "full_name", "density_g_per_mL", "density_source")


def write_library_csv(path: str | Path, designs: Iterable[Design]) -> int:
    """The new, passing derivatives as a library table (the rules after the stages read it); their count."""
    new = [e for d in designs for e in d.new_passed]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with tmp.open("w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(LIBRARY_CSV_COLUMNS)
        for e in new:
            w.writerow([e.name, "", e.derivative.smiles, "solvent", e.derivative.path_text,
                        "" if e.density_g_per_mL is None else f"{e.density_g_per_mL:g}", e.density_source])
    tmp.replace(path)
    return len(new)


# ============================================================================ a run's design
@dataclass(frozen=True)
class DesignRun:
    """A run's design (config ``design``): its designs, and the run's library and config with the
    new, passing derivatives added (``extra_libraries`` gains ``library_csv``, which the workflow's
    ``design_library`` rule writes for the rules that read library tables; an explicit
    ``molecules`` list gains their names)."""

    settings: DesignSettings
    designs: tuple[Design, ...]
    library: Library
    config: dict
    library_csv: str
    source_libraries: tuple[str, ...]

    @property
    def names(self) -> list[str]:
        return [e.name for d in self.designs for e in d.new_passed]

    def cli_args(self) -> list[str]:
        """The ``solvscreen design`` arguments that rebuild these designs (parents, strategies, limits)."""
        s = self.settings
        return [*s.parents, "--strategies", *s.strategies, "--max-steps", str(s.max_steps),
                "--max-atoms", str(s.max_atoms), "--max-sa-score", repr(float(s.max_sa_score)),
                "--min-boiling-point-K", repr(float(s.min_boiling_point_K))]


def design_for_run(config: dict, library: Library) -> DesignRun | None:
    """The design of a validated run config, or ``None`` when ``design.parents`` is empty.

    Raises
    ------
    ValidationError
        A parent that is neither a library solvent/diluent nor a valid SMILES (key path named).
    """
    from ..core.errors import ValidationError

    try:
        settings = DesignSettings.from_dict((config or {}).get("design"))
    except InputError as exc:
        raise ValidationError(str(exc), source="config") from exc
    if not settings.parents:
        return None
    try:
        designs = tuple(run_designs(settings, library))
    except InputError as exc:
        raise ValidationError(str(exc), source="config") from exc
    sources = (config["library"], *config["extra_libraries"])
    csv_path = str(Path(config["results"]) / "design" / "library.csv")
    out = dict(config, extra_libraries=[*config["extra_libraries"], csv_path])
    run = DesignRun(settings, designs, add_to_library(library, designs), out, csv_path, sources)
    if config.get("molecules", "all") != "all":
        out["molecules"] = list(dict.fromkeys([*config["molecules"], *run.names]))
    return run
