"""Metal cations: ideal M-donor distances, target coordination numbers, clash limits."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.errors import InputError

COULOMB_KCAL_A = 332.0637  # e^2/(4 pi eps0) in kcal/mol * Angstrom


@dataclass(frozen=True)
class CationSpec:
    """A metal cation: ideal M-O distance (A) and the first-shell coordination number aimed at."""

    symbol: str
    Z: int
    charge: int
    r_MO_A: float
    target_cn: int

    def ideal_distance(self, element: str) -> float:
        return self.r_MO_A * DONOR_SCALE.get(element, 1.0)


# Typical M-O distances in ether/carbonate complexes (K 2.75, Na 2.35, Li 1.95 A) and
# first-shell coordination numbers (K+ 6, Na+ 6 (5-6), Li+ 4 (4-5)).
CATIONS: dict[str, CationSpec] = {
    "Li": CationSpec("Li", 3, 1, 1.95, 4),
    "Na": CationSpec("Na", 11, 1, 2.35, 6),
    "K": CationSpec("K", 19, 1, 2.75, 6),
}
# M-donor distance relative to M-O, by donor element (larger, softer donors sit further out).
DONOR_SCALE: dict[str, float] = {"O": 1.0, "F": 1.0, "N": 1.05, "S": 1.18, "Cl": 1.18}
HARD_DONORS = ("O", "N", "S", "Cl")  # donors whose flexible combinations get templated conformers


def cation_spec(name_or_z: str | int) -> CationSpec:
    """The :class:`CationSpec` for a symbol ('K', 'K+'), or atomic number."""
    if isinstance(name_or_z, (int, np.integer)):
        for spec in CATIONS.values():
            if spec.Z == int(name_or_z):
                return spec
        raise InputError(f"no cation binding parameters for Z={int(name_or_z)}; known: {sorted(CATIONS)}")
    key = str(name_or_z).strip().rstrip("+").strip("[]").rstrip("+")
    key = key[:1].upper() + key[1:].lower()
    if key not in CATIONS:
        raise InputError(f"unknown cation {name_or_z!r}; known: {sorted(CATIONS)}")
    return CATIONS[key]



def clash_limit(cation: CationSpec, element: str) -> float:
    """Closest approach of the cation to an atom that is not one of the site's donors."""
    if element == "H":
        return max(0.8 * cation.r_MO_A, 2.0)
    return max(0.9 * cation.r_MO_A, 2.2)
