"""Stepwise solvation free energies of M+(L)n up to saturation, the anion's competing step,
and the solvating power.

Steps (all in the candidate's own dielectric continuum, GFN2-xTB, quasi-RRHO, 298.15 K):

- ``dG_n``: M+(L)n-1 + L -> M+(L)n, ``G(M+Ln) - G(M+Ln-1) - G(L) - RT ln(24.465) - RT ln[L]``:
  the free molecule at 1 M (from 1 atm) and then at its concentration in its neat liquid
  ``[L]`` (``RT ln[L]``, :func:`thermo.neat_liquid_term`); clusters at 1 M;
- the stop: after step n when ``dG_n > 0`` (the shell is saturated at n-1), when the lowest
  M+(L)n has the cation's target coordination number of O/N/S/Cl donor atoms (K+ 6), at ``max_n``,
  or when M+(L)n+1 would exceed ``max_atoms``. The last step computed is ``n_last``;
- ``dG_anion``: M+(L)n_last-1 + A- -> M+(L)n_last-1 A- with the anion at 1 M: the anion
  taking the last site instead of the n_last-th solvent molecule. The anion wins the last
  site when ``dG_anion < dG_n_last``;
- **solvating power** ``= -dG_n_last`` (kcal/mol; larger = holds K+ more strongly): minus the
  free energy of the step that completes the first shell (or the first unfavourable step):
  the site an anion competes for in an electrolyte. Its uncertainty is the method error
  (``method_error_kcal_per_mol``) and half the spread of that step over the lowest minima
  found (the second-lowest minimum of M+(L)n_last and of M+(L)n_last-1 in place of the lowest;
  electronic energy plus the lowest minimum's thermal part where it has no Hessian), in
  quadrature.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from rdkit import Chem

from ..complexes import HARD_DONORS, BindingSettings, CationSpec, Fragment, donor_atoms
from ..complexes.shells import Arrangement
from ..xtb.engine import Engine
from ..xtb.optimize import optimize
from ..core.records import StageResult
from ..core.units import HARTREE_TO_KCAL_PER_MOL
from .clusters import ClusterSearch, Minimum
from .settings import SolvationSettings
from .thermo import K_BOLTZMANN, N_AVOGADRO, R_KCAL, atm_to_molar_kcal, free_energy, qrrho_free_energy

SIGN = ("dG_n of M+(L)n-1 + L -> M+(L)n (kcal/mol; negative = favourable); solvating_power = -dG of the step "
        "that completes the first shell (or of the first unfavourable step); larger = holds the cation more strongly")
REFRACTIVE_INDEX_SQ = 2.0  # n^2 of a typical organic liquid (n ~ 1.41), for the Onsager estimate
DEBYE_CM = 3.33564e-30
EPS0 = 8.8541878128e-12


#: tblite's parametrized ALPB solvents that are aprotic, non-aromatic and not halogenated, with
#: their static dielectric constants (CRC Handbook, ~20-25 °C): the continuum of a candidate is
#: the one nearest to its own dielectric constant in ln(eps). tblite's epsilon-only continuum
#: (``gbe-solvation``, non-empirical Born radii) is not used: its energy collapses when bonds
#: shorten (measured: K+(DME)3 fell by 3 Eh as C-H bonds reached 0.87 Å during an optimization).
ALPB_DIELECTRIC = {"hexane": 1.88, "dioxane": 2.22, "ether": 4.27, "ethylacetate": 6.08, "thf": 7.52,
                   "acetone": 21.0, "acetonitrile": 36.6, "dmso": 47.2}


def nearest_alpb_solvent(eps: float) -> str:
    """The parametrized ALPB solvent of :data:`ALPB_DIELECTRIC` nearest to ``eps`` in ln(eps)."""
    return min(ALPB_DIELECTRIC, key=lambda k: abs(math.log(ALPB_DIELECTRIC[k]) - math.log(eps)))


def onsager_dielectric(mu_debye: float, molar_volume_mL: float, T: float = 298.15,
                       n2: float = REFRACTIVE_INDEX_SQ) -> float:
    """Static dielectric constant from Onsager's equation (J. Am. Chem. Soc. 58 (1936) 1486),
    ``(eps - n^2)(2 eps + n^2) / (eps (n^2 + 2)^2) = N mu^2 / (9 eps0 k T)``: no association,
    no specific interactions (underestimates H-bonded liquids; a rough estimate)."""
    number_density = N_AVOGADRO / (molar_volume_mL * 1e-6)
    a = (n2 + 2) ** 2 * number_density * (mu_debye * DEBYE_CM) ** 2 / (9 * EPS0 * K_BOLTZMANN * T)
    return ((n2 + a) + math.sqrt((n2 + a) ** 2 + 8 * n2**2)) / 4


@dataclass
class Species:
    """A molecule's best minimum in the continuum and its free energy (1 atm)."""

    G_kcal: float
    energy_Eh: float
    positions_A: np.ndarray
    thermo: dict


def masses_of(numbers) -> np.ndarray:
    table = Chem.GetPeriodicTable()
    return np.array([table.GetAtomicWeight(int(z)) for z in numbers])


def free_species(engine: Engine, numbers, charge: int, conformers: list[np.ndarray], s: SolvationSettings,
                 n_opt: int = 2) -> Species:
    """Lowest of the ``n_opt`` best conformers (by single point) re-optimized in the continuum; G."""
    system = engine.system(numbers, charge)
    ranked = sorted(conformers[:6], key=lambda x: system.compute(x, gradient=False).energy_Eh)
    best = None
    for x in ranked[:n_opt]:
        opt = optimize(engine.system(numbers, charge), x, fmax_eV_per_A=s.fmax_eV_per_A, max_steps=s.max_steps,
                       raise_on_failure=False)
        if best is None or opt.energy_Eh < best.energy_Eh:
            best = opt
    g, th = free_energy(engine.system(numbers, charge), best.positions_A, masses_of(numbers), best.energy_Eh,
                        s.temperature_K, s.nu0_cm, s.central_hessian)
    return Species(g, best.energy_Eh, best.positions_A, th.to_dict())


def ensemble_dipole(engine_gas: Engine, numbers, conformers: list[np.ndarray], T: float) -> float:
    """Boltzmann-averaged rms dipole (D) over the conformers (GFN2-xTB, gas phase)."""
    sps = [engine_gas.singlepoint(numbers, x) for x in conformers[:6]]
    e = np.array([sp.energy_Eh for sp in sps]) * HARTREE_TO_KCAL_PER_MOL
    w = np.exp(-(e - e.min()) / (R_KCAL * T))
    mu2 = np.array([sp.dipole_magnitude_D**2 for sp in sps])
    return float(math.sqrt((w * mu2).sum() / w.sum()))


@dataclass
class Step:
    n: int
    dG_kcal_per_mol: float
    spread_kcal_per_mol: float
    cluster: dict = field(default_factory=dict)


@dataclass
class SolvationResult(StageResult):
    """What a solvation record stores; ``COLUMNS`` are its solvating_power.csv columns."""

    COLUMNS = ("solvating_power_kcal_per_mol", "solvating_power_err_kcal_per_mol", "n_saturation", "n_last",
               "stop_reason", "dG_steps_kcal_per_mol", "dG_anion_last_site_kcal_per_mol", "anion",
               "anion_wins_last_site", "dielectric_constant", "dielectric_source", "continuum", "neat_concentration_mol_per_L",
               "RT_ln_L_kcal_per_mol")
    RECORD_STAGES = ("solvation",)

    cation: str
    anion: str
    solvating_power_kcal_per_mol: float
    solvating_power_err_kcal_per_mol: float
    n_saturation: int
    n_last: int
    stop_reason: str
    dG_steps_kcal_per_mol: str  # "n:dG" pairs, ";"-separated
    dG_anion_last_site_kcal_per_mol: float | None
    anion_wins_last_site: bool | None
    dielectric_constant: float
    dielectric_source: str
    continuum: str
    neat_concentration_mol_per_L: float
    RT_ln_L_kcal_per_mol: float
    steps: list = field(default_factory=list)
    anion_step: dict = field(default_factory=dict)
    standard_state: dict = field(default_factory=dict)
    species: dict = field(default_factory=dict)
    definition: str = SIGN


def hard_coordination(m: Minimum, cation: CationSpec, binding: BindingSettings) -> int:
    """O, N, S and Cl donor atoms within ``denticity_factor`` x the ideal distance of the cation.
    F contacts do not complete a shell: GFN2-xTB binds K+ to C-F nearly as strongly as to ether O
    while MD finds fluoroethers depleted from the K+ shell (docs/classification.md)."""
    k, count = 0, 0
    for f in m.members:
        xyz = m.positions_A[k:k + len(f.numbers)] - m.positions_A[-1]
        for d in donor_atoms(f.mol):
            if d.element in HARD_DONORS and np.linalg.norm(xyz[d.index]) <= (
                    binding.denticity_factor * cation.ideal_distance(d.element)):
                count += 1
        k += len(f.numbers)
    return count


def _step_spread(new: list[Minimum], old: list[Minimum]) -> float:
    """Largest change of a step's dG when the second-lowest minimum of either cluster replaces the lowest."""
    out = 0.0
    for mins, sign in ((new, 1.0), (old, -1.0)):
        if len(mins) < 2:
            continue
        a, b = mins[0], mins[1]
        if a.G_kcal is not None and b.G_kcal is not None:
            d = b.G_kcal - a.G_kcal
        else:
            d = (b.energy_Eh - a.energy_Eh) * HARTREE_TO_KCAL_PER_MOL
        out = max(out, abs(d))
    return out


def _with_free_energies(engine: Engine, minima: list[Minimum], charge: int, s: SolvationSettings) -> None:
    for m in minima[: s.n_hessian]:
        m.G_kcal, m.thermo = free_energy(engine.system(m.numbers, charge), m.positions_A, masses_of(m.numbers),
                                         m.energy_Eh, s.temperature_K, s.nu0_cm, s.central_hessian)
    lowest = minima[0]
    th = lowest.G_kcal - lowest.energy_Eh * HARTREE_TO_KCAL_PER_MOL
    for m in minima[s.n_hessian:]:  # electronic energy + the lowest minimum's thermal part
        m.info["G_estimated_from_lowest_thermal"] = True
        m.G_kcal = m.energy_Eh * HARTREE_TO_KCAL_PER_MOL + th


def stepwise_solvation(engine: Engine, cation: CationSpec, chelate: Fragment, mono: Fragment | None,
                       free_ligand: Species, cation_energy_Eh: float, anion_form: Fragment | None,
                       free_anion: Species | None, anion_charge: int, neat: tuple[float, float],
                       s: SolvationSettings, binding: BindingSettings) -> tuple[list[Step], dict, dict]:
    """The stepwise dG_n and the anion's step (see the module docstring)."""
    T = s.temperature_K
    ss = atm_to_molar_kcal(T)
    rt_ln_l, _ = neat
    rng = np.random.default_rng(s.seed)
    g_m = cation_energy_Eh * HARTREE_TO_KCAL_PER_MOL + qrrho_free_energy(np.zeros(0), np.zeros((1, 3)),
                                                                         masses_of([cation.Z]), T, s.nu0_cm).G_qrrho
    bare = Minimum("M+", np.array([cation.Z]), np.zeros((1, 3)), cation_energy_Eh, [], {}, True, g_m)
    forms = [chelate] + ([mono] if mono is not None else [])
    target = binding.target_cn(cation)
    lig_atoms = len(chelate.numbers)
    steps: list[Step] = []
    layers: dict[int, list[Minimum]] = {0: [bare]}
    stop = ""
    n = 0
    while not stop:
        n += 1
        search = ClusterSearch(engine, cation, s, binding, cation.charge)
        if n == 1:
            starts = [("1:1 complex", Arrangement([(chelate, chelate.xyz)]))]
            if mono is not None:
                starts.append(("monodentate free conformer", Arrangement([(mono, mono.xyz)])))
        else:
            starts = search.starts(layers[n - 1], forms, [[chelate] * n], rng)
        minima = search.run(starts)
        _with_free_energies(engine, minima, cation.charge, s)
        layers[n] = minima
        dg = minima[0].G_kcal - layers[n - 1][0].G_kcal - free_ligand.G_kcal - ss - rt_ln_l
        cn = hard_coordination(minima[0], cation, binding)
        steps.append(Step(n, dg, _step_spread(minima, layers[n - 1]), {
            "coordination_number": cn, "search": search.log,
            "minima": [m.summary(minima[0].energy_Eh) for m in minima]}))
        if dg > 0:
            stop = f"dG_{n} > 0: the shell is saturated at n = {n - 1}"
        elif cn >= target:
            stop = (f"the lowest M+(L){n} has {cn} O/N/S/Cl donor atoms within the bonding cutoff >= target CN "
                    f"{target}")
        elif n >= s.max_n:
            stop = f"max_n = {s.max_n} reached (cost cap; the shell may take more molecules)"
        elif (n + 1) * lig_atoms + 1 > s.max_atoms:
            stop = f"M+(L){n + 1} would have more than max_atoms = {s.max_atoms} atoms (cost cap)"
    anion_step: dict = {}
    if anion_form is not None and free_anion is not None:
        base = layers[n - 1]
        search = ClusterSearch(engine, cation, s, binding, cation.charge + anion_charge)
        if n == 1:
            starts = [("ion pair", Arrangement([(anion_form, anion_form.xyz)]))]
        else:
            starts = search.starts(base, [anion_form], [], rng)
        minima = search.run(starts)
        if s.anion_hessian:
            _with_free_energies(engine, minima, search.charge, s)
            thermal_note = "frequencies of the anion cluster"
        else:  # the thermal part of the solvent step it competes with (kcal/mol, 1 atm)
            last = layers[n][0]
            th_step = ((last.G_kcal - last.energy_Eh * HARTREE_TO_KCAL_PER_MOL)
                       - (base[0].G_kcal - base[0].energy_Eh * HARTREE_TO_KCAL_PER_MOL)
                       - (free_ligand.G_kcal - free_ligand.energy_Eh * HARTREE_TO_KCAL_PER_MOL))
            th_anion = free_anion.G_kcal - free_anion.energy_Eh * HARTREE_TO_KCAL_PER_MOL
            th_base = base[0].G_kcal - base[0].energy_Eh * HARTREE_TO_KCAL_PER_MOL
            for m in minima:
                m.G_kcal = m.energy_Eh * HARTREE_TO_KCAL_PER_MOL + th_base + th_anion + th_step
            thermal_note = (f"thermal part of the anion's binding taken as that of solvent step {n} "
                            f"({th_step:+.2f} kcal/mol, 1 atm): no frequencies of the anion cluster")
        dga = minima[0].G_kcal - base[0].G_kcal - free_anion.G_kcal - ss
        anion_step = {"n_solvent": n - 1, "dG_kcal_per_mol": dga, "thermal": thermal_note,
                      "spread_kcal_per_mol": _step_spread(minima, base),
                      "search": search.log, "minima": [m.summary(minima[0].energy_Eh) for m in minima],
                      "lowest": minima[0]}
    return steps, {"stop_reason": stop, "layers": layers, "ss_kcal_per_mol": ss}, anion_step
