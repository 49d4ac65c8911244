"""Lowest-energy conformer: RDKit ensemble -> GFN-xTB ranking -> optimization of the best few.

The protocol (stated in every structure record):

1. ETKDGv3 ensemble (seeded), MMFF94/UFF pre-optimization where parametrized,
   symmetry-aware heavy-atom RMSD pruning (:func:`solvscreen.xtb.structures.embed_conformers`);
2. GFN-xTB single point on every survivor, ranked by energy;
3. optimization of the ``n_optimize`` lowest; a conformer whose covalent bonds
   change during optimization is discarded;
4. the lowest optimized conformer is the molecule's reference geometry.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from rdkit import Chem

from .engine import Engine, SinglePoint
from ..core.errors import CalculationFailed
from .optimize import optimize
from ..core.units import HARTREE_TO_KCAL_PER_MOL
from .structures import (
    ConformerSettings,
    atomic_numbers,
    bonds_intact,
    embed_conformers,
    formal_charge,
    positions,
    unpaired_electrons,
)


@dataclass
class ConformerSearchResult:
    numbers: np.ndarray
    positions_A: np.ndarray
    singlepoint: SinglePoint
    charge: int
    uhf: int
    summary: dict = field(default_factory=dict)
    ensemble: list[np.ndarray] = field(default_factory=list)  # optimized geometries, lowest first
    ensemble_energies_Eh: list[float] = field(default_factory=list)

    @property
    def energy_Eh(self) -> float:
        return self.singlepoint.energy_Eh


def find_lowest_conformer(
    engine: Engine, mol: Chem.Mol, settings: ConformerSettings = ConformerSettings()
) -> ConformerSearchResult:
    """Run the conformer protocol on an RDKit molecule with explicit hydrogens."""
    mol, summary = embed_conformers(mol, settings)
    numbers = atomic_numbers(mol)
    charge, uhf = formal_charge(mol), unpaired_electrons(mol)
    conf_ids = [c.GetId() for c in mol.GetConformers()]

    ranked: list[tuple[float, int]] = []
    sp_errors: list[str] = []
    for cid in conf_ids:
        try:
            sp = engine.system(numbers, charge, uhf).compute(positions(mol, cid), gradient=False)
        except CalculationFailed as exc:
            sp_errors.append(f"conformer {cid}: {exc}")
            continue
        ranked.append((sp.energy_Eh, cid))
    if not ranked:
        raise CalculationFailed("no conformer gave a converged SCF: " + "; ".join(sp_errors), error_type="scf")
    ranked.sort()

    optimized: list[tuple[float, np.ndarray, SinglePoint, int]] = []
    rejected: list[str] = []
    n_grad = 0

    def optimize_conformer(cid: int) -> bool:
        """Optimize one conformer; keep it unless it fails or its covalent bonds change."""
        nonlocal n_grad
        # a fresh System per conformer: an SCF retry rung reached on one conformer must not
        # carry over to the others, whose energies are compared with it
        try:
            opt = optimize(engine.system(numbers, charge, uhf), positions(mol, cid))
        except CalculationFailed as exc:
            rejected.append(f"conformer {cid}: {exc}")
            return False
        n_grad += opt.n_gradients
        if numbers.size > 1 and not bonds_intact(mol, opt.positions_A):
            rejected.append(f"conformer {cid}: covalent bonds changed during optimization")
            return False
        optimized.append((opt.energy_Eh, opt.positions_A, opt.singlepoint, cid))
        return True

    n_first = max(1, settings.n_optimize)
    for _, cid in ranked[:n_first]:
        optimize_conformer(cid)
    if not optimized:  # a chemist's retry: the next conformers, until one survives
        for _, cid in ranked[n_first:]:
            if optimize_conformer(cid):
                break
    if not optimized:
        raise CalculationFailed("every optimized conformer failed: " + "; ".join(rejected), error_type="optimization")
    optimized.sort(key=lambda t: t[0])
    best_e, best_x, best_sp, best_cid = optimized[0]
    summary = {
        **summary,
        "n_singlepoint_ranked": len(ranked),
        "n_optimized": len(optimized),
        "n_rejected": len(rejected),
        "rejected": rejected + sp_errors,
        "optimization_gradients": n_grad,
        "ranking_energies_rel_kcal_per_mol": [round((e - ranked[0][0]) * HARTREE_TO_KCAL_PER_MOL, 3) for e, _ in ranked],
        "optimized_energies_rel_kcal_per_mol": [round((e - best_e) * HARTREE_TO_KCAL_PER_MOL, 3) for e, *_ in optimized],
        "chosen_conformer_id": best_cid,
    }
    return ConformerSearchResult(
        numbers=numbers,
        positions_A=best_x,
        singlepoint=best_sp,
        charge=charge,
        uhf=uhf,
        summary=summary,
        ensemble=[x for _, x, _, _ in optimized],
        ensemble_energies_Eh=[e for e, *_ in optimized],
    )
