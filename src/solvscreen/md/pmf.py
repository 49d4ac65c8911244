"""K+-anion potential of mean force in explicit solvent: umbrella sampling + WHAM.

The review's design rules are about one competition: the solvent against the anion for
K+. Bracketing MD of the concentrated electrolyte measures its outcome (the anion CN), but
1-2 M ion clusters stay kinetically trapped for nanoseconds. One ion pair in the neat
solvent is an equilibrium problem that umbrella sampling converges in a few hundred ps per
window: the free energy of bringing the anion from a solvent-separated distance into
contact with K+, against the solvent that holds the K+ shell.

Protocol (one K+, one anion, ~``box_edge_A``^3 of neat solvent; the MD stage's force
field: GAFF2/AM1-BCC, Joung-Cheatham K+, ion charges x ``charge_scale``; PME, HMR 4 fs,
LangevinMiddle, Monte Carlo barostat, NPT at 298 K):

1. pack, minimize, pull the anion's centroid to ``r_min_A`` from K+ over ``pull_ps``;
2. windows r0 = r_min ... r_max every ``window_spacing_A``, each restrained by
   0.5 k (r - r0)^2 (r: K+ to the anion's centroid, minimum image), started from the
   previous window's last state, ``equilibration_ps`` discarded, then production in rounds
   of ``round_ps`` per window;
3. WHAM (:mod:`.wham`) gives P(r); the PMF is w(r) = -kT ln[P(r) / r^2], zero on average
   over the reference shell [r_max - ``reference_width_A``, r_max];
4. observables (:func:`pair_observables`): the contact minimum r_CIP and w(r_CIP), the
   barrier r_b between contact and solvent-separated pairs, the association constant

       K_a = 4 pi N_A int_0^{r_b} r^2 exp[-w(r)/kT] dr      (L/mol; standard state 1 mol/L)

   and dG_assoc = -RT ln(K_a / 1 L/mol), and the mass-action fraction of K+ with an anion in
   contact at a salt concentration c: alpha with K_a c (1 - alpha)^2 = alpha;
5. intervals: block bootstrap (2.5-97.5 percentiles); convergence: the first and second
   halves of every window's production give dG_assoc within ``converged_tol_kcal_per_mol``
   and the bootstrap interval is no wider than twice that. Rounds continue until converged
   or ``max_production_ps`` per window.

What the number means, and does not: w(r) is referenced to the reference shell, not to
infinite separation. In a low-dielectric solvent the screened Coulomb attraction has not
died out at 8-9 A (with 0.8 charges and eps ~ 7, q1 q2 / (4 pi eps0 eps r) ~ 3 kcal/mol at
9 A), so K_a counts contact pairs relative to pairs at r_max: it compares solvents by how
strongly each keeps the anion out of the K+ first shell, which is the competition the
review's rules are about, and it is a lower bound of a Bjerrum association constant. The
same protocol in every solvent (same box size, windows and reference shell) is what makes
dG_assoc(solvent) - dG_assoc(DME) meaningful.
"""

from __future__ import annotations

import json
import logging
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ..core.errors import CalculationFailed
from .pair_box import AVOGADRO, Component, build_pair_system  # noqa: F401 - re-exported
from .pmf_cost import CostLedger
from .wham import KB_KCAL_PER_MOL_K, Window, WhamResult, bootstrap, wham

log = logging.getLogger("solvscreen.md")

L_PER_A3 = 1e-27


from .pmf_settings import PMF_PRESETS, PMFSettings, pmf_settings  # noqa: E402,F401 - re-exported


# ----------------------------------------------------------------------------- analysis
def pmf_curve(res: WhamResult, temperature_K: float, r_ref: tuple[float, float]) -> np.ndarray:
    """w(r) in kcal/mol on ``res.centers_A`` (nan where unsampled), zero on average over ``r_ref``."""
    kt = KB_KCAL_PER_MOL_K * temperature_K
    r = res.centers_A
    with np.errstate(invalid="ignore"):
        w = -kt * (res.log_p - 2.0 * np.log(r))
    w = np.where(np.isfinite(w), w, np.nan)
    ref = (r >= r_ref[0]) & (r <= r_ref[1]) & np.isfinite(w)
    if not ref.any():
        raise CalculationFailed("the PMF's reference shell is unsampled", error_type="analysis")
    return w - np.mean(w[ref])


def paired_fraction(k_a_L_per_mol: float, c_mol_per_L: float) -> float:
    """Mass action: the fraction alpha of K+ in a contact pair, K_a c (1 - alpha)^2 = alpha."""
    x = k_a_L_per_mol * c_mol_per_L
    if x <= 0:
        return 0.0
    return ((2 * x + 1) - math.sqrt(4 * x + 1)) / (2 * x)


def pair_observables(r: np.ndarray, w: np.ndarray, temperature_K: float, contact_max_A: float) -> dict:
    """Contact minimum, barrier, K_a and dG_assoc of a PMF w(r) (kcal/mol, r in A)."""
    kt = KB_KCAL_PER_MOL_K * temperature_K
    ok = np.isfinite(w)
    near = ok & (r <= contact_max_A)
    if not near.any():
        raise CalculationFailed(f"no sampled PMF point at r <= {contact_max_A} A", error_type="analysis")
    i_cip = int(np.flatnonzero(near)[np.argmin(w[near])])
    after = np.flatnonzero(ok & (r > r[i_cip]) & (r <= r[i_cip] + 3.0))
    if after.size:
        i_b = int(after[np.argmax(w[after])])
    else:
        i_b = i_cip
    # smooth the barrier's position a little: the highest point of the first rise
    dr = float(r[1] - r[0])
    inside = ok & (r <= r[i_b])
    k_a = 4 * math.pi * AVOGADRO * L_PER_A3 * float(np.sum(r[inside] ** 2 * np.exp(-w[inside] / kt)) * dr)
    return {"r_cip_A": float(r[i_cip]), "w_cip_kcal_per_mol": float(w[i_cip]),
            "r_barrier_A": float(r[i_b]), "barrier_kcal_per_mol": float(w[i_b] - w[i_cip]),
            "k_a_L_per_mol": k_a,
            "dg_assoc_kcal_per_mol": float(-kt * math.log(k_a)) if k_a > 0 else float("inf")}


def _interval(values: list[float]) -> tuple[float | None, float | None]:
    v = np.asarray([x for x in values if np.isfinite(x)])
    if v.size < 10:
        return None, None
    return float(np.percentile(v, 2.5)), float(np.percentile(v, 97.5))


@dataclass
class PMFResult:
    """The analysed PMF of one (solvent, salt) pair (kcal/mol, A, L/mol)."""

    r_A: list[float]
    w_kcal_per_mol: list[float | None]
    w_lo_kcal_per_mol: list[float | None]
    w_hi_kcal_per_mol: list[float | None]
    observables: dict
    intervals: dict  # key -> [lo, hi] (bootstrap 2.5-97.5 %)
    halves: dict  # dg_assoc of the first and second halves of every window's production
    converged: bool
    convergence_reason: str
    samples_per_window: int
    wham_iterations: int = 0
    paired_fraction: dict = field(default_factory=dict)  # "c mol/L" -> alpha [lo, est, hi]


def analyse_windows(windows: list[Window], settings: PMFSettings,
                    concentrations_mol_per_L: tuple[float, ...] = (0.5, 1.0, 2.0)) -> PMFResult:
    """WHAM, PMF, observables, bootstrap intervals and the halves' convergence check."""
    s = settings
    lo = s.r_min_A - 4 * math.sqrt(KB_KCAL_PER_MOL_K * s.temperature_K / s.k_kcal_per_mol_A2)
    hi = s.r_max_A + 4 * math.sqrt(KB_KCAL_PER_MOL_K * s.temperature_K / s.k_kcal_per_mol_A2)
    edges = np.arange(max(0.5, lo), hi + s.bin_A, s.bin_A)
    r_ref = (s.r_max_A - s.reference_width_A, s.r_max_A)
    T = s.temperature_K

    def solve(ws, counts=None, res=None):
        res = res or wham(ws, edges, T, counts=counts)
        w = pmf_curve(res, T, r_ref)
        return res, w, pair_observables(res.centers_A, w, T, s.contact_max_A)

    res, w, obs = solve(windows)
    boots = bootstrap(windows, edges, T, s.n_bootstrap, n_blocks=s.n_blocks, seed=s.seed)
    curves, boot_obs = [], []
    for b in boots:
        try:
            _, wb, ob = solve(windows, res=b)
        except CalculationFailed:
            continue
        curves.append(wb)
        boot_obs.append(ob)
    intervals = {k: list(_interval([o[k] for o in boot_obs])) for k in
                 ("w_cip_kcal_per_mol", "barrier_kcal_per_mol", "k_a_L_per_mol", "dg_assoc_kcal_per_mol", "r_cip_A")}
    curves = np.array(curves) if curves else np.full((1, len(w)), np.nan)
    import warnings

    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # unsampled bins: all-nan columns
        w_lo = np.nanpercentile(curves, 2.5, axis=0) if len(boots) >= 10 else np.full(len(w), np.nan)
        w_hi = np.nanpercentile(curves, 97.5, axis=0) if len(boots) >= 10 else np.full(len(w), np.nan)
    halves = {}
    for name, part in (("first", 0), ("second", 1)):
        ws = [Window(x.r0_A, x.k_kcal_per_mol_A2, np.array_split(x.samples_A, 2)[part]) for x in windows]
        try:
            halves[name] = solve(ws)[2]["dg_assoc_kcal_per_mol"]
        except (CalculationFailed, ValueError):
            halves[name] = None
    tol = s.converged_tol_kcal_per_mol
    d_lo, d_hi = intervals["dg_assoc_kcal_per_mol"]
    reasons = []
    if not res.converged:  # windows that overlap too little leave the WHAM equations unsolved
        reasons.append(f"WHAM did not converge in {res.iterations} iterations (windows overlap too little)")
    if halves["first"] is None or halves["second"] is None:
        reasons.append("a half of the windows' production gives no PMF")
    elif abs(halves["first"] - halves["second"]) > tol:
        reasons.append(f"halves differ by {abs(halves['first'] - halves['second']):.2f} > {tol} kcal/mol")
    if d_lo is None:
        reasons.append("too few bootstrap draws")
    elif d_hi - d_lo > 2 * tol:
        reasons.append(f"bootstrap interval {d_hi - d_lo:.2f} wider than {2 * tol} kcal/mol")
    converged = not reasons
    reason = ("halves within {:.2f} kcal/mol and bootstrap interval {:.2f} wide".format(
        abs(halves["first"] - halves["second"]), d_hi - d_lo) if converged else "; ".join(reasons))
    fractions = {}
    ka_lo, ka_hi = intervals["k_a_L_per_mol"]
    for c in concentrations_mol_per_L:
        fractions[f"{c:g}"] = [paired_fraction(ka_lo, c) if ka_lo is not None else None,
                               paired_fraction(obs["k_a_L_per_mol"], c),
                               paired_fraction(ka_hi, c) if ka_hi is not None else None]

    def clean(a):
        return [None if not np.isfinite(x) else round(float(x), 4) for x in a]

    return PMFResult(r_A=[round(float(x), 4) for x in res.centers_A], w_kcal_per_mol=clean(w),
                     w_lo_kcal_per_mol=clean(w_lo), w_hi_kcal_per_mol=clean(w_hi), observables=obs,
                     intervals=intervals, halves=halves, converged=converged, convergence_reason=reason,
                     samples_per_window=min(len(x.samples_A) for x in windows),
                     wham_iterations=res.iterations, paired_fraction=fractions)


# ----------------------------------------------------------------------------- simulation
def _min_image(d: np.ndarray, box: np.ndarray) -> np.ndarray:
    return d - box * np.round(d / box)


@dataclass
class UmbrellaRun:
    """Umbrella sampling of one ion pair in a built system; windows resume from ``workdir``."""

    system: object
    topology: object
    positions: object
    cation_atom: int
    anion_atoms: list[int]
    settings: PMFSettings
    workdir: Path
    progress: callable = None  # progress(message) for logs

    def _say(self, msg: str) -> None:
        log.info(msg)
        if self.progress:
            self.progress(msg)

    def _distance(self, pos_A: np.ndarray, box_A: np.ndarray) -> float:
        c = pos_A[self.anion_atoms].mean(axis=0)
        return float(np.linalg.norm(_min_image(c - pos_A[self.cation_atom], box_A)))

    def _context(self, platform_name: str | None = None):
        import openmm
        import openmm.unit as u

        from .simulate import choose_platform

        s = self.settings
        system = self.system
        bias = openmm.CustomCentroidBondForce(2, "0.5*k_umb*(distance(g1,g2)-r0_umb)^2")
        bias.addGlobalParameter("k_umb", s.k_kcal_per_mol_A2 * 4.184 * 100)  # kJ/mol/nm^2
        bias.addGlobalParameter("r0_umb", s.r_min_A / 10)
        bias.addGroup([self.cation_atom])
        bias.addGroup(list(self.anion_atoms))
        bias.addBond([0, 1])
        bias.setUsesPeriodicBoundaryConditions(True)
        system.addForce(bias)
        baro = openmm.MonteCarloBarostat(s.pressure_bar * u.bar, s.temperature_K * u.kelvin,
                                         s.barostat_interval_steps)
        baro.setRandomNumberSeed(s.seed)
        system.addForce(baro)
        plat, props, name, _ = choose_platform(s.platform, s.threads)
        integ = openmm.LangevinMiddleIntegrator(s.temperature_K * u.kelvin, s.friction_per_ps / u.picosecond,
                                                s.timestep_fs * u.femtosecond)
        integ.setRandomNumberSeed(s.seed)
        ctx = openmm.Context(system, integ, plat, props)
        return ctx, integ, name

    def run(self, production_ps: float) -> tuple[list[Window], dict]:
        """Every window to ``production_ps`` of production (resuming); (windows, cost)."""
        import openmm
        import openmm.unit as u

        s = self.settings
        wd = self.workdir
        wd.mkdir(parents=True, exist_ok=True)
        stamp = wd / "sampling.json"  # what the saved windows were sampled with
        if stamp.exists() and stamp.read_text() != s.sampling_stamp():
            self._say("work directory holds windows sampled with other settings: starting afresh")
            for p in wd.glob("*"):
                p.unlink()
        if not stamp.exists():
            stamp.write_text(s.sampling_stamp())
        ledger = CostLedger(wd / "cost.json")
        t0 = time.perf_counter()
        if getattr(self, "_ctx", None) is None:
            self._ctx = self._context()
        ctx, integ, platform = self._ctx
        spp = s.steps_per_ps
        every = max(1, int(round(s.sample_interval_ps * spp)))

        def state_file(i):
            return wd / f"window_{i:02d}.state.xml"

        def samples_file(i):
            return wd / f"window_{i:02d}.samples.npy"

        def save_state(path):
            st = ctx.getState(getPositions=True, getVelocities=True, enforcePeriodicBox=False)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(openmm.XmlSerializer.serialize(st))
            tmp.replace(path)

        def sample(n_samples):
            out = np.empty(n_samples)
            for j in range(n_samples):
                integ.step(every)
                st = ctx.getState(getPositions=True, enforcePeriodicBox=False)
                pos = st.getPositions(asNumpy=True).value_in_unit(u.angstrom)
                box = np.diag(st.getPeriodicBoxVectors(asNumpy=True).value_in_unit(u.angstrom))
                out[j] = self._distance(np.asarray(pos), np.asarray(box))
            return out

        steps_done = 0
        start_file = wd / "pulled.state.xml"
        if not start_file.exists():
            ctx.setPositions(self.positions)
            openmm.LocalEnergyMinimizer.minimize(ctx, 10.0, 2000)
            ctx.setVelocitiesToTemperature(s.temperature_K * u.kelvin, s.seed)
            st = ctx.getState(getPositions=True)
            pos = st.getPositions(asNumpy=True).value_in_unit(u.angstrom)
            box = np.diag(st.getPeriodicBoxVectors(asNumpy=True).value_in_unit(u.angstrom))
            r_start = self._distance(np.asarray(pos), np.asarray(box))
            n_pull = max(1, int(round(s.pull_ps * spp / 100)))
            for j in range(n_pull):  # r0 moves linearly from the packed distance to r_min
                r0 = r_start + (s.r_min_A - r_start) * (j + 1) / n_pull
                ctx.setParameter("r0_umb", r0 / 10)
                integ.step(100)
                steps_done += 100
            save_state(start_file)
            ledger.charge(steps_done * s.timestep_fs * 1e-6)
            self._say(f"pulled the anion from {r_start:.2f} to {s.r_min_A:.2f} A in {s.pull_ps:g} ps")
        target = int(round(production_ps / s.sample_interval_ps))
        windows = []
        prev_state = start_file
        for i, r0 in enumerate(s.centers_A):
            have = np.load(samples_file(i)) if samples_file(i).exists() else np.empty(0)
            if state_file(i).exists():
                ctx.setState(openmm.XmlSerializer.deserialize(state_file(i).read_text()))
                ctx.setParameter("r0_umb", r0 / 10)
            else:
                ctx.setState(openmm.XmlSerializer.deserialize(prev_state.read_text()))
                ctx.setParameter("r0_umb", r0 / 10)
                n_eq = int(round(s.equilibration_ps * spp))
                integ.step(n_eq)
                steps_done += n_eq
                have = np.empty(0)
            if len(have) < target:
                new = sample(target - len(have))
                steps_done += (target - len(have)) * every
                have = np.concatenate([have, new])
                save_state(state_file(i))
                tmp = samples_file(i).with_suffix(".tmp.npy")
                np.save(tmp, have)
                tmp.replace(samples_file(i))
                ledger.charge(steps_done * s.timestep_fs * 1e-6 - ledger.ns_this_call)
                self._say(f"window {i + 1}/{len(s.centers_A)} r0 {r0:.2f} A: {len(have)} samples, "
                          f"mean r {have.mean():.2f} A")
            windows.append(Window(r0, s.k_kcal_per_mol_A2, have))
            prev_state = state_file(i)
        wall = time.perf_counter() - t0
        ns = steps_done * s.timestep_fs * 1e-6
        cost = {"platform": platform, "wall_s": round(wall, 1), "ns_this_call": round(ns, 4),
                "ns_per_day": round(ns / wall * 86400, 1) if wall > 0 and ns > 0 else None,
                "threads": s.threads, "md_cpu_s_this_call": round(ledger.cpu_s_this_call, 1),
                "ns_all_calls": round(ledger.ns, 4), "md_cpu_s_all_calls": round(ledger.cpu_s, 1),
                "cost_complete": ledger.complete}
        return windows, cost


def summary_json(result: PMFResult) -> str:
    return json.dumps(asdict(result), indent=1)


# ----------------------------------------------------------------------------- one pair
def run_pair(solvent: Component, anion: Component, cation: Component, settings: PMFSettings,
             workdir: str | Path, *, cache_dir: str | Path | None = None,
             concentrations_mol_per_L: tuple[float, ...] = (0.5, 1.0, 2.0), progress=None) -> dict:
    """Build, sample in rounds until converged or the cap, analyse: a JSON-ready dict."""
    import resource

    s = settings
    wd = Path(workdir)
    t0 = time.perf_counter()
    ru0 = resource.getrusage(resource.RUSAGE_SELF)
    ch0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    system, topology, positions, cat, an, info = build_pair_system(solvent, anion, cation, s, wd / "build",
                                                                  cache_dir=cache_dir)
    run = UmbrellaRun(system, topology, positions, cat, an, s, wd / "windows", progress)
    prod, rounds, md_cpu_this_call, res = s.round_ps, [], 0.0, None
    while True:
        windows, cost = run.run(prod)
        md_cpu_this_call += cost["md_cpu_s_this_call"]
        res = analyse_windows(windows, s, concentrations_mol_per_L)
        rounds.append({"production_ps_per_window": prod, "dg_assoc_kcal_per_mol": res.observables["dg_assoc_kcal_per_mol"],
                       "interval": res.intervals["dg_assoc_kcal_per_mol"], "halves": res.halves,
                       "converged": res.converged, "reason": res.convergence_reason, **cost})
        msg = (f"round {len(rounds)}: {prod:g} ps/window, dG_assoc {res.observables['dg_assoc_kcal_per_mol']:.2f} "
               f"{res.intervals['dg_assoc_kcal_per_mol']} kcal/mol, {res.convergence_reason}")
        log.info(msg)
        if progress:
            progress(msg)
        if res.converged or prod >= s.max_production_ps:
            break
        prod = min(s.max_production_ps, prod + s.round_ps)
    wall = time.perf_counter() - t0
    ru, ch = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_s = (ru.ru_utime + ru.ru_stime - ru0.ru_utime - ru0.ru_stime
             + ch.ru_utime + ch.ru_stime - ch0.ru_utime - ch0.ru_stime)  # MD + AM1-BCC/Packmol/tleap
    # plus the sampling earlier (killed) calls left in the work directory (its cost ledger)
    cpu_s += cost["md_cpu_s_all_calls"] - md_cpu_this_call
    ns_total = cost["ns_all_calls"]
    stop = "converged" if res.converged else "cap"
    return {"solvent": solvent.name, "anion": anion.name, "cation": cation.name, "box": info,
            "pmf": asdict(res), "rounds": rounds, "stop": stop,
            "production_ps_per_window": prod, "n_windows": len(s.centers_A),
            "ns_total": round(ns_total, 4), "cpu_hours": round(cpu_s / 3600, 4),
            "wall_s": round(wall, 1), "platform": rounds[-1]["platform"],
            "cost_complete": cost["cost_complete"]}
