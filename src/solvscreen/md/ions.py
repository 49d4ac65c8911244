"""Monatomic ions: Joung-Cheatham parameters and ion charge scaling.

Cations use the Joung-Cheatham parameters fitted for TIP3P water (I. S. Joung and
T. E. Cheatham III, J. Phys. Chem. B 2008, 112, 9020-9041), as shipped with AmberTools
in ``frcmod.ionsjc_tip3p`` with the residue templates of ``atomic_ions.lib`` (units
``K+``, ``Li+``, ``Na+``). K+: Rmin/2 = 1.705 A, epsilon = 0.1937 kcal/mol.

Charge scaling: full +-1 e charges in a non-polarizable force field overbind ion pairs in
low-dielectric organic electrolytes; scaling the ionic charges by 1/sqrt(eps_el) ~ 0.7-0.8
(the electronic continuum correction, ECC: I. V. Leontyev and A. A. Stuchebrukhov,
Phys. Chem. Chem. Phys. 2011, 13, 2613-2626) accounts for electronic polarization in a
mean-field way; 0.8 is the usual value for organic electrolytes (eps_el ~ 1.6-2). The
factor is applied to every atom of the cation and of the anion (the anion's AM1-BCC
charges sum to -1 before scaling), including the intramolecular 1-4 pairs of the anion,
and it is recorded in every record (``charge_scale``).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core.errors import InputError

JC_REFERENCE = "Joung & Cheatham, J. Phys. Chem. B 2008, 112, 9020 (frcmod.ionsjc_tip3p)"
ECC_REFERENCE = "Leontyev & Stuchebrukhov, Phys. Chem. Chem. Phys. 2011, 13, 2613 (ECC)"


@dataclass(frozen=True)
class IonParameters:
    name: str  # library / tleap unit name (K+, Li+, Na+)
    element: str
    charge: int
    rmin_half_A: float
    epsilon_kcal_per_mol: float
    source: str = JC_REFERENCE


JOUNG_CHEATHAM_TIP3P = {
    # values as in AmberTools' frcmod.ionsjc_tip3p (read back in tests/test_md_params.py)
    "Li+": IonParameters("Li+", "Li", 1, 1.025, 0.0279896),
    "Na+": IonParameters("Na+", "Na", 1, 1.369, 0.0874393),
    "K+": IonParameters("K+", "K", 1, 1.705, 0.1936829),
}

_BY_SMILES = {"[Li+]": "Li+", "[Na+]": "Na+", "[K+]": "K+"}


def ion_parameters(name_or_smiles: str) -> IonParameters:
    """Joung-Cheatham parameters of a monatomic cation, by unit name or SMILES."""
    key = _BY_SMILES.get(name_or_smiles, name_or_smiles)
    try:
        return JOUNG_CHEATHAM_TIP3P[key]
    except KeyError:
        raise InputError(f"no Joung-Cheatham parameters for {name_or_smiles!r} "
                         f"(known: {', '.join(JOUNG_CHEATHAM_TIP3P)})") from None


def is_monatomic_ion(smiles: str) -> bool:
    return smiles in _BY_SMILES
