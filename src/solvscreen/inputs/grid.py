"""The screening grid: formulations generated from the config, so that every new candidate
is classified without anyone writing formulations by hand.

Two families (config section ``grid``):

- **single solvents**: every candidate solvent x every salt x ``concentrations_mol_per_L``
  (e.g. 1, 2 and 4 M KFSI in each solvent: LCE, WSE or HCE?);
- **solvent + diluent pairs**: every solvent x every diluent x ``pair_ratios`` (volume parts
  solvent : diluent) x ``pair_concentrations_mol_per_L`` (is the pair an LHCE?).

"Solvent" and "diluent" here are only the library's ``kind`` hints, used to decide which
pairs to try; the classifier decides the roles from descriptors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from ..core.errors import InputError
from ..core.settings import ConfigSection
from .schema import MAX_CONCENTRATION_MOL_PER_L
from .formulations import Formulation


@dataclass(frozen=True)
class GridSettings(ConfigSection):
    """Config section ``grid``: the generated screening formulations."""

    SECTION = "grid"

    enabled: bool = True
    salts: tuple[str, ...] = ("KFSI",)
    solvents: tuple[str, ...] | str = "all"  # names/aliases, or "all" (every computed solvent)
    diluents: tuple[str, ...] | str = "all"  # names/aliases, or "all" (every computed diluent)
    concentrations_mol_per_L: tuple[float, ...] = (1.0, 2.0, 4.0)
    pair_concentrations_mol_per_L: tuple[float, ...] = (1.0, 2.0)
    pair_ratios: tuple[tuple[float, float], ...] = ((1.0, 1.0),)
    pair_ratio_basis: str = "volume"

    def __post_init__(self) -> None:
        if self.pair_ratio_basis not in ("volume", "molar"):
            raise InputError(f"grid.pair_ratio_basis must be volume or molar, not {self.pair_ratio_basis!r}")
        for key in ("concentrations_mol_per_L", "pair_concentrations_mol_per_L"):
            if any(not (0 < c <= MAX_CONCENTRATION_MOL_PER_L) for c in getattr(self, key)):
                raise InputError(f"grid.{key}: every concentration must be in (0, {MAX_CONCENTRATION_MOL_PER_L:g}] mol/L")
        for r in self.pair_ratios:
            if len(r) != 2 or any(not x > 0 for x in r):
                raise InputError(f"grid.pair_ratios: {list(r)} is not a pair of positive volume parts")

    @classmethod
    def _prepare(cls, d: dict) -> dict:
        for key in ("salts", "concentrations_mol_per_L", "pair_concentrations_mol_per_L"):
            if key in d:
                d[key] = tuple(d[key])
        for key in ("solvents", "diluents"):
            if key in d and d[key] != "all":
                d[key] = tuple(d[key])
        if "pair_ratios" in d:
            d["pair_ratios"] = tuple(tuple(float(x) for x in r) for r in d["pair_ratios"])
        return d


@dataclass(frozen=True)
class GridFormulation(Formulation):
    """A generated formulation: a :class:`solvscreen.inputs.formulations.Formulation` with grid defaults
    and its ``family`` ("single" solvent or solvent + diluent "pair")."""

    source: str = "screening grid (config: grid)"
    ratio_reported: bool | None = True
    row: int | str = ""
    file: str = "config grid"
    family: str = "single"


def _pick(library, selection, kind: str, available: set[str] | None) -> list[str]:
    if selection == "all":
        names = [m.name for m in library if m.kind == kind]
    else:
        names = [library.resolve(n).name for n in selection]
    names = [n for n in names if getattr(library.molecules[n], "density_g_per_mL", None)]
    return [n for n in names if available is None or n in available]


def _c(c: float) -> str:
    """Concentration in an id: no dots (record names are file-safe), 1.5 -> ``1p5M``."""
    return f"{c:g}M".replace(".", "p")


def make_grid(settings: GridSettings, library, available: Iterable[str] | None = None) -> list[GridFormulation]:
    """Every grid formulation whose molecules are in ``available`` (default: all of the library)."""
    if not settings.enabled:
        return []
    avail = set(available) if available is not None else None
    salts = [library.resolve(s).name for s in settings.salts]
    solvents = _pick(library, settings.solvents, "solvent", avail)
    diluents = _pick(library, settings.diluents, "diluent", avail)
    out: list[GridFormulation] = []
    for salt in salts:
        for s in solvents:
            for c in settings.concentrations_mol_per_L:
                fid = f"grid-{salt}-{s}-{_c(c)}"
                out.append(GridFormulation(fid, salt, float(c), ((s, 1.0),), row=fid, family="single"))
        for s in solvents:
            for d in diluents:
                if d == s:
                    continue
                for a, b in settings.pair_ratios:
                    for c in settings.pair_concentrations_mol_per_L:
                        tag = f"{a:g}:{b:g}{'v' if settings.pair_ratio_basis == 'volume' else 'mol'}".replace(".", "p")
                        fid = f"grid-{salt}-{s}+{d}-{tag}-{_c(c)}"
                        out.append(GridFormulation(fid, salt, float(c), ((s, float(a)), (d, float(b))),
                                                   ratio_basis=settings.pair_ratio_basis, row=fid, family="pair"))
    return out
