"""Physical constants and unit conversions (CODATA 2018 via ASE where possible)."""

from __future__ import annotations

from ase import units as _u

HARTREE_TO_EV: float = _u.Hartree  # 27.211386...
HARTREE_TO_KCAL_PER_MOL: float = _u.Hartree / (_u.kcal / _u.mol)  # 627.5094...
EV_TO_KCAL_PER_MOL: float = 1.0 / (_u.kcal / _u.mol)
BOHR_TO_ANGSTROM: float = _u.Bohr  # 0.529177...
ANGSTROM_TO_BOHR: float = 1.0 / _u.Bohr
KB_HARTREE_PER_K: float = _u.kB / _u.Hartree
E_A0_TO_DEBYE: float = 1.0 / _u.Debye * _u.Bohr  # dipole: e*bohr -> Debye (2.5417...)

# Redox-potential estimate (stated in every record that uses it):
#   E(vs SHE) = IP/e - 4.44 V   (absolute SHE potential, IUPAC recommended value)
#   E(vs K+/K) = E(vs SHE) + 2.93 V   (K+/K lies at -2.93 V vs SHE)
ABSOLUTE_SHE_V: float = 4.44
K_VS_SHE_V: float = -2.93
