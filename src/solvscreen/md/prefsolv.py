"""Preferential solvation of K+ in an equimolar blend of two solvents: which one holds the
K+ first shell when both compete for it (issue 23's observable b; the K+-anion PMF of
:mod:`.pmf` is observable a).

Protocol: the pair box of :mod:`.pair_box` with an equimolar A:B blend (one K+, one anion,
the PMF's screening force field and NPT protocol). The anion is held beyond
``anion_min_A`` of K+ by a flat-bottom restraint, so the K+ shell is the two solvents'
competition only. Every ps, a solvent molecule is in the shell when one of its O atoms is
within ``shell_A`` of K+ (4.1 A: the first minimum of the K+-solvent O g(r) that the MD stage
measures with this force field, 4.1-4.2 A).

Result (:class:`PrefSolvResult`): the mean shell counts, the shell mole fraction of B, and

    ddG(B - A) = -RT ln[(x_B,shell / x_A,shell) / (x_B,bulk / x_A,bulk)]     (kcal/mol)

positive = the shell prefers A (B is the weaker solvent for K+), with a block standard error
(``n_blocks`` blocks), the first- and second-half values, and the number of exchanges (a
molecule entering the shell after at least ``exchange_min_out_ps`` outside) per species: the
count that says whether the average is an equilibrium one or the initial packing's.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ..core.errors import CalculationFailed, InputError
from ..core.records import StageResult
from .pair_box import Component, build_pair_system
from .wham import KB_KCAL_PER_MOL_K

log = logging.getLogger("solvscreen.md")


@dataclass(frozen=True)
class PrefSolvResult(StageResult):
    """One blend's result; an ``md_prefsolv`` record's ``results`` hold these fields."""

    RECORD_STAGES = ("md_prefsolv",)

    a: str
    b: str
    salt: str
    n_each: int
    n_atoms: int
    shell_A: float
    ns_production: float
    mean_shell_a: float  # molecules of A in the K+ shell (mean over the production)
    mean_shell_b: float
    x_b_shell: float | None
    x_b_bulk: float
    ddg_b_minus_a_kcal_per_mol: float | None
    block_values_kcal_per_mol: tuple
    block_sem_kcal_per_mol: float | None
    halves_kcal_per_mol: tuple
    exchanges_a: int
    exchanges_b: int
    platform: str
    wall_s: float
    cpu_hours: float

    def as_dict(self) -> dict:
        return asdict(self)


def shell_ddg(count_a: np.ndarray, count_b: np.ndarray, bulk_ratio_b_over_a: float,
              temperature_K: float) -> float | None:
    """ddG(B - A) (kcal/mol) from per-frame shell counts; None when either species never enters."""
    na, nb = float(np.mean(count_a)), float(np.mean(count_b))
    if na <= 0 or nb <= 0:
        return None
    return -KB_KCAL_PER_MOL_K * temperature_K * math.log((nb / na) / bulk_ratio_b_over_a)


def count_exchanges(inside: np.ndarray, min_out_frames: int) -> int:
    """Entries into the shell: a molecule (column) in the shell after >= ``min_out_frames``
    frames outside it. ``inside``: (frames, molecules) booleans. Molecules in the shell at the
    first frame are not counted as entering."""
    inside = np.asarray(inside, dtype=bool)
    n = 0
    for col in inside.T:
        out_run = 0
        for v in col:
            if v and out_run >= min_out_frames:
                n += 1
            out_run = 0 if v else out_run + 1
    return n


def analyse_occupancy(inside_a: np.ndarray, inside_b: np.ndarray, temperature_K: float, *,
                      bulk_ratio_b_over_a: float = 1.0, n_blocks: int = 5, exchange_min_out_frames: int = 2) -> dict:
    """ddG, its blocks, halves and the exchange counts from (frames, molecules) shell booleans."""
    ca, cb = np.asarray(inside_a).sum(axis=1), np.asarray(inside_b).sum(axis=1)
    frames = len(ca)
    if frames < 2 * n_blocks:
        raise CalculationFailed(f"preferential solvation: {frames} frames, fewer than 2 per block", error_type="analysis")
    dd = lambda sl: shell_ddg(ca[sl], cb[sl], bulk_ratio_b_over_a, temperature_K)  # noqa: E731
    blocks = [dd(slice(int(x[0]), int(x[-1]) + 1)) for x in np.array_split(np.arange(frames), n_blocks)]
    vals = [x for x in blocks if x is not None]
    half = frames // 2
    na, nb = float(ca.mean()), float(cb.mean())
    return {"mean_shell_a": na, "mean_shell_b": nb, "x_b_shell": nb / (na + nb) if na + nb else None,
            "ddg_b_minus_a_kcal_per_mol": dd(slice(0, frames)), "block_values_kcal_per_mol": tuple(blocks),
            "block_sem_kcal_per_mol": float(np.std(vals, ddof=1) / math.sqrt(len(vals))) if len(vals) > 1 else None,
            "halves_kcal_per_mol": (dd(slice(0, half)), dd(slice(half, frames))),
            "exchanges_a": count_exchanges(inside_a, exchange_min_out_frames),
            "exchanges_b": count_exchanges(inside_b, exchange_min_out_frames)}


def oxygen_groups(topology, resname: str) -> list[list[int]]:
    """The O atom indices of each residue named ``resname`` (one list per molecule)."""
    groups: dict[int, list[int]] = {}
    for x in topology.atoms():
        if x.residue.name == resname and x.element is not None and x.element.symbol == "O":
            groups.setdefault(x.residue.index, []).append(x.index)
    return list(groups.values())


def run_prefsolv(a: Component, b: Component, anion: Component, cation: Component, settings, workdir: str | Path, *,
                 ns: float = 0.9, shell_A: float = 4.1, anion_min_A: float = 9.0, discard_ps: float = 50.0,
                 salt: str = "", cache_dir: str | Path | None = None, progress=None) -> PrefSolvResult:
    """Build the A:B blend box, run ``ns`` of NPT after a 20 ps start, and analyse every ps
    after the first ``discard_ps``."""
    import resource

    import openmm
    import openmm.unit as u

    from .simulate import choose_platform

    if a.name == b.name:
        raise InputError(f"preferential solvation needs two different solvents, got {a.name} twice")
    if ns * 1000 < discard_ps + 10:
        raise InputError(f"preferential solvation: {ns} ns leaves fewer than 10 ps after {discard_ps} ps discarded")
    s = settings
    t0, ru0 = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF)
    ch0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    system, topology, positions, k, an, info = build_pair_system((a, b), anion, cation, s, Path(workdir) / "build",
                                                                 cache_dir=cache_dir)
    keep = openmm.CustomCentroidBondForce(2, "0.5*kf*step(rf-distance(g1,g2))*(distance(g1,g2)-rf)^2")
    keep.addGlobalParameter("kf", 10 * 4.184 * 100)  # 10 kcal/mol/A^2 in kJ/mol/nm^2
    keep.addGlobalParameter("rf", anion_min_A / 10)
    keep.addGroup([k])
    keep.addGroup(list(an))
    keep.addBond([0, 1])
    keep.setUsesPeriodicBoundaryConditions(True)
    system.addForce(keep)
    system.addForce(openmm.MonteCarloBarostat(s.pressure_bar * u.bar, s.temperature_K * u.kelvin,
                                              s.barostat_interval_steps))
    plat, props, pname, _ = choose_platform(s.platform, s.threads)
    integ = openmm.LangevinMiddleIntegrator(s.temperature_K * u.kelvin, s.friction_per_ps / u.picosecond,
                                            s.timestep_fs * u.femtosecond)
    integ.setRandomNumberSeed(s.seed)
    ctx = openmm.Context(system, integ, plat, props)
    ctx.setPositions(positions)
    openmm.LocalEnergyMinimizer.minimize(ctx, 10.0, 2000)
    ctx.setVelocitiesToTemperature(s.temperature_K * u.kelvin, s.seed)
    spp = s.steps_per_ps
    integ.step(20 * spp)
    frames = int(round(ns * 1000))
    res = info["residue_names"]
    groups = {m.name: oxygen_groups(topology, res[m.name]) for m in (a, b)}
    inside = {m: np.zeros((frames, len(g)), dtype=bool) for m, g in groups.items()}
    for f in range(frames):
        integ.step(spp)
        st = ctx.getState(getPositions=True, enforcePeriodicBox=False)
        pos = st.getPositions(asNumpy=True).value_in_unit(u.angstrom)
        box = np.diag(st.getPeriodicBoxVectors(asNumpy=True).value_in_unit(u.angstrom))
        for m, g in groups.items():
            for j, os_ in enumerate(g):
                d = pos[os_] - pos[k]
                d -= box * np.round(d / box)
                inside[m][f, j] = bool((np.linalg.norm(d, axis=1) < shell_A).any())
        if (f + 1) % 100 == 0:
            msg = f"{a.name}:{b.name} {f + 1}/{frames} ps: shell " + ", ".join(
                f"{m} {int(inside[m][f].sum())}" for m in inside)
            log.info(msg)
            if progress:
                progress(msg)
    use = slice(int(discard_ps), frames)
    out = analyse_occupancy(inside[a.name][use], inside[b.name][use], s.temperature_K)
    ru, ch = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (ru.ru_utime + ru.ru_stime - ru0.ru_utime - ru0.ru_stime + ch.ru_utime + ch.ru_stime
           - ch0.ru_utime - ch0.ru_stime)
    return PrefSolvResult(a=a.name, b=b.name, salt=salt, n_each=info["n_solvent"], n_atoms=info["n_atoms"],
                          shell_A=shell_A, ns_production=round((frames - discard_ps) / 1000, 4), x_b_bulk=0.5,
                          platform=pname, wall_s=round(time.perf_counter() - t0, 1), cpu_hours=round(cpu / 3600, 4),
                          **out)


# ----------------------------------------------------------------------------- the table
#: Student t (4 degrees of freedom, two-sided 95 %) for the mean of 5 blocks
T95_5_BLOCKS = 2.776
#: with fewer entries of the solvating partner A into the shell, the average is the initial
#: packing's rather than an equilibrium one (not converged)
MIN_EXCHANGES = 10
#: the halves of the production agree within this (kcal/mol) for a converged value
HALVES_TOL_KCAL_PER_MOL = 0.5

PREFSOLV_COLUMNS = (
    "solvent_a", "solvent_b", "salt", "status", "n_each", "shell_A", "ns_production",
    "mean_shell_a", "mean_shell_b", "shell_mole_fraction_b", "bulk_mole_fraction_b",
    "ddg_b_minus_a_kcal_per_mol", "ddg_lo_kcal_per_mol", "ddg_hi_kcal_per_mol",
    "shell_share_ratio_b", "shell_share_ratio_b_lo", "shell_share_ratio_b_hi", "interval_method",
    "exchanges_a", "exchanges_b", "converged", "convergence_reason", "cpu_hours", "platform",
)


def share_ratio(ddg_kcal_per_mol: float, x_b_bulk: float, temperature_K: float) -> float:
    """B's share of the K+ shell over its bulk share, from ddG(B - A) of a two-solvent blend."""
    rho = x_b_bulk / (1 - x_b_bulk)  # x_B,bulk / x_A,bulk
    e = rho * math.exp(-ddg_kcal_per_mol / (KB_KCAL_PER_MOL_K * temperature_K))  # n_B / n_A in the shell
    return (e / (1 + e)) / x_b_bulk


def prefsolv_row(rec: dict, temperature_K: float = 298.15) -> dict:
    """One row of prefsolv.csv from a :class:`PrefSolvResult` dict: B's shell/bulk share ratio
    (the quantity the classifier's md_diluent_shell_share_ratio_max applies to) with a 95 %
    interval, and the ddG it maps to.

    ``interval_method`` says how the interval was made:

    - ``blocks``: t x the block standard error of ddG, with half the drift between the
      production's halves added in quadrature;
    - ``entry bound``: B entered the shell too rarely for blocks (never, or not in every block
      and half). Its share is bounded from the entries alone: at 95 % B entered fewer than
      U(E_B) times (the one-sided Poisson limit of its E_B counted entries), so its fraction of
      the shell's entries is below U / (U + E_A). Taking B's residence in the shell as no longer
      than A's (B is the weaker binder: it enters less), that bounds its shell mole fraction.
      Where B's observed share already exceeds the bound, the assumption fails and the row
      gives no number.
    """
    ddg, sem = rec.get("ddg_b_minus_a_kcal_per_mol"), rec.get("block_sem_kcal_per_mol")
    h1, h2 = (list(rec.get("halves_kcal_per_mol") or []) + [None, None])[:2]
    row = {k: rec.get(k, "") for k in ("salt", "n_each", "shell_A", "ns_production", "mean_shell_a", "mean_shell_b",
                                        "exchanges_a", "exchanges_b", "cpu_hours", "platform")}
    row.update(solvent_a=rec["a"], solvent_b=rec["b"], status="ok", shell_mole_fraction_b=rec.get("x_b_shell"),
               bulk_mole_fraction_b=rec.get("x_b_bulk"), ddg_b_minus_a_kcal_per_mol=ddg)
    xb = rec.get("x_b_bulk") or 0.5
    ea, eb = int(rec.get("exchanges_a") or 0), int(rec.get("exchanges_b") or 0)
    few = f"{rec['a']} entered the shell {ea} times < {MIN_EXCHANGES}" if ea < MIN_EXCHANGES else ""
    if ddg is None or sem is None or None in (h1, h2):
        return _entry_bound_row(row, rec, xb, ea, eb, few, temperature_K)
    half = math.hypot(T95_5_BLOCKS * sem, (h1 - h2) / 2)
    lo, hi = ddg - half, ddg + half
    why = [x for x in (f"halves differ by {abs(h1 - h2):.2f} > {HALVES_TOL_KCAL_PER_MOL} kcal/mol"
                       if abs(h1 - h2) > HALVES_TOL_KCAL_PER_MOL else "", few) if x]
    row.update(ddg_lo_kcal_per_mol=round(lo, 4), ddg_hi_kcal_per_mol=round(hi, 4), interval_method="blocks",
               shell_share_ratio_b=round(share_ratio(ddg, xb, temperature_K), 4),
               shell_share_ratio_b_lo=round(share_ratio(hi, xb, temperature_K), 4),
               shell_share_ratio_b_hi=round(share_ratio(lo, xb, temperature_K), 4),
               converged=not why, convergence_reason="; ".join(why) or
               f"halves within {HALVES_TOL_KCAL_PER_MOL} kcal/mol, {rec['a']} entered {ea} times")
    return row


#: one-sided 95 % upper limits of a Poisson mean given k = 0, 1, ... observed counts
POISSON_UPPER_95 = (3.00, 4.74, 6.30, 7.75, 9.15, 10.51, 11.84, 13.15, 14.43, 15.71, 16.96)


def _entry_bound_row(row: dict, rec: dict, xb: float, ea: int, eb: int, few: str, temperature_K: float) -> dict:
    """:func:`prefsolv_row` where B entered too rarely for blocks: the entry-count bound."""
    a, b = rec["a"], rec["b"]
    if not rec.get("mean_shell_a") or ea == 0 or eb >= len(POISSON_UPPER_95):
        row.update(status="failed", converged=False, convergence_reason=(
            f"{a} entered the shell {ea} times and {b} {eb} times: neither blocks nor an entry bound give a share"))
        return row
    u = POISSON_UPPER_95[eb]
    x_max = u / (u + ea)
    hi = x_max / xb
    v = (rec.get("x_b_shell") or 0.0) / xb
    if v > hi:
        row.update(status="failed", converged=False, convergence_reason=(
            f"{b} entered the shell {eb} times but stayed longer than {a} does (share {v:.2f} > the entry bound "
            f"{hi:.2f}): too few entries to bound its share"))
        return row
    rho = xb / (1 - xb)
    ddg_lo = -KB_KCAL_PER_MOL_K * temperature_K * math.log((x_max / (1 - x_max)) / rho)
    row.update(interval_method="entry bound", shell_share_ratio_b=round(v, 4), shell_share_ratio_b_lo=0.0,
               shell_share_ratio_b_hi=round(hi, 4), ddg_lo_kcal_per_mol=round(ddg_lo, 4), ddg_hi_kcal_per_mol="",
               converged=not few, convergence_reason="; ".join(x for x in (few, (
                   f"{b} entered the shell {eb} times ({a} {ea}) in {rec.get('ns_production')} ns: share below "
                   f"{POISSON_UPPER_95[eb]:.2f} / ({POISSON_UPPER_95[eb]:.2f} + {ea}) of the entries (95 % Poisson "
                   f"limit), with {b}'s residence no longer than {a}'s")) if x))
    return row


def write_prefsolv_table(records: list[dict], path: str | Path, temperature_K: float = 298.15) -> list[dict]:
    """prefsolv.csv (:data:`PREFSOLV_COLUMNS`) from :class:`PrefSolvResult` dicts, one row each,
    written whole (a temporary file renamed into place)."""
    import csv
    import os

    rows = [prefsolv_row(r, temperature_K) for r in records]
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=PREFSOLV_COLUMNS)
        w.writeheader()
        for r in rows:
            w.writerow({k: r.get(k, "") for k in PREFSOLV_COLUMNS})
    os.replace(tmp, path)
    return rows
