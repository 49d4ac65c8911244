"""One DFT single point: energy, dispersion term, HOMO/LUMO and basis size."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from .level import BackendChoice, DFTLevel, build_mf, choose_backend, run_scf
from .orbitals import homo_lumo_eV

__all__ = ["SinglePoint", "build_molecule", "singlepoint"]


@dataclass
class SinglePoint:
    energy_Eh: float
    dispersion_Eh: float | None   # the D3/D4 term included in energy_Eh (None: no dispersion)
    homo_eV: float | None
    lumo_eV: float | None
    n_basis_functions: int
    n_electrons: int
    scf_cycles: int
    scf_attempts: list[dict] = field(default_factory=list)
    wall_s: float = 0.0


def build_molecule(numbers: Sequence[int], positions_A: np.ndarray, charge: int, spin: int, basis: str):
    """A PySCF ``Mole`` (positions in angstrom; ``spin`` = number of unpaired electrons)."""
    from pyscf import gto

    atoms = [(int(z), tuple(float(c) for c in p)) for z, p in zip(numbers, np.asarray(positions_A, float))]
    return gto.M(atom=atoms, unit="Angstrom", basis=basis, charge=int(charge), spin=int(spin),
                 verbose=0, symmetry=False)


def dispersion_of(mf) -> float | None:
    d = (getattr(mf, "scf_summary", None) or {}).get("dispersion")
    return None if d is None else float(np.asarray(d))


def singlepoint(numbers: Sequence[int], positions_A: np.ndarray, charge: int, level: DFTLevel,
                spin: int = 0, backend: BackendChoice | None = None, dm0=None) -> tuple[SinglePoint, object]:
    """Converge the SCF of one geometry; returns the result and the converged mean-field object."""
    t0 = time.perf_counter()
    backend = backend or choose_backend(level.backend)
    mol = build_molecule(numbers, positions_A, charge, spin, level.basis)
    mf, scf = run_scf(build_mf(mol, level, backend), level, dm0=dm0)
    homo, lumo = homo_lumo_eV(mf)
    sp = SinglePoint(
        energy_Eh=scf.energy_Eh,
        dispersion_Eh=dispersion_of(mf),
        homo_eV=homo,
        lumo_eV=lumo,
        n_basis_functions=int(mol.nao),
        n_electrons=int(mol.nelectron),
        scf_cycles=scf.cycles,
        scf_attempts=scf.attempts,
        wall_s=round(time.perf_counter() - t0, 3),
    )
    return sp, mf
