"""Harmonic frequencies, quasi-RRHO free energies and the standard-state terms.

Every free energy of the solvation stage is ``G = E_el(implicit solvent) + G_qRRHO + ss``:

- ``E_el``: GFN2-xTB energy in ALPB at the solvent's dielectric constant (electrostatic
  solvation free energy included);
- ``G_qRRHO`` (:func:`qrrho_free_energy`): ideal-gas translation (1 atm), rigid rotation
  (symmetry number 1) and vibrations from a finite-difference Hessian; vibrational
  entropy by Grimme's quasi-RRHO (Chem. Eur. J. 2012, 18, 9955): modes interpolated between
  a harmonic oscillator and a free rotor with the weight ``1 / (1 + (nu0/nu)^4)``,
  ``nu0 = 100 cm^-1``, average moment ``B_av = 1e-44 kg m^2``; enthalpy harmonic (ZPE and
  thermal population), as in that paper;
- ``ss``: the standard-state change of each species from 1 atm (ideal gas) to 1 mol/L,
  ``+RT ln(24.465)`` = +1.894 kcal/mol at 298.15 K, and for the solvent molecule that
  enters the shell, its concentration in its own neat liquid,
  ``RT ln([L] / 1 M)`` with ``[L] = 1000 rho / M`` (:func:`neat_liquid_term`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..xtb.engine import System
from ..core.units import HARTREE_TO_KCAL_PER_MOL

# SI constants (CODATA 2018)
H_PLANCK = 6.62607015e-34  # J s
K_BOLTZMANN = 1.380649e-23  # J/K
C_CM = 2.99792458e10  # cm/s
N_AVOGADRO = 6.02214076e23
AMU_KG = 1.66053906660e-27
R_KCAL = 1.987204259e-3  # kcal/(mol K)
HARTREE_J = 4.3597447222071e-18
ATM_PA = 101325.0

T_DEFAULT_K = 298.15
NU0_CM = 100.0  # quasi-RRHO cutoff (Grimme 2012)
B_AV_KG_M2 = 1e-44  # average molecular moment of inertia of the free-rotor model (Grimme 2012)
HESSIAN_STEP_A = 0.005


def atm_to_molar_kcal(T: float = T_DEFAULT_K) -> float:
    """Free-energy change of one species from 1 atm (ideal gas) to 1 mol/L: RT ln(RT/p), with
    RT/p in L/mol (24.465 L/mol at 298.15 K)."""
    v_l = K_BOLTZMANN * N_AVOGADRO * T / ATM_PA * 1000.0  # molar volume of the ideal gas, L/mol
    return R_KCAL * T * math.log(v_l)


def neat_liquid_term(density_g_per_mL: float, molar_mass_g_per_mol: float, T: float = T_DEFAULT_K) -> tuple[float, float]:
    """(RT ln([L]/1 M) in kcal/mol, [L] in mol/L) of a solvent in its neat liquid."""
    conc = 1000.0 * density_g_per_mL / molar_mass_g_per_mol
    return R_KCAL * T * math.log(conc), conc


def numerical_hessian(system: System, xyz_A: np.ndarray, step_A: float = HESSIAN_STEP_A,
                      central: bool = False) -> np.ndarray:
    """Finite-difference Hessian (Eh/Å^2) from analytic gradients, symmetrized: forward
    differences (3N + 1 gradients; error O(step), below 1 cm^-1 above ~50 cm^-1 at 0.005 Å)
    or central ones (6N gradients)."""
    x0 = np.asarray(xyz_A, dtype=float)
    n = x0.size
    hess = np.zeros((n, n))
    flat = x0.reshape(-1)

    def grad(x):
        return system.compute(x.reshape(-1, 3), gradient=True).gradient_Eh_per_A.reshape(-1)

    g0 = None if central else grad(flat)
    for i in range(n):
        xp = flat.copy()
        xp[i] += step_A
        if central:
            xm = flat.copy()
            xm[i] -= step_A
            hess[i] = (grad(xp) - grad(xm)) / (2 * step_A)
        else:
            hess[i] = (grad(xp) - g0) / step_A
    return 0.5 * (hess + hess.T)


def _rigid_basis(xyz: np.ndarray, masses: np.ndarray) -> np.ndarray:
    """Orthonormal mass-weighted translation/rotation vectors (columns)."""
    sm = np.sqrt(masses)
    com = (masses[:, None] * xyz).sum(axis=0) / masses.sum()
    r = xyz - com
    vecs = []
    for k in range(3):
        v = np.zeros_like(xyz)
        v[:, k] = sm
        vecs.append(v.reshape(-1))
    for k in range(3):
        axis = np.zeros(3)
        axis[k] = 1.0
        v = np.cross(axis, r) * sm[:, None]
        vecs.append(v.reshape(-1))
    basis = np.array(vecs).T
    u, s, _ = np.linalg.svd(basis, full_matrices=False)
    return u[:, s > 1e-6 * s.max()]


def frequencies_cm(hessian_Eh_A2: np.ndarray, xyz_A: np.ndarray, masses_amu: np.ndarray) -> np.ndarray:
    """Harmonic wavenumbers (cm^-1; imaginary as negative) with translations and rotations
    projected out (3N-6 values; 3N-5 for a linear molecule; none for an atom)."""
    masses = np.asarray(masses_amu, dtype=float)
    if len(masses) == 1:
        return np.zeros(0)
    minv = 1.0 / np.sqrt(np.repeat(masses, 3))
    hmw = hessian_Eh_A2 * minv[:, None] * minv[None, :]
    rigid = _rigid_basis(np.asarray(xyz_A, dtype=float), masses)
    proj = np.eye(len(hmw)) - rigid @ rigid.T
    hmw = proj @ hmw @ proj
    evals = np.linalg.eigvalsh(hmw)
    # drop the rigid-body (projected, ~0) eigenvalues: the n_rigid of smallest magnitude
    order = np.argsort(np.abs(evals))
    keep = np.sort(evals[order[rigid.shape[1]:]])
    conv = HARTREE_J / (1e-20 * AMU_KG)  # Eh/(Å^2 amu) -> s^-2
    return np.sign(keep) * np.sqrt(np.abs(keep) * conv) / (2 * math.pi * C_CM)


@dataclass
class Thermo:
    """Thermal contributions (kcal/mol) at temperature T, 1 atm, ideal gas."""

    T_K: float
    zpe: float
    H_thermal: float  # H(T) - E_el, ZPE included
    S_kcal_per_mol_K: float
    G_qrrho: float  # H_thermal - T S
    n_imaginary: int
    lowest_cm: float
    frequencies_cm: list

    def to_dict(self) -> dict:
        d = dict(self.__dict__)
        d["frequencies_cm"] = [round(float(f), 2) for f in self.frequencies_cm]
        return d


def qrrho_free_energy(freqs_cm: np.ndarray, xyz_A: np.ndarray, masses_amu: np.ndarray, T: float = T_DEFAULT_K,
                      nu0_cm: float = NU0_CM, imaginary_threshold_cm: float = -50.0) -> Thermo:
    """Grimme's quasi-RRHO free energy (kcal/mol, 1 atm ideal gas, symmetry number 1).

    Imaginary modes above ``imaginary_threshold_cm`` (e.g. -20i from numerical noise in a
    flat mode) are inverted to real, as the ``xtb`` program does; the number of imaginary
    modes is returned either way."""
    kT = K_BOLTZMANN * T
    RT = R_KCAL * T
    masses = np.asarray(masses_amu, dtype=float)
    mtot = masses.sum() * AMU_KG
    # translation (Sackur-Tetrode at 1 atm)
    q_tr = (2 * math.pi * mtot * kT / H_PLANCK**2) ** 1.5 * kT / ATM_PA
    S = R_KCAL * (math.log(q_tr) + 2.5)
    H = 2.5 * RT  # 3/2 RT + pV
    freqs = np.asarray(freqs_cm, dtype=float)
    n_imag = int(np.sum(freqs < 0))
    if len(masses) > 1:
        xyz = np.asarray(xyz_A, dtype=float)
        com = (masses[:, None] * xyz).sum(axis=0) / masses.sum()
        r = (xyz - com) * 1e-10
        inertia = np.zeros((3, 3))
        for m, v in zip(masses * AMU_KG, r):
            inertia += m * (np.dot(v, v) * np.eye(3) - np.outer(v, v))
        moments = np.linalg.eigvalsh(inertia)
        linear = moments[0] < 1e-3 * moments[2]
        if linear:
            q_rot = 8 * math.pi**2 * moments[2] * kT / H_PLANCK**2
            S += R_KCAL * (math.log(q_rot) + 1.0)
            H += RT
        else:
            q_rot = math.sqrt(math.pi * np.prod(moments)) * (8 * math.pi**2 * kT / H_PLANCK**2) ** 1.5
            S += R_KCAL * (math.log(q_rot) + 1.5)
            H += 1.5 * RT
    vib = np.where((freqs < 0) & (freqs > imaginary_threshold_cm), -freqs, freqs)
    vib = vib[vib > 1e-3]
    zpe = 0.0
    for nu in vib:
        e = H_PLANCK * C_CM * nu  # J
        x = e / kT
        zpe_i = 0.5 * e * N_AVOGADRO / 4184.0
        zpe += zpe_i
        H += zpe_i + e * N_AVOGADRO / 4184.0 / math.expm1(x)
        s_ho = R_KCAL * (x / math.expm1(x) - math.log1p(-math.exp(-x)))
        mu = H_PLANCK / (8 * math.pi**2 * C_CM * nu)
        mu_eff = mu * B_AV_KG_M2 / (mu + B_AV_KG_M2)
        s_r = R_KCAL * (0.5 + math.log(math.sqrt(8 * math.pi**3 * mu_eff * kT / H_PLANCK**2)))
        w = 1.0 / (1.0 + (nu0_cm / nu) ** 4)
        S += w * s_ho + (1 - w) * s_r
    return Thermo(T, zpe, H, S, H - T * S, n_imag, float(freqs.min()) if len(freqs) else float("nan"), list(freqs))


def free_energy(system: System, xyz_A: np.ndarray, masses_amu: np.ndarray, energy_Eh: float,
                T: float = T_DEFAULT_K, nu0_cm: float = NU0_CM, central: bool = False) -> tuple[float, Thermo]:
    """(G in kcal/mol at 1 atm: E_el + G_qRRHO, its thermal part) from a numerical Hessian."""
    hess = numerical_hessian(system, xyz_A, central=central)
    freqs = frequencies_cm(hess, xyz_A, masses_amu)
    th = qrrho_free_energy(freqs, xyz_A, masses_amu, T, nu0_cm)
    return energy_Eh * HARTREE_TO_KCAL_PER_MOL + th.G_qrrho, th
