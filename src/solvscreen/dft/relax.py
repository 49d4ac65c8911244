"""Geometry relaxation at the DFT level through PySCF's geomeTRIC interface.

Modes (which atoms move; every other atom is frozen in Cartesian space):

* ``cation``: only the cation moves. The ligand keeps its GFN2-xTB complex geometry. This
  removes the largest GFN2 error for K+ (K-O 2.30-2.40 A at GFN2 vs 2.63-2.65 A at DFT;
  7.2 kcal/mol of K+.DME at omegaB97X/def2-TZVP from moving the cation alone).
* ``donors``: the cation and the donor atoms of the GFN2 binding mode move.
* ``full``: every atom moves.
* ``none``: a single point at the GFN2 geometry.

geomeTRIC's default convergence criteria are used (energy 1e-6 Eh, gradient RMS 3e-4 and
max 4.5e-4 Eh/bohr, step RMS 1.2e-3 and max 1.8e-3 A).
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from ..core.errors import CalculationFailed, InputError
from .level import BackendChoice, DFTLevel, build_mf, choose_backend, run_scf
from .singlepoint import SinglePoint, build_molecule, singlepoint

__all__ = ["RELAX_MODES", "Relaxation", "moving_atoms", "relax"]

RELAX_MODES = ("none", "cation", "donors", "full")
FROZEN_TOLERANCE_A = 0.02
"""Largest displacement of a frozen atom accepted (A): geomeTRIC enforces frozen Cartesians
only to its constraint criterion, max violation 1e-2 A (measured: K+.DME drifted > 1e-4 A)."""


@dataclass
class Relaxation:
    positions_A: np.ndarray
    mode: str
    moved_atoms: list[int]          # 0-based indices of the atoms that were free to move
    converged: bool
    n_steps: int                    # gradient evaluations
    energies_Eh: list[float] = field(default_factory=list)
    final: SinglePoint | None = None
    wall_s: float = 0.0
    first_scf_s: float | None = None  # the SCF at the start geometry from the default guess


def moving_atoms(n_atoms: int, mode: str, cation_index: int | None = None,
                 donor_indices: Sequence[int] = ()) -> list[int]:
    """0-based indices of the atoms free to move in ``mode``."""
    if mode not in RELAX_MODES:
        raise InputError(f"dft relax: mode must be one of {RELAX_MODES}, got {mode!r}")
    if mode == "none":
        return []
    if mode == "full":
        return list(range(n_atoms))
    if cation_index is None or not 0 <= cation_index < n_atoms:
        raise InputError(f"dft relax {mode}: cation index {cation_index} outside 0..{n_atoms - 1}")
    moved = {cation_index}
    if mode == "donors":
        bad = [i for i in donor_indices if not 0 <= i < n_atoms]
        if bad:
            raise InputError(f"dft relax donors: donor indices {bad} outside 0..{n_atoms - 1}")
        moved.update(donor_indices)
    return sorted(moved)


def _constraints_text(n_atoms: int, moved: list[int]) -> str | None:
    frozen = [i + 1 for i in range(n_atoms) if i not in set(moved)]
    if not frozen:
        return None
    # geomeTRIC ranges: 1-based, inclusive, comma-separated
    parts, start = [], frozen[0]
    for a, b in zip(frozen, frozen[1:] + [None]):
        if b != a + 1:
            parts.append(f"{start}-{a}" if a != start else f"{a}")
            start = b
    return "$freeze\nxyz " + ",".join(parts) + "\n"


def relax(numbers: Sequence[int], positions_A: np.ndarray, charge: int, level: DFTLevel, mode: str,
          cation_index: int | None = None, donor_indices: Sequence[int] = (), spin: int = 0,
          max_steps: int = 50, backend: BackendChoice | None = None,
          relax_level: DFTLevel | None = None) -> Relaxation:
    """Relax the atoms of ``mode`` at ``relax_level`` (default ``level``); the final single
    point at ``level`` is at the relaxed geometry (a composite ``level//relax_level``).

    The SCF at the start geometry goes through the retry ladder first; the rung that
    converged it is kept for the optimization steps. An SCF that fails during the
    optimization, or an optimization that does not converge in ``max_steps``, raises
    :class:`~solvscreen.core.errors.CalculationFailed` (``error_type`` ``scf`` / ``optimization``).
    """
    t0 = time.perf_counter()
    positions_A = np.asarray(positions_A, float)
    n = len(numbers)
    moved = moving_atoms(n, mode, cation_index, donor_indices)
    backend = backend or choose_backend(level.backend)
    if mode == "none":
        sp, _ = singlepoint(numbers, positions_A, charge, level, spin, backend)
        return Relaxation(positions_A, mode, moved, True, 0, [sp.energy_Eh], sp, round(time.perf_counter() - t0, 3),
                          sp.wall_s)

    from pyscf.geomopt.geometric_solver import kernel as geometric_kernel

    opt_level = relax_level or level
    mol = build_molecule(numbers, positions_A, charge, spin, opt_level.basis)
    t1 = time.perf_counter()
    mf, _ = run_scf(build_mf(mol, opt_level, backend), opt_level)     # ladder at the start geometry
    first_scf_s = round(time.perf_counter() - t1, 3)
    energies: list[float] = []

    def callback(env):
        energies.append(float(env["energy"]))

    cons = _constraints_text(n, moved)
    with tempfile.TemporaryDirectory(prefix="solvscreen-dft-") as tmp:
        cpath = None
        if cons:
            cpath = os.path.join(tmp, "constraints.txt")
            with open(cpath, "w") as fh:
                fh.write(cons)
        try:
            conv, mol_eq = geometric_kernel(mf, constraints=cpath, callback=callback, maxsteps=max_steps,
                                            assert_convergence=True)
        except RuntimeError as exc:
            raise CalculationFailed(f"dft relax ({mode}): SCF failed during the optimization: {exc}",
                                    error_type="scf") from exc
    if not conv:
        raise CalculationFailed(f"dft relax ({mode}): not converged in {max_steps} steps "
                                f"(last energy {energies[-1] if energies else float('nan'):.8f} Eh)",
                                error_type="optimization")
    new_pos = mol_eq.atom_coords(unit="Angstrom")
    frozen = [i for i in range(n) if i not in set(moved)]
    drift = float(np.abs(new_pos[frozen] - positions_A[frozen]).max()) if frozen else 0.0
    if drift > FROZEN_TOLERANCE_A:
        # geomeTRIC satisfies frozen Cartesians to its constraint criterion (1e-2 A), not exactly
        raise CalculationFailed(f"dft relax: frozen atoms moved by {drift:.3f} A (> {FROZEN_TOLERANCE_A} A)",
                                error_type="optimization")
    dm0 = mf.make_rdm1() if opt_level.basis == level.basis else None
    final, _ = singlepoint(numbers, new_pos, charge, level, spin, backend, dm0=dm0)
    return Relaxation(new_pos, mode, moved, True, len(energies), energies, final,
                      round(time.perf_counter() - t0, 3), first_scf_s)
