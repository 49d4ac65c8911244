"""The complex search (prescreen -> loose -> tight optimization) and the binding energy.

See :mod:`solvscreen.complexes` for the protocol.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import numpy as np
from rdkit import Chem

from ..engine import Engine, SinglePoint
from ..errors import CalculationFailed
from ..optimize import optimize
from ..records import StageResult
from ..units import HARTREE_TO_EV, HARTREE_TO_KCAL_PER_MOL
from .cations import CationSpec
from .donors import binding_mode, complex_problem, donor_atoms, unique_donors
from .ligands import LigandConformer, ligand_conformers
from .placement import Start, model_energy, placements
from .settings import BindingSettings

PRESCREEN_SCF_ITERATIONS = 60
SIGN_CONVENTION = "E_bind = E(M+.L) - E(M+) - E(L, lowest conformer); negative = bound, more negative = stronger"


def select_diverse(items: list, score, key, n: int) -> list:
    """The ``n`` best items by ``score``, taking the best of each distinct ``key`` first."""
    ordered = sorted(range(len(items)), key=lambda i: (score(items[i]), i))
    chosen, seen = [], set()
    for i in ordered:
        k = key(items[i])
        if k not in seen:
            seen.add(k)
            chosen.append(i)
        if len(chosen) >= n:
            break
    for i in ordered:
        if len(chosen) >= n:
            break
        if i not in chosen:
            chosen.append(i)
    return [items[i] for i in sorted(chosen, key=lambda i: (score(items[i]), i))]



@dataclass(eq=False)
class ComplexCandidate:
    positions_A: np.ndarray
    singlepoint: SinglePoint
    start: Start
    n_gradients: int
    converged: bool
    mode: dict = field(default_factory=dict)
    problem: str | None = None
    start_positions_A: np.ndarray | None = None  # the start geometry it was optimized from

    @property
    def energy_Eh(self) -> float:
        return self.singlepoint.energy_Eh


@dataclass
class ComplexSearchResult:
    numbers: np.ndarray
    best: ComplexCandidate
    candidates: list[ComplexCandidate]
    summary: dict


def _complex_xyz(lig_xyz: np.ndarray, p: np.ndarray) -> np.ndarray:
    return np.vstack([lig_xyz, p[None, :]])


def search_complex(
    engine: Engine,
    mol: Chem.Mol,
    charge: int,
    uhf: int,
    base_conformers: list[np.ndarray],
    cation: CationSpec,
    settings: BindingSettings = BindingSettings(),
) -> ComplexSearchResult:
    """Find the lowest M+·L complex (see the module docstring for the protocol)."""
    t0 = time.perf_counter()
    donors = donor_atoms(mol)
    if not donors:
        raise CalculationFailed("no donor atom (O, N, F, Cl, S) to bind a cation", error_type="no_donor")
    lig_numbers = np.array([a.GetAtomicNum() for a in mol.GetAtoms()], dtype=int)
    numbers = np.append(lig_numbers, cation.Z)
    symbols = [a.GetSymbol() for a in mol.GetAtoms()]
    confs, conf_summary = ligand_conformers(engine, mol, base_conformers, charge, uhf, donors, cation, settings)
    e_min = min(c.energy_Eh for c in confs)
    t_conf = time.perf_counter()

    starts: list[Start] = []
    n_clash = 0
    for ci, c in enumerate(confs):
        s, nc = placements(mol, ci, c, donors, cation, settings.max_chelate_donors)
        n_clash += nc
        for st in s:
            st.model_kcal = (c.energy_Eh - e_min) * HARTREE_TO_KCAL_PER_MOL + model_energy(
                c.positions_A, c.charges_e, symbols, st.donors, st.position_A, cation
            )
        starts.extend(s)
    if not starts:
        raise CalculationFailed(
            f"every cation placement clashed with the ligand ({n_clash} tried)", error_type="placement"
        )

    # 1. single points on the best placements by the point-charge model. Each start gets a
    # fresh SCF (a guess from another start's geometry can send the SCF astray) with a
    # short iteration budget: a start whose SCF struggles (e.g. a near-zero gap) is a bad
    # start, not worth the retry ladder's thousands of iterations.
    pre = Engine(replace(engine.settings, max_iterations=min(engine.settings.max_iterations, PRESCREEN_SCF_ITERATIONS)),
                 engine.stats)
    screened = select_diverse(starts, lambda s: s.model_kcal, lambda s: s.key, settings.max_singlepoints)
    sp_ok: list[Start] = []
    n_scf_skipped = 0
    for st in screened:
        try:
            sp = pre.system(numbers, charge + cation.charge, uhf).compute(
                _complex_xyz(confs[st.conformer].positions_A, st.position_A), gradient=False)
        except CalculationFailed:
            n_scf_skipped += 1
            continue
        if sp.scf_attempt > 2:  # converged only at an elevated electronic temperature
            n_scf_skipped += 1
            continue
        st.energy_Eh = sp.energy_Eh
        sp_ok.append(st)
    if not sp_ok:
        raise CalculationFailed("no complex start gave a converged SCF", error_type="scf")
    t_sp = time.perf_counter()

    # 2. loose, short optimization of the best distinct donor sets
    relaxed: list[ComplexCandidate] = []
    rejected: list[str] = []
    to_relax = select_diverse(sp_ok, lambda s: s.energy_Eh, lambda s: s.key, settings.n_relax)
    for st in to_relax:
        start_xyz = _complex_xyz(confs[st.conformer].positions_A, st.position_A)
        try:
            opt = optimize(engine.system(numbers, charge + cation.charge, uhf), start_xyz,
                           fmax_eV_per_A=settings.loose_fmax_eV_per_A, max_steps=settings.loose_max_steps,
                           raise_on_failure=False)
        except CalculationFailed as exc:
            rejected.append(f"{_start_label(mol, st, confs)}: {exc}")
            continue
        cand = ComplexCandidate(opt.positions_A, opt.singlepoint, st, opt.n_gradients, opt.converged,
                                start_positions_A=start_xyz)
        cand.problem = complex_problem(mol, cand.positions_A, donors, settings.dissociation_cutoff_A)
        cand.mode = binding_mode(mol, cand.positions_A, donors, cation, settings.denticity_factor)
        if cand.problem:
            rejected.append(f"{_start_label(mol, st, confs)} (loose): {cand.problem}")
            continue
        relaxed.append(cand)
    t_relax = time.perf_counter()

    # 3. tight optimization of the best distinct binding modes; the next ones if those fail
    final: list[ComplexCandidate] = []
    queue = select_diverse(relaxed, lambda c: c.energy_Eh, lambda c: c.mode["key"], len(relaxed))
    distinct = select_diverse(relaxed, lambda c: c.energy_Eh, lambda c: c.mode["key"], settings.n_optimize)
    queue = distinct + [c for c in queue if c not in distinct]
    n_tight = 0
    for cand in queue:
        if n_tight >= settings.n_optimize and final:
            break
        n_tight += 1
        try:
            opt = optimize(engine.system(numbers, charge + cation.charge, uhf), cand.positions_A,
                           fmax_eV_per_A=settings.fmax_eV_per_A, max_steps=settings.max_steps,
                           raise_on_failure=False)
        except CalculationFailed as exc:
            rejected.append(f"{_start_label(mol, cand.start, confs)} (tight): {exc}")
            continue
        sp = opt.singlepoint
        if sp.electronic_temperature_K > engine.settings.electronic_temperature_K:
            # the SCF ladder raised the temperature on the way: re-evaluate at the requested one
            try:
                sp = engine.system(numbers, charge + cation.charge, uhf).compute(opt.positions_A)
            except CalculationFailed as exc:
                rejected.append(f"{_start_label(mol, cand.start, confs)} (tight): {exc}")
                continue
        tight = ComplexCandidate(opt.positions_A, sp, cand.start, cand.n_gradients + opt.n_gradients, opt.converged,
                                 start_positions_A=cand.start_positions_A)
        tight.problem = complex_problem(mol, tight.positions_A, donors, settings.dissociation_cutoff_A)
        if tight.problem is None and not tight.converged:
            tight.problem = f"optimization not converged in {settings.max_steps} steps"
        if tight.problem is None and sp.electronic_temperature_K > engine.settings.electronic_temperature_K:
            tight.problem = f"SCF converged only at {sp.electronic_temperature_K:.0f} K electronic temperature"
        tight.mode = binding_mode(mol, tight.positions_A, donors, cation, settings.denticity_factor)
        if tight.problem:
            rejected.append(f"{_start_label(mol, cand.start, confs)} (tight): {tight.problem}")
            continue
        final.append(tight)
    t_opt = time.perf_counter()
    if not final:
        kinds = "dissociated" if rejected and all("dissociated" in r for r in rejected) else "optimization"
        raise CalculationFailed("no acceptable complex: " + "; ".join(rejected[:8]), error_type=kinds)
    final.sort(key=lambda c: c.energy_Eh)
    best = final[0]
    summary = {
        **conf_summary,
        "n_donor_atoms": len(donors),
        "n_unique_donor_sites": len(unique_donors(donors)),
        "donor_sites": [d.label for d in unique_donors(donors)],
        "n_starts_tried": len(starts) + n_clash,
        "n_starts_clash_free": len(starts),
        "n_rejected_clash": n_clash,
        "n_prescreened": len(sp_ok) + n_scf_skipped,
        "n_prescreen_scf_skipped": n_scf_skipped,
        "n_relaxed": len(to_relax),
        "n_optimized": n_tight,
        "n_rejected": len(rejected),
        "rejected": rejected,
        "candidates": [
            {
                "start": _start_label(mol, c.start, confs),
                "E_rel_kcal_per_mol": round((c.energy_Eh - best.energy_Eh) * HARTREE_TO_KCAL_PER_MOL, 3),
                "denticity": c.mode["denticity"],
                "donor_atoms": c.mode["donor_atoms"],
                "gradient_evaluations": c.n_gradients,
            }
            for c in final
        ],
        "phase_seconds": {
            "conformers": round(t_conf - t0, 3),
            "prescreen": round(t_sp - t_conf, 3),
            "loose_optimization": round(t_relax - t_sp, 3),
            "tight_optimization": round(t_opt - t_relax, 3),
        },
    }
    return ComplexSearchResult(numbers, best, final, summary)


def _start_label(mol: Chem.Mol, st: Start, confs: list[LigandConformer]) -> str:
    sites = "+".join(f"{mol.GetAtomWithIdx(i).GetSymbol()}{i}" for i in st.donors)
    return f"{sites} {st.tag} on {confs[st.conformer].label}"


# ----------------------------------------------------------------------------- binding energy
@dataclass
class BindingResult(StageResult):
    """E_bind of one ligand (or, for an anion, the ion pair) with one cation.

    ``COLUMNS`` are its binding.csv columns (:func:`solvscreen.stages.binding.binding_row`).
    """

    COLUMNS = ("E_bind_kcal_per_mol", "E_bind_eV", "denticity", "donor_atoms", "M_donor_distances_A",
               "n_starts_tried", "n_prescreened", "n_optimized", "n_conformers")

    cation: CationSpec
    E_bind_Eh: float
    E_complex_Eh: float
    E_cation_Eh: float
    E_ligand_Eh: float
    search: ComplexSearchResult
    ligand_charge: int = 0

    @property
    def E_bind_kcal_per_mol(self) -> float:
        return self.E_bind_Eh * HARTREE_TO_KCAL_PER_MOL

    @property
    def E_bind_eV(self) -> float:
        return self.E_bind_Eh * HARTREE_TO_EV

    @property
    def mode(self) -> dict:
        return self.search.best.mode

    def to_results(self) -> dict:
        mode = {k: v for k, v in self.mode.items() if k != "key"}
        s = self.search.summary
        return {
            "cation": self.cation.symbol,
            "E_bind_kcal_per_mol": self.E_bind_kcal_per_mol,
            "E_bind_eV": self.E_bind_eV,
            "sign_convention": SIGN_CONVENTION,
            "E_complex_Eh": self.E_complex_Eh,
            "E_cation_Eh": self.E_cation_Eh,
            "E_ligand_Eh": self.E_ligand_Eh,
            "binding_mode": mode,
            "denticity": mode["denticity"],
            "donor_atoms": mode["donor_atoms"],
            "M_donor_distances_A": mode["M_donor_distances_A"],
            "n_starts_tried": s["n_starts_tried"],
            "n_prescreened": s["n_prescreened"],
            "n_optimized": s["n_optimized"],
            "search": s,
            "n_conformers": s.get("n_conformers"),
            "complex_charge": self.ligand_charge + self.cation.charge,
            "ligand_charge": self.ligand_charge,
            "atom_labels": "donor atoms: element + 0-based ligand atom index (XYZ order); the cation is the last atom",
        }


def bind(
    engine: Engine,
    mol: Chem.Mol,
    charge: int,
    uhf: int,
    ligand_energy_Eh: float,
    cation_energy_Eh: float,
    conformers: list[np.ndarray],
    cation: CationSpec,
    settings: BindingSettings = BindingSettings(),
) -> BindingResult:
    """E_bind of ``cation`` to the ligand ``mol`` whose lowest conformer has ``ligand_energy_Eh``."""
    search = search_complex(engine, mol, charge, uhf, conformers, cation, settings)
    e = search.best.energy_Eh
    return BindingResult(cation, e - cation_energy_Eh - ligand_energy_Eh, e, cation_energy_Eh, ligand_energy_Eh, search,
                         ligand_charge=int(charge))

