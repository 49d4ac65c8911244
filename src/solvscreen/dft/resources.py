"""Cluster resources of one DFT job, estimated from the molecule's size.

Basis size from per-element counts (def2 family, spherical functions); cost from the
measured single point of K+.DME at omegaB97X-D4/def2-TZVP with density fitting on one CPU
thread: 279 basis functions, 73 s, scaling as N^3 (a 37-atom glyme, ~600 functions, was
~15 min: the N^3 estimate gives 12 min). A relaxation costs roughly a number of
single-point equivalents per mode (gradient steps x ~2 plus the final single point):
measured K+-H2O: 6 geomeTRIC steps for the cation. Memory: the density-fitting tensor
(lower triangle, naux ~ 3 N, 8 bytes) held in memory, plus 1.5 GB for PySCF itself.
These are upper-side estimates for a SLURM request, not predictions of a run.
"""

from __future__ import annotations

import math

from rdkit import Chem

from ..xtb.structures import parse_smiles

__all__ = ["basis_functions", "dft_job_resources"]

# def2-TZVP spherical basis functions per element (H 6, 2nd row 31, 3rd row 37, K 33 for K+)
_TZVP = {1: 6, 3: 19, 5: 31, 6: 31, 7: 31, 8: 31, 9: 31, 11: 29, 14: 37, 15: 37, 16: 37, 17: 37, 19: 33}
# size of a basis relative to def2-TZVP (measured: K+ 24/33/36; H2O 24/43/58 at SVP/TZVP/TZVPD)
_BASIS_FACTOR = {"def2-SVP": 0.55, "def2-SVPD": 0.75, "def2-TZVP": 1.0, "def2-TZVPD": 1.3,
                 "def2-TZVPP": 1.15, "def2-TZVPPD": 1.45, "def2-QZVP": 2.6}
_SP_EQUIVALENTS = {"none": 3, "cation": 20, "donors": 35, "full": 120}
_T_REF_S, _N_REF = 73.0, 279


def basis_functions(smiles: str, basis: str = "def2-TZVP", cation_Z: int = 19) -> int:
    """Estimated basis functions of the complex of ``smiles`` with the cation."""
    mol = Chem.AddHs(parse_smiles(smiles))
    n = sum(_TZVP.get(a.GetAtomicNum(), 40) for a in mol.GetAtoms()) + _TZVP.get(cation_Z, 33)
    return int(round(n * _BASIS_FACTOR.get(basis, 1.5)))


def dft_job_resources(smiles: str, basis: str = "def2-TZVP", relax: str = "cation", attempt: int = 1,
                      threads: int = 1, gpu: bool = False) -> dict:
    """``{"mem_mb", "runtime"}`` (MB, minutes) for one DFT job; both grow with the attempt."""
    n = basis_functions(smiles, basis)
    t_sp = _T_REF_S * (n / _N_REF) ** 3 / max(1.0, 0.8 * threads)
    if gpu:
        t_sp /= 10.0   # unmeasured: gpu4pyscf expected >= 10x faster than one CPU core
    runtime = math.ceil(_SP_EQUIVALENTS.get(relax, 120) * t_sp / 60.0 + 5)
    mem = 1500 + 1.5 * (3 * n) * n * (n + 1) / 2 * 8 / 1e6
    return {"mem_mb": int(math.ceil(mem / 100.0) * 100) * attempt, "runtime": runtime * attempt}
