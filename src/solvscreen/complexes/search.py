"""The complex search (prescreen -> loose -> tight optimization) and the binding energy.

See :mod:`solvscreen.complexes` for the protocol.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import numpy as np
from rdkit import Chem

from ..xtb.engine import Engine, SinglePoint
from ..core.errors import CalculationFailed
from ..xtb.optimize import optimize
from ..core.records import StageResult
from ..core.units import HARTREE_TO_EV, HARTREE_TO_KCAL_PER_MOL
from .cations import CationSpec
from .donors import MoleculeFeatures, binding_mode, complex_problem, donor_atoms, molecule_features, unique_donors
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


@dataclass
class _Search:
    """What the phases of one complex search share."""

    engine: Engine
    mol: Chem.Mol
    numbers: np.ndarray  # ligand + cation (last)
    charge: int  # of the complex
    uhf: int
    cation: CationSpec
    settings: BindingSettings
    donors: list
    confs: list[LigandConformer]
    rejected: list[str] = field(default_factory=list)

    def xyz(self, st: Start) -> np.ndarray:
        return _complex_xyz(self.confs[st.conformer].positions_A, st.position_A)

    def label(self, st: Start) -> str:
        return _start_label(self.mol, st, self.confs)

    def system(self, engine: Engine | None = None):
        return (engine or self.engine).system(self.numbers, self.charge, self.uhf)


def _place(s: _Search) -> tuple[list[Start], int]:
    """Every clash-free cation placement on every ligand conformer, scored by the point-charge model."""
    e_min = min(c.energy_Eh for c in s.confs)
    symbols = [a.GetSymbol() for a in s.mol.GetAtoms()]
    starts: list[Start] = []
    n_clash = 0
    for ci, c in enumerate(s.confs):
        found, nc = placements(s.mol, ci, c, s.donors, s.cation, s.settings.max_chelate_donors)
        n_clash += nc
        for st in found:
            st.model_kcal = (c.energy_Eh - e_min) * HARTREE_TO_KCAL_PER_MOL + model_energy(
                c.positions_A, c.charges_e, symbols, st.donors, st.position_A, s.cation
            )
        starts.extend(found)
    if not starts:
        raise CalculationFailed(
            f"every cation placement clashed with the ligand ({n_clash} tried)", error_type="placement"
        )
    return starts, n_clash


def _prescreen(s: _Search, starts: list[Start]) -> tuple[list[Start], int]:
    """Single points on the best placements by the point-charge model.

    Each start gets a fresh SCF (a guess from another start's geometry can send the SCF
    astray) with a short iteration budget: a start whose SCF struggles (e.g. a near-zero
    gap) is a bad start, not worth the retry ladder's thousands of iterations.
    """
    pre = Engine(replace(s.engine.settings, max_iterations=min(s.engine.settings.max_iterations,
                                                                 PRESCREEN_SCF_ITERATIONS)), s.engine.stats)
    screened = select_diverse(starts, lambda st: st.model_kcal, lambda st: st.key, s.settings.max_singlepoints)
    sp_ok: list[Start] = []
    n_skipped = 0
    for st in screened:
        try:
            sp = s.system(pre).compute(s.xyz(st), gradient=False)
        except CalculationFailed:
            n_skipped += 1
            continue
        if sp.scf_attempt > 2:  # converged only at an elevated electronic temperature
            n_skipped += 1
            continue
        st.energy_Eh = sp.energy_Eh
        sp_ok.append(st)
    if not sp_ok:
        raise CalculationFailed("no complex start gave a converged SCF", error_type="scf")
    return sp_ok, n_skipped


def _relax_loose(s: _Search, sp_ok: list[Start]) -> tuple[list[ComplexCandidate], int]:
    """Loose, short optimization of the best distinct donor sets."""
    relaxed: list[ComplexCandidate] = []
    to_relax = select_diverse(sp_ok, lambda st: st.energy_Eh, lambda st: st.key, s.settings.n_relax)
    for st in to_relax:
        start_xyz = s.xyz(st)
        try:
            opt = optimize(s.system(), start_xyz, fmax_eV_per_A=s.settings.loose_fmax_eV_per_A,
                           max_steps=s.settings.loose_max_steps, raise_on_failure=False)
        except CalculationFailed as exc:
            s.rejected.append(f"{s.label(st)}: {exc}")
            continue
        cand = ComplexCandidate(opt.positions_A, opt.singlepoint, st, opt.n_gradients, opt.converged,
                                start_positions_A=start_xyz)
        cand.problem = complex_problem(s.mol, cand.positions_A, s.donors, s.settings.dissociation_cutoff_A)
        cand.mode = binding_mode(s.mol, cand.positions_A, s.donors, s.cation, s.settings.denticity_factor)
        if cand.problem:
            s.rejected.append(f"{s.label(st)} (loose): {cand.problem}")
            continue
        relaxed.append(cand)
    return relaxed, len(to_relax)


def _optimize_tight(s: _Search, relaxed: list[ComplexCandidate]) -> tuple[list[ComplexCandidate], int]:
    """Tight optimization of the best distinct binding modes; the next ones if those fail."""
    settings, requested_K = s.settings, s.engine.settings.electronic_temperature_K
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
            opt = optimize(s.system(), cand.positions_A, fmax_eV_per_A=settings.fmax_eV_per_A,
                           max_steps=settings.max_steps, raise_on_failure=False)
        except CalculationFailed as exc:
            s.rejected.append(f"{s.label(cand.start)} (tight): {exc}")
            continue
        sp = opt.singlepoint
        if sp.electronic_temperature_K > requested_K:
            # the SCF ladder raised the temperature on the way: re-evaluate at the requested one
            try:
                sp = s.system().compute(opt.positions_A)
            except CalculationFailed as exc:
                s.rejected.append(f"{s.label(cand.start)} (tight): {exc}")
                continue
        tight = ComplexCandidate(opt.positions_A, sp, cand.start, cand.n_gradients + opt.n_gradients, opt.converged,
                                 start_positions_A=cand.start_positions_A)
        tight.problem = complex_problem(s.mol, tight.positions_A, s.donors, settings.dissociation_cutoff_A)
        if tight.problem is None and not tight.converged:
            tight.problem = f"optimization not converged in {settings.max_steps} steps"
        if tight.problem is None and sp.electronic_temperature_K > requested_K:
            tight.problem = f"SCF converged only at {sp.electronic_temperature_K:.0f} K electronic temperature"
        tight.mode = binding_mode(s.mol, tight.positions_A, s.donors, s.cation, settings.denticity_factor)
        if tight.problem:
            s.rejected.append(f"{s.label(cand.start)} (tight): {tight.problem}")
            continue
        final.append(tight)
    if not final:
        kinds = "dissociated" if s.rejected and all("dissociated" in r for r in s.rejected) else "optimization"
        raise CalculationFailed("no acceptable complex: " + "; ".join(s.rejected[:8]), error_type=kinds)
    final.sort(key=lambda c: c.energy_Eh)
    return final, n_tight


def search_complex(
    engine: Engine,
    mol: Chem.Mol,
    charge: int,
    uhf: int,
    base_conformers: list[np.ndarray],
    cation: CationSpec,
    settings: BindingSettings = BindingSettings(),
) -> ComplexSearchResult:
    """Find the lowest M+·L complex (see :mod:`solvscreen.complexes` for the protocol):
    conformers -> placements -> prescreen -> loose -> tight optimization."""
    t0 = time.perf_counter()
    donors = donor_atoms(mol)
    if not donors:
        raise CalculationFailed("no donor atom (O, N, F, Cl, S) to bind a cation", error_type="no_donor")
    numbers = np.append(np.array([a.GetAtomicNum() for a in mol.GetAtoms()], dtype=int), cation.Z)
    confs, conf_summary = ligand_conformers(engine, mol, base_conformers, charge, uhf, donors, cation, settings)
    s = _Search(engine, mol, numbers, charge + cation.charge, uhf, cation, settings, donors, confs)
    t_conf = time.perf_counter()
    starts, n_clash = _place(s)
    sp_ok, n_scf_skipped = _prescreen(s, starts)
    t_sp = time.perf_counter()
    relaxed, n_relaxed = _relax_loose(s, sp_ok)
    t_relax = time.perf_counter()
    final, n_tight = _optimize_tight(s, relaxed)
    t_opt = time.perf_counter()
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
        "n_relaxed": n_relaxed,
        "n_optimized": n_tight,
        "n_rejected": len(s.rejected),
        "rejected": s.rejected,
        "candidates": [
            {
                "start": s.label(c.start),
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
               "n_starts_tried", "n_prescreened", "n_optimized", "n_conformers",
               # the bound molecule itself (MoleculeFeatures): what classification needs of it
               "ligand_charge_e", "n_molecule_donor_atoms", "molecule_donor_atoms", "has_C_F", "has_C_Cl",
               "has_C_Br", "has_C_I", "pi_donor_group", "canonical_smiles")
    RECORD_STAGES = ("binding", "ion_pair")
    # to_results() stores these (not the dataclass's fields)
    REQUIRED_RESULTS = {"cation": "string", "E_bind_kcal_per_mol": "number", "E_bind_eV": "number",
                        "E_complex_Eh": "number", "E_cation_Eh": "number", "E_ligand_Eh": "number",
                        "binding_mode": "object", "denticity": "integer", "donor_atoms": "array",
                        "M_donor_distances_A": "array", "search": "object", "complex_charge": "integer",
                        "ligand_charge": "integer"}

    cation: CationSpec
    E_bind_Eh: float
    E_complex_Eh: float
    E_cation_Eh: float
    E_ligand_Eh: float
    search: ComplexSearchResult
    ligand_charge: int = 0
    ligand: MoleculeFeatures | None = None  # donor atoms, C-halogen bonds of the bound molecule

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
            **({k: v for k, v in self.ligand.to_dict().items() if k != "charge_e"} if self.ligand else {}),
        }

    @classmethod
    def row_from_results(cls, results: dict) -> dict:
        return {**{c: results.get(c) for c in cls.COLUMNS}, "ligand_charge_e": results.get("ligand_charge")}


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
                         ligand_charge=int(charge), ligand=molecule_features(mol))

