"""Formulation composition: moles of salt and of every component in one litre.

A formulation is given the way papers give it: a salt molarity ``c`` (mol per litre of
*solution*) and the mixing ratios of the liquid components, by volume (``1:1`` = equal
volumes of the neat liquids) or by moles. From the components' densities and molar masses
this module turns that into moles per litre of each component and the molar ratio
salt : component (written ``1 : x`` as in the literature). It knows nothing about roles;
:mod:`solvscreen.classify` decides which components solvate the cation and asks
:func:`salt_to_solvent_ratio` for the *local* salt : solvating-solvent ratio.

Assumptions (also stated in every :class:`Composition` as ``assumptions``):

- **Ideal mixing** of the liquid components: the volume of the solvent blend is the sum of
  the volumes of the neat liquids (excess volumes of ether/fluoroether blends are a few
  percent at most).
- **Salt volume**: by default (``salt_volume = "estimate"``) the dissolved salt occupies
  ``c * M_salt / rho_salt`` of the litre, with ``rho_salt`` the salt's density from the
  library or, when the library has none (the default library gives none),
  ``default_salt_density_g_per_mL`` = 2.0 g/mL: a round estimate a little below the crystal
  densities of potassium salts (~2.1-2.8 g/mL), because a dissolved salt's partial molar
  volume is usually larger than its crystal volume. It is an estimate: +-15 % on it moves
  the salt : solvent ratio by about +-15 % at 4 M and by a few percent at 1 M.
  ``salt_volume = "neglect"`` takes the litre to be all solvent (the usual simplification
  at <= 1 M; it overcounts the solvent by ~10 % at 1 M and ~60 % at 4 M).
- A density whose ``density_source`` says it is an estimate is flagged in ``assumptions``
  with the component's name; the numbers are only as good as that estimate.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Iterable, Protocol

from ..core.errors import ValidationError
from ..core.settings import ConfigSection

ML_PER_L = 1000.0


class MoleculeLike(Protocol):  # what composition needs from a library molecule
    name: str
    kind: str
    molar_mass_g_per_mol: float
    density_g_per_mL: float | None
    density_source: str


@dataclass(frozen=True)
class CompositionSettings(ConfigSection):
    """How volumes are turned into moles (config section ``classification.composition``)."""

    SECTION = "classification.composition"

    salt_volume: str = "estimate"  # "estimate" (c * M/rho of the salt) or "neglect"
    default_salt_density_g_per_mL: float = 2.0  # used when the library gives no salt density

    def __post_init__(self) -> None:
        if self.salt_volume not in ("estimate", "neglect"):
            raise ValueError(f"salt_volume must be 'estimate' or 'neglect', not {self.salt_volume!r}")
        if not self.default_salt_density_g_per_mL > 0:
            raise ValueError("default_salt_density_g_per_mL must be > 0")


@dataclass(frozen=True)
class ComponentAmount:
    name: str
    ratio: float  # as given (volume or molar parts)
    volume_fraction: float  # of the liquid blend (ideal mixing)
    mole_fraction: float  # of the liquid blend (salt excluded)
    mol_per_L: float  # of solution
    solvent_per_salt: float  # x in salt : component = 1 : x
    density_g_per_mL: float
    density_source: str
    molar_mass_g_per_mol: float

    @property
    def molar_volume_mL_per_mol(self) -> float:
        """Of the neat liquid."""
        return self.molar_mass_g_per_mol / self.density_g_per_mL


@dataclass(frozen=True)
class Composition:
    """Moles per litre of solution of the salt and of every liquid component."""

    formulation: str
    salt: str
    concentration_mol_per_L: float
    ratio_basis: str
    components: tuple[ComponentAmount, ...]
    salt_volume_fraction: float  # of the litre taken by the salt (0 when neglected)
    salt_molar_volume_mL_per_mol: float | None
    assumptions: tuple[str, ...] = field(default_factory=tuple)

    def component(self, name: str) -> ComponentAmount:
        for c in self.components:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.components]

    @property
    def solvent_mol_per_L(self) -> float:
        return sum(c.mol_per_L for c in self.components)

    @property
    def salt_to_all_solvent(self) -> float:
        """Molar ratio salt : all liquid components (r in r : 1)."""
        return salt_to_solvent_ratio(self, self.names)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["salt_to_all_solvent_molar_ratio"] = self.salt_to_all_solvent
        return d


def salt_to_solvent_ratio(comp: Composition, names: Iterable[str]) -> float:
    """Molar ratio salt : (sum of the named components), as a number r (r = 1/x for 1 : x).

    With ``names`` the solvating components this is the *local* salt : solvent ratio of an
    LHCE (the diluent does not enter the cation's shell, so it does not dilute the salt
    locally). Infinite when no named component is present.
    """
    n = sum(comp.component(name).mol_per_L for name in names)
    return math.inf if n <= 0 else comp.concentration_mol_per_L / n


def ratio_label(r: float) -> str:
    """``1:x`` text for a salt : solvent ratio r (r = 1/x)."""
    if r is None or not math.isfinite(r) or r <= 0:
        return "1:-" if r is None or r <= 0 else "1:0"
    x = 1.0 / r
    return f"1:{x:.2f}" if x < 10 else f"1:{x:.1f}"


def _is_estimate(source: str | None) -> bool:
    s = (source or "").lower()
    return (not s) or any(w in s for w in ("estimat", "predict", "group contribution", "assumed", "rdkit"))


def compose(
    formulation,
    molecule: Callable[[str], MoleculeLike],
    settings: CompositionSettings = CompositionSettings(),
) -> Composition:
    """Moles per litre of every component of ``formulation``.

    ``formulation`` has ``id, salt, concentration_mol_per_L, components`` ((name, ratio)
    pairs), ``ratio_basis`` ("volume" or "molar") and ``row``; ``molecule(name)`` returns the
    library entry (``molar_mass_g_per_mol``, ``density_g_per_mL``, ``density_source``).
    Raises :class:`ValidationError` naming the formulation's row when the numbers cannot
    describe a real solution (salt volume fills the litre, a component without density).
    """
    fid = getattr(formulation, "id", "?")
    row = getattr(formulation, "row", None)
    source = getattr(formulation, "file", None) or f"formulation {fid}"

    def fail(reason: str):
        raise ValidationError(reason, source=source, row=row)

    c = float(formulation.concentration_mol_per_L)
    if not (math.isfinite(c) and c > 0):
        fail(f"concentration {c!r} mol/L is not a positive number")
    comps = list(formulation.components)
    if not comps:
        fail("no liquid components")
    basis = getattr(formulation, "ratio_basis", "volume") or "volume"
    if basis not in ("volume", "molar"):
        fail(f"ratio_basis {basis!r} is neither 'volume' nor 'molar'")
    ratios = [float(r) for _, r in comps]
    if any(not (math.isfinite(r) and r > 0) for r in ratios):
        fail(f"component ratios {ratios} must all be positive")

    assumptions: list[str] = ["ideal mixing of the liquid components (additive volumes)"]
    salt = molecule(formulation.salt)
    if settings.salt_volume == "estimate":
        rho_s = getattr(salt, "density_g_per_mL", None)
        if rho_s and rho_s > 0:
            how = f"density {rho_s:g} g/mL from the library ({getattr(salt, 'density_source', '') or 'no source'})"
        else:
            rho_s = settings.default_salt_density_g_per_mL
            how = f"default density estimate {rho_s:g} g/mL (library gives none)"
        v_salt = salt.molar_mass_g_per_mol / rho_s  # mL/mol
        salt_frac = c * v_salt / ML_PER_L
        assumptions.append(f"salt {salt.name} occupies {v_salt:.0f} mL/mol ({how}): {salt_frac:.0%} of the litre")
        if salt_frac >= 0.95:
            fail(f"{c:g} mol/L of {salt.name} would take {salt_frac:.0%} of the litre "
                 f"(molar volume {v_salt:.0f} mL/mol): no room for the solvent")
    else:
        v_salt, salt_frac = None, 0.0
        assumptions.append("salt volume neglected: the litre is all solvent")

    mols = []
    for name, _ in comps:
        m = molecule(name)
        rho = getattr(m, "density_g_per_mL", None)
        if not rho or not rho > 0:
            fail(f"component {name} has no density: cannot convert its ratio to moles")
        flagged = getattr(m, "density_is_estimate", None)
        if flagged or (flagged is None and _is_estimate(getattr(m, "density_source", ""))):
            assumptions.append(f"density of {name} ({rho:g} g/mL) is an estimate "
                               f"({getattr(m, 'density_source', '') or 'no source given'})")
        mols.append(m)

    v_liquid_mL = ML_PER_L * (1.0 - salt_frac)
    vm = [m.molar_mass_g_per_mol / m.density_g_per_mL for m in mols]  # mL/mol of neat liquid
    total = sum(ratios)
    if basis == "volume":
        phi = [r / total for r in ratios]
        n = [p * v_liquid_mL / v for p, v in zip(phi, vm)]
    else:
        x = [r / total for r in ratios]
        n_tot = v_liquid_mL / sum(xi * v for xi, v in zip(x, vm))
        n = [xi * n_tot for xi in x]
        phi = [ni * v / v_liquid_mL for ni, v in zip(n, vm)]
    n_sum = sum(n)
    if len(comps) > 1 and getattr(formulation, "ratio_reported", None) is False:
        assumptions.append("mixing ratio not reported in the source: equal parts assumed")
    amounts = tuple(
        ComponentAmount(
            name=m.name if getattr(m, "name", None) else comps[i][0],
            ratio=ratios[i],
            volume_fraction=phi[i],
            mole_fraction=n[i] / n_sum,
            mol_per_L=n[i],
            solvent_per_salt=n[i] / c,
            density_g_per_mL=m.density_g_per_mL,
            density_source=getattr(m, "density_source", "") or "",
            molar_mass_g_per_mol=m.molar_mass_g_per_mol,
        )
        for i, m in enumerate(mols)
    )
    return Composition(
        formulation=fid,
        salt=formulation.salt,
        concentration_mol_per_L=c,
        ratio_basis=basis,
        components=amounts,
        salt_volume_fraction=salt_frac,
        salt_molar_volume_mL_per_mol=v_salt,
        assumptions=tuple(assumptions),
    )


def salt_volume_variants(formulation, molecule, cs: CompositionSettings, salt) -> list[Composition]:
    """Compositions with the estimated salt density 15 % lower and higher (this module's
    stated uncertainty of the estimate); none when the salt volume is neglected or the library
    gives the salt's density."""
    if cs.salt_volume != "estimate" or getattr(salt, "density_g_per_mL", None):
        return []
    out = []
    for f in (0.85, 1.15):
        try:
            out.append(compose(formulation, molecule, CompositionSettings(
                "estimate", cs.default_salt_density_g_per_mL * f)))
        except Exception:  # noqa: BLE001 - a variant that overfills the litre is no bound
            continue
    return out
