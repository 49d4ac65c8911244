"""E_bind = E(M+.L) - E(M+) - E(L), every term at one DFT level.

The complex starts from the binding stage's GFN2-xTB geometry (ligand atoms first, the
cation last) and is relaxed in the chosen mode (:mod:`.relax`). The free ligand is at its
GFN2-xTB structure-stage geometry (``ligand_geometry="gfn2"``), or DFT-relaxed
(``"relax"``); ``"auto"`` relaxes it exactly when the complex is fully relaxed, so that the
ligand is treated alike on both sides. No counterpoise correction (0.8 kcal/mol for
K+-H2O at def2-TZVP). Sign: negative = bound.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from ..core.errors import InputError
from ..core.units import HARTREE_TO_KCAL_PER_MOL
from .level import BackendChoice, DFTLevel, choose_backend
from .relax import Relaxation, relax
from .singlepoint import SinglePoint, singlepoint

__all__ = ["DFTBinding", "dft_binding", "ligand_mode"]


def ligand_mode(ligand_geometry: str, relax_mode: str) -> str:
    """``gfn2`` or ``relax``: how the free ligand's geometry is made."""
    if ligand_geometry not in ("auto", "gfn2", "relax"):
        raise InputError(f"dft ligand_geometry must be auto, gfn2 or relax, got {ligand_geometry!r}")
    if ligand_geometry == "auto":
        return "relax" if relax_mode == "full" else "gfn2"
    return ligand_geometry


@dataclass
class DFTBinding:
    E_bind_Eh: float
    E_complex_Eh: float
    E_cation_Eh: float
    E_ligand_Eh: float
    complex: Relaxation
    ligand: Relaxation
    cation: SinglePoint
    ligand_geometry: str
    d_M_donor_start_A: float | None
    d_M_donor_A: float | None
    wall_s: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def E_bind_kcal_per_mol(self) -> float:
        return self.E_bind_Eh * HARTREE_TO_KCAL_PER_MOL

    @property
    def dispersion_bind_kcal_per_mol(self) -> float | None:
        parts = [self.complex.final.dispersion_Eh, self.ligand.final.dispersion_Eh, self.cation.dispersion_Eh]
        if any(p is None for p in parts):
            return None
        return (parts[0] - parts[1] - parts[2]) * HARTREE_TO_KCAL_PER_MOL


def min_distance(positions_A: np.ndarray, i: int, others: Sequence[int]) -> float | None:
    if not len(others):
        return None
    p = np.asarray(positions_A, float)
    return float(min(np.linalg.norm(p[j] - p[i]) for j in others))


def dft_binding(complex_numbers: Sequence[int], complex_positions_A: np.ndarray,
                ligand_numbers: Sequence[int], ligand_positions_A: np.ndarray,
                ligand_charge: int, cation_charge: int, level: DFTLevel, relax_mode: str = "cation",
                donor_indices: Sequence[int] = (), ligand_geometry: str = "auto", ligand_spin: int = 0,
                max_steps: int = 50, backend: BackendChoice | None = None,
                relax_basis: str | None = None) -> DFTBinding:
    """Binding energy of the cation (last atom of the complex) to the ligand at ``level``;
    geometries relaxed in ``relax_basis`` when given (``level.basis//relax_basis``)."""
    t0 = time.perf_counter()
    zc, zl = [int(z) for z in complex_numbers], [int(z) for z in ligand_numbers]
    if zc[:-1] != zl:
        raise InputError(f"dft binding: complex atoms {len(zc)} do not match ligand atoms {len(zl)} + cation "
                         "(the complex must list the ligand's atoms in order, then the cation)")
    backend = backend or choose_backend(level.backend)
    cat = len(zc) - 1
    rlevel = level.with_(basis=relax_basis) if relax_basis and relax_basis != level.basis else None
    cx = relax(zc, complex_positions_A, ligand_charge + cation_charge, level, relax_mode, cation_index=cat,
               donor_indices=donor_indices, spin=ligand_spin, max_steps=max_steps, backend=backend,
               relax_level=rlevel)
    lmode = ligand_mode(ligand_geometry, relax_mode)
    lg = relax(zl, ligand_positions_A, ligand_charge, level, "full" if lmode == "relax" else "none",
               spin=ligand_spin, max_steps=max_steps, backend=backend, relax_level=rlevel)
    kp, _ = singlepoint([zc[-1]], np.zeros((1, 3)), cation_charge, level, 0, backend)
    e_bind = cx.final.energy_Eh - lg.final.energy_Eh - kp.energy_Eh
    return DFTBinding(
        E_bind_Eh=e_bind, E_complex_Eh=cx.final.energy_Eh, E_cation_Eh=kp.energy_Eh,
        E_ligand_Eh=lg.final.energy_Eh, complex=cx, ligand=lg, cation=kp, ligand_geometry=lmode,
        d_M_donor_start_A=min_distance(complex_positions_A, cat, donor_indices),
        d_M_donor_A=min_distance(cx.positions_A, cat, donor_indices),
        wall_s=round(time.perf_counter() - t0, 3),
    )
