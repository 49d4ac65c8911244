"""Geometry optimization on an engine :class:`~solvscreen.engine.System`.

The engine is wrapped as an ASE calculator (an adapter at the edge, as tblite's
own ``tblite.ase`` does) and minimized with ASE's L-BFGS. Convergence: the
largest atomic force below ``fmax_eV_per_A`` (default 0.02 eV/Å ≈ 3.9e-4 Eh/bohr,
close to the ``xtb`` program's "normal" level).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator, all_changes
from ase.optimize import LBFGS
from ase.units import Hartree

from .engine import SinglePoint, System
from .errors import CalculationFailed

FMAX_EV_PER_A = 0.02


class EngineCalculator(Calculator):
    """ASE calculator over a solvscreen :class:`System` (energies in eV, forces in eV/Å)."""

    implemented_properties = ["energy", "forces"]

    def __init__(self, system: System):
        super().__init__()
        self.system = system
        self.last: SinglePoint | None = None

    def calculate(self, atoms=None, properties=None, system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        sp = self.system.compute(self.atoms.positions, gradient=True)
        self.last = sp
        self.results = {"energy": sp.energy_Eh * Hartree, "forces": -sp.gradient_Eh_per_A * Hartree}


@dataclass
class OptimizationResult:
    positions_A: np.ndarray
    singlepoint: SinglePoint
    n_gradients: int
    n_steps: int
    converged: bool

    @property
    def energy_Eh(self) -> float:
        return self.singlepoint.energy_Eh


def optimize(
    system: System,
    positions_A: np.ndarray,
    *,
    fmax_eV_per_A: float = FMAX_EV_PER_A,
    max_steps: int = 500,
    raise_on_failure: bool = True,
) -> OptimizationResult:
    """Minimize the energy of ``system`` from ``positions_A``; count gradient evaluations."""
    atoms = Atoms(numbers=system.numbers, positions=np.asarray(positions_A, dtype=float))
    calc = EngineCalculator(system)
    atoms.calc = calc
    before = system.engine.stats.gradients
    opt = LBFGS(atoms, logfile=None, maxstep=0.2)
    converged = bool(opt.run(fmax=fmax_eV_per_A, steps=max_steps))
    n_grad = system.engine.stats.gradients - before
    if not converged and raise_on_failure:
        raise CalculationFailed(
            f"geometry optimization did not converge in {max_steps} steps", error_type="optimization"
        )
    sp = calc.last if calc.last is not None else system.compute(atoms.positions)
    return OptimizationResult(atoms.positions.copy(), sp, n_grad, opt.nsteps, converged)
