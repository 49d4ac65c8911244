"""Multi-start search of solvation clusters M+(L)n and M+(L)n-1 A- in an implicit solvent.

Starts (rigid placements, :func:`solvscreen.complexes.shells.place_fragments`: each molecule
turned about its cation-donor axis to the best point-charge/clash score, pushed out when it
overlaps):

- **sequential addition**: on each of the ``n_base_minima`` lowest minima of the smaller
  cluster, the new molecule (each of its bound forms: the chelating conformer of its 1:1
  complex, and its free lowest conformer bound through one donor) along each of the
  ``n_directions`` most open directions around the cation (farthest, in angle, from every
  atom within 4.5 Å of it);
- **from scratch** (clusters of solvent molecules only): ``n_scratch`` rotated ideal
  polyhedra of n copies of the chelating form.

Every start gets a GFN2-xTB single point (short SCF); the best ``n_loose`` a loose, short
optimization; the best ``n_tight`` distinct ones a tight optimization; a minimum is kept
only when every molecule is intact and still bound (donor within the dissociation cutoff).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
from rdkit import Chem

from ..complexes import BindingSettings, CationSpec, Fragment, cluster_problem, donor_atoms, polyhedron
from ..complexes.placement import site_directions
from ..complexes.shells import Arrangement, place_fragments, random_rotation
from ..xtb.engine import Engine
from ..core.errors import CalculationFailed
from ..xtb.optimize import optimize
from ..core.units import HARTREE_TO_KCAL_PER_MOL
from .settings import SolvationSettings
from .thermo import Thermo

PRESCREEN_SCF_ITERATIONS = 80


@dataclass
class Minimum:
    """One optimized cluster (cation last) and, when computed, its free energy."""

    label: str
    numbers: np.ndarray
    positions_A: np.ndarray
    energy_Eh: float
    members: list  # Fragment templates, in atom order
    info: dict = field(default_factory=dict)
    converged: bool = True
    G_kcal: float | None = None  # E_el + G_qRRHO (1 atm), kcal/mol
    thermo: Thermo | None = None

    def parts(self) -> list[tuple[Fragment, np.ndarray]]:
        """(template, positions relative to the cation) of every member."""
        out, k = [], 0
        m = self.positions_A[-1]
        for f in self.members:
            size = len(f.numbers)
            out.append((f, self.positions_A[k:k + size] - m))
            k += size
        return out

    def summary(self, e_ref: float) -> dict:
        return {"label": self.label, "E_rel_kcal_per_mol": round((self.energy_Eh - e_ref) * HARTREE_TO_KCAL_PER_MOL, 3),
                "G_kcal_per_mol": self.G_kcal, "converged": self.converged, **self.info,
                "n_imaginary": self.thermo.n_imaginary if self.thermo else None,
                "lowest_frequency_cm": round(self.thermo.lowest_cm, 1) if self.thermo else None}


def monodentate_form(template: Fragment, mol: Chem.Mol, xyz: np.ndarray, charges: np.ndarray,
                     cation: CationSpec) -> Fragment:
    """The free conformer ``xyz`` bound through its first unique donor along its lone-pair axis,
    in the cation's frame (the cation at the ideal distance)."""
    donors = donor_atoms(mol)
    hard = [d for d in donors if d.element != "F"] or donors
    d = hard[0]
    _, v = site_directions(mol, xyz, d.index)[0]
    p = xyz[d.index] + cation.ideal_distance(d.element) * v
    rel = xyz - p
    axis = rel[d.index] / np.linalg.norm(rel[d.index])
    return Fragment(template.name, mol, template.numbers, rel, np.asarray(charges, dtype=float), axis)


def open_directions(parts: list[tuple[Fragment, np.ndarray]], k: int) -> np.ndarray:
    """``k`` directions around the cation (at the origin) farthest in angle from every atom
    within 4.5 Å, mutually at least 60° apart."""
    pts = np.vstack([x for _, x in parts]) if parts else np.zeros((0, 3))
    r = np.linalg.norm(pts, axis=1)
    near = pts[(r < 4.5) & (r > 1e-6)]
    grid = polyhedron(60)
    if len(near) == 0:
        return grid[:k]
    u = near / np.linalg.norm(near, axis=1)[:, None]
    score = np.min(np.arccos(np.clip(grid @ u.T, -1, 1)), axis=1)
    chosen: list[np.ndarray] = []
    for i in np.argsort(-score):
        if all(np.dot(grid[i], c) < 0.5 for c in chosen):
            chosen.append(grid[i])
        if len(chosen) >= k:
            break
    return np.array(chosen)


def _arrangement_geometry(arr: Arrangement, cation: CationSpec) -> tuple[np.ndarray, np.ndarray, list]:
    numbers, xyz = arr.geometry(cation)
    return numbers, xyz, [f for f, _ in arr.parts]


@dataclass
class ClusterSearch:
    """The search of one cluster composition; counts what it did."""

    engine: Engine
    cation: CationSpec
    settings: SolvationSettings
    binding: BindingSettings
    charge: int
    log: dict = field(default_factory=dict)

    def starts(self, base: list[Minimum], add: list[Fragment], scratch: list[list[Fragment]],
               rng: np.random.Generator) -> list[tuple[str, Arrangement]]:
        out = []
        for bi, b in enumerate(base[: self.settings.n_base_minima]):
            fixed = b.parts()
            for di, d in enumerate(open_directions(fixed, self.settings.n_directions)):
                for form in add:
                    arr = place_fragments([form], d[None, :], fixed, self.cation)
                    out.append((f"add {form.name}[{'chelate' if form is add[0] else 'mono'}] to {b.label} dir{di}", arr))
        for members in scratch:
            n = len(members)
            for a in range(self.settings.n_scratch):
                rot = np.eye(3) if a == 0 else random_rotation(rng)
                out.append((f"scratch {n}-polyhedron rot{a}", place_fragments(members, polyhedron(n) @ rot.T, [],
                                                                               self.cation)))
        return out

    def run(self, starts: list[tuple[str, Arrangement]]) -> list[Minimum]:
        s = self.settings
        pre = Engine(replace(self.engine.settings, max_iterations=PRESCREEN_SCF_ITERATIONS), self.engine.stats)
        scored = []
        for label, arr in starts:
            numbers, xyz, members = _arrangement_geometry(arr, self.cation)
            try:
                sp = pre.system(numbers, self.charge).compute(xyz, gradient=False)
            except CalculationFailed:
                continue
            if sp.scf_attempt > 2:
                continue
            scored.append((sp.energy_Eh, label, numbers, xyz, members))
        self.log.update({"n_starts": len(starts), "n_singlepoints": len(scored)})
        if not scored:
            raise CalculationFailed("no cluster start gave a converged SCF", error_type="scf")
        scored.sort(key=lambda t: t[0])
        loose = []
        problems = []
        for e0, label, numbers, xyz, members in scored[: s.n_loose]:
            system = self.engine.system(numbers, self.charge)
            opt = optimize(system, xyz, fmax_eV_per_A=s.loose_fmax_eV_per_A, max_steps=s.loose_max_steps,
                           raise_on_failure=False)
            problem, _ = cluster_problem([f.mol for f in members], opt.positions_A, self.cation, self.binding)
            if problem:
                problems.append(f"{label} (loose): {problem}")
                continue
            loose.append((opt.energy_Eh, label, numbers, opt.positions_A, members, system))
        loose.sort(key=lambda t: t[0])
        minima: list[Minimum] = []
        for e0, label, numbers, xyz, members, system in loose:
            if len(minima) >= s.n_tight:
                break
            opt = optimize(system, xyz, fmax_eV_per_A=s.fmax_eV_per_A, max_steps=s.max_steps, raise_on_failure=False)
            sp = opt.singlepoint
            if sp.electronic_temperature_K > self.engine.settings.electronic_temperature_K:
                problems.append(f"{label}: SCF converged only at {sp.electronic_temperature_K:.0f} K")
                continue
            problem, info = cluster_problem([f.mol for f in members], opt.positions_A, self.cation, self.binding)
            if problem:
                problems.append(f"{label} (tight): {problem}")
                continue
            if any(abs(m.energy_Eh - sp.energy_Eh) * HARTREE_TO_KCAL_PER_MOL < s.distinct_kcal_per_mol for m in minima):
                continue
            minima.append(Minimum(label, numbers, opt.positions_A, sp.energy_Eh, members,
                                  {**info, "optimization_steps": opt.n_steps}, opt.converged))
        self.log["rejected"] = problems
        if not minima:
            raise CalculationFailed("every optimized cluster was rejected: " + "; ".join(problems[:5]),
                                    error_type="optimization")
        minima.sort(key=lambda m: m.energy_Eh)
        return minima
