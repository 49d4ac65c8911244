"""Run the MD protocol with OpenMM: minimize, anneal, NPT equilibration, NPT production.

Protocol (times from :class:`~solvscreen.md.settings.MDSettings`):

1. energy minimization (L-BFGS, to 10 kJ/mol/nm);
2. ``anneal_ps`` NVT at ``anneal_temperature_K`` (velocities drawn with the run's seed);
3. ``equilibration_ps`` NPT at ``temperature_K`` and ``pressure_bar``; **plateau check**:
   the mean density over the last quarter of the equilibration must agree with the mean
   over the quarter before within ``plateau_rel_tol`` (1 %: a 1.5k-atom box fluctuates by
   ~1-2 % from frame to frame, so a larger drift between quarter means is compression
   still going on). If not, the equilibration is extended by half its length, at most
   ``max_equilibration_extensions`` times; the outcome (``density_plateau``, the two
   means, the extensions) is recorded and a run that never reaches the plateau is still
   analysed but says so;
4. ``production_ps`` NPT, a frame every ``frame_interval_ps`` (DCD, one file per chunk).

Restart: after every chunk (``chunk_ps``) the state is checkpointed (OpenMM binary
checkpoint, which carries the random-number state, plus a portable XML state) together
with ``progress.json``. A job started again in the same work directory with the same
physical settings and seed continues from the last finished chunk; a half-written chunk
is discarded and redone. Everything up to the last checkpoint is kept exactly; the
continuation is a statistically equivalent, not a bitwise identical, continuation of the
uninterrupted run (OpenMM's CPU checkpoint does not restore the barostat's random stream
and rebuilds the neighbour list, so the two trajectories part after the restart).

Platform: ``auto`` tries CUDA, then OpenCL, then CPU (each must open a context); the one
used, and why the others were skipped, is recorded. ``threads`` sets the CPU platform's
thread count. CPU and CUDA run with ``DeterministicForces``: the same seed on the same
platform and machine gives the same trajectory (OpenCL has no such switch: there the same seed
gives statistically, not bitwise, equal runs); another machine may take other floating-point
paths, and its trajectory then parts from the first (docs/md.md, measured).
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ..core.errors import CalculationFailed
from ..core.records import write_text_atomic
from .settings import MDSettings

log = logging.getLogger("solvscreen.md")

AMU_G = 1.66053906660e-24
NM3_ML = 1e-21


def choose_platform(requested: str = "auto", threads: int = 1):
    """(Platform, properties, name, notes): the first of CUDA, OpenCL, CPU that opens a context."""
    import openmm

    order = ["CUDA", "OpenCL", "CPU"] if requested == "auto" else [requested]
    notes = []
    if "CUDA" in order:
        from .gpu import ensure_cuda_plugin

        notes += ensure_cuda_plugin()
    for name in order:
        try:
            plat = openmm.Platform.getPlatformByName(name)
        except Exception as exc:  # noqa: BLE001 - the plugin is absent
            notes.append(f"{name}: not available ({str(exc).splitlines()[0][:80]})")
            continue
        # DeterministicForces: fixed-order force summation, so the same seed gives the same
        # trajectory bit for bit (without it the CPU platform's sums differ in the last bits
        # from run to run, and MD's chaos turns that into different numbers within ps)
        props = {"Threads": str(threads), "DeterministicForces": "true"} if name == "CPU" else {}
        if name == "CUDA":
            props = {"Precision": "mixed", "DeterministicForces": "true"}
            from .gpu import acquire_slot

            slot = acquire_slot()  # md.jobs_per_gpu jobs share one device (solvscreen.md.gpu)
            props["DeviceIndex"] = str(slot.device_index)
            notes.append(f"CUDA: GPU slot {slot.slot} of {slot.n_slots}, device {slot.device_index}")
        elif name == "OpenCL":
            props = {"Precision": "mixed"}
        try:
            s = openmm.System()
            s.addParticle(1.0)
            ctx = openmm.Context(s, openmm.VerletIntegrator(0.001), plat, props)
            del ctx
        except Exception as exc:  # noqa: BLE001 - no device
            notes.append(f"{name}: cannot open a context ({str(exc).splitlines()[0][:80]})")
            continue
        return plat, props, name, notes
    raise CalculationFailed(f"no OpenMM platform usable: {'; '.join(notes)}", error_type="platform")


@dataclass
class Progress:
    physics_hash: str
    phase: str = "minimize"  # minimize | anneal | equilibrate | produce | done
    phase_steps: int = 0  # steps done in the current phase
    equilibration_steps_total: int = 0  # planned (grows with extensions)
    extensions: int = 0
    equil_density: list = field(default_factory=list)  # g/mL, one per frame interval
    prod_density: list = field(default_factory=list)
    chunks: list = field(default_factory=list)  # finished production DCD file names
    prod_wall_s: float = 0.0
    prod_steps: int = 0
    total_wall_s: float = 0.0
    resumed: int = 0
    plateau: dict = field(default_factory=dict)
    minimized_energy_kJ_per_mol: float | None = None

    @classmethod
    def load(cls, path: Path) -> "Progress | None":
        try:
            return cls(**json.loads(path.read_text()))
        except (FileNotFoundError, ValueError, TypeError):
            return None

    def save(self, path: Path) -> None:
        write_text_atomic(path, json.dumps(asdict(self)))


@dataclass
class SimulationResult:
    platform: str
    platform_notes: list
    threads: int
    frames: list  # DCD paths in order
    frame_interval_ps: float
    prod_density_g_per_mL: list
    equil_density_g_per_mL: list
    density_plateau: bool
    plateau: dict
    equilibration_ps_done: float
    production_ps_done: float
    ns_per_day: float | None
    wall_s: float
    resumed: int
    minimized_energy_kJ_per_mol: float | None
    n_atoms: int


def _mass_g(system) -> float:
    import openmm.unit as u

    return sum(system.getParticleMass(i).value_in_unit(u.dalton) for i in range(system.getNumParticles())) * AMU_G


def plateau_check(series: list[float], rel_tol: float) -> dict:
    """Compare the mean of the last quarter of ``series`` with the quarter before."""
    x = np.asarray(series, float)
    q = len(x) // 4
    if q < 1:
        return {"ok": False, "reason": "fewer than 4 density samples", "n": len(x)}
    last, prev = x[-q:].mean(), x[-2 * q:-q].mean()
    rel = abs(last - prev) / prev
    return {"ok": bool(rel <= rel_tol), "last_quarter_g_per_mL": float(last), "previous_quarter_g_per_mL": float(prev),
            "relative_change": float(rel), "tolerance": rel_tol, "n": len(x)}


def simulate(system, topology, positions, settings: MDSettings, seed: int, workdir: str | Path, *,
             production_ps: float | None = None) -> SimulationResult:
    """Run (or continue) the protocol in ``workdir``; see the module docstring.

    ``production_ps``: production length to reach (default ``settings.production_ps``). A
    finished run called again with a longer one continues its production from the last
    checkpoint (the run-until-decided loop extends a run chunk by chunk this way)."""
    import openmm
    import openmm.app as app
    import openmm.unit as u

    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    plat, props, plat_name, notes = choose_platform(settings.platform, settings.threads)
    ph = settings.physics_hash(seed)
    prog_path, chk_path, xml_path = workdir / "progress.json", workdir / "state.chk", workdir / "state.xml"
    prog = Progress.load(prog_path)
    if prog is None or prog.physics_hash != ph or not (prog.phase == "minimize" or chk_path.exists()):
        if prog is not None:
            log.info("work directory holds a run with other settings: starting afresh")
        for p in workdir.glob("prod_*.dcd*"):
            p.unlink()
        prog = Progress(physics_hash=ph)
    else:
        if prog.phase != "minimize":
            prog.resumed += 1
            log.info("resuming at phase %s, %d steps done", prog.phase, prog.phase_steps)
    spp = settings.steps_per_ps
    frame_steps = max(1, int(round(settings.frame_interval_ps * spp)))
    chunk_frames = max(1, int(round(settings.chunk_ps / settings.frame_interval_ps)))
    mass_g = _mass_g(system)
    barostat = openmm.MonteCarloBarostat(settings.pressure_bar * u.bar, settings.temperature_K * u.kelvin,
                                         settings.barostat_interval_steps)
    barostat.setRandomNumberSeed(seed)
    system.addForce(barostat)
    phases = ["minimize", "anneal", "equilibrate", "produce", "done"]

    def make_sim(phase: str):
        temp = settings.anneal_temperature_K if phase in ("minimize", "anneal") else settings.temperature_K
        barostat.setFrequency(0 if phase in ("minimize", "anneal") else settings.barostat_interval_steps)
        integ = openmm.LangevinMiddleIntegrator(temp * u.kelvin, settings.friction_per_ps / u.picosecond,
                                                settings.timestep_fs * u.femtosecond)
        integ.setRandomNumberSeed(seed + phases.index(phase))
        return app.Simulation(topology, system, integ, plat, props)

    def density(sim) -> float:
        v = sim.context.getState().getPeriodicBoxVolume().value_in_unit(u.nanometer ** 3)
        return mass_g / (v * NM3_ML)

    def checkpoint(sim) -> None:
        tmp = chk_path.with_suffix(".chk.tmp")
        sim.saveCheckpoint(str(tmp))
        os.replace(tmp, chk_path)
        st = sim.context.getState(getPositions=True, getVelocities=True)
        write_text_atomic(xml_path, openmm.XmlSerializer.serialize(st))
        prog.total_wall_s += time.perf_counter() - t_mark[0]
        t_mark[0] = time.perf_counter()
        prog.save(prog_path)

    def restore(sim) -> None:
        try:
            sim.loadCheckpoint(str(chk_path))
        except Exception:  # noqa: BLE001 - other platform: portable state (new random stream)
            sim.context.setState(openmm.XmlSerializer.deserialize(xml_path.read_text()))
            log.info("binary checkpoint unusable here; resumed from the portable XML state")

    t_mark = [time.perf_counter()]
    state = {"sim": None, "carried": None}  # carried: State handed from one phase to the next

    def enter(phase: str):
        sim = make_sim(phase)
        if state["carried"] is not None:
            sim.context.setState(state["carried"])
            state["carried"] = None
            checkpoint(sim)  # a job killed right here resumes exactly as if it had not been
        else:
            restore(sim)
        state["sim"] = sim
        return sim

    prod_target_ps = settings.production_ps if production_ps is None else production_ps

    # 1. minimize
    if prog.phase == "minimize":
        sim = make_sim("minimize")
        sim.context.setPositions(positions)
        sim.minimizeEnergy(tolerance=10 * u.kilojoule_per_mole / u.nanometer, maxIterations=5000)
        e = sim.context.getState(getEnergy=True).getPotentialEnergy().value_in_unit(u.kilojoule_per_mole)
        if not np.isfinite(e):
            raise CalculationFailed(f"minimization gave a non-finite energy ({e})", error_type="md_unstable")
        prog.minimized_energy_kJ_per_mol = e
        # no hot stretch (a designed start such as the aggregated or dispersed one): start at T
        t_start = settings.anneal_temperature_K if settings.anneal_ps > 0 else settings.temperature_K
        sim.context.setVelocitiesToTemperature(t_start * u.kelvin, seed)
        prog.phase, prog.phase_steps = "anneal", 0
        state["carried"] = sim.context.getState(getPositions=True, getVelocities=True)

    def run_phase(phase: str, total_steps_fn, on_frame, on_chunk) -> None:
        sim = enter(phase)
        frames_in_chunk = 0
        while prog.phase_steps < total_steps_fn():
            n = min(frame_steps, total_steps_fn() - prog.phase_steps)
            t0 = time.perf_counter()
            try:
                sim.step(n)
            except Exception as exc:  # noqa: BLE001 - NaN / blow-up
                raise CalculationFailed(f"{phase}: integration failed after {prog.phase_steps} steps: "
                                        f"{str(exc).splitlines()[0][:200]}", error_type="md_unstable") from None
            prog.phase_steps += n
            on_frame(sim, time.perf_counter() - t0, n)
            frames_in_chunk += 1
            if frames_in_chunk >= chunk_frames or prog.phase_steps >= total_steps_fn():
                on_chunk(sim)
                frames_in_chunk = 0
                checkpoint(sim)
        state["carried"] = sim.context.getState(getPositions=True, getVelocities=True)

    # 2. anneal (NVT, hot)
    anneal_steps = int(round(settings.anneal_ps * spp))
    if prog.phase == "anneal":
        run_phase("anneal", lambda: anneal_steps, lambda s, dt, n: None, lambda s: None)
        prog.phase, prog.phase_steps = "equilibrate", 0
        prog.equilibration_steps_total = int(round(settings.equilibration_ps * spp))

    # 3. NPT equilibration with the plateau check
    def equil_frame(sim, dt, n):
        prog.equil_density.append(density(sim))

    while prog.phase == "equilibrate":
        run_phase("equilibrate", lambda: prog.equilibration_steps_total, equil_frame, lambda s: None)
        chk = plateau_check(prog.equil_density, settings.plateau_rel_tol)
        prog.plateau = chk
        if chk["ok"] or prog.extensions >= settings.max_equilibration_extensions or settings.equilibration_ps <= 0:
            prog.phase, prog.phase_steps = "produce", 0
        else:
            prog.extensions += 1
            prog.equilibration_steps_total += int(round(settings.equilibration_ps / 2 * spp))
            log.info("density not on a plateau (%.2f%% change): extending equilibration (%d)",
                     100 * chk.get("relative_change", float("nan")), prog.extensions)
            # the extension continues in the same context: no new random stream
            state["carried"] = None

    # 4. production
    prod_steps = int(round(prod_target_ps * spp))
    if prog.phase == "done" and prog.phase_steps < prod_steps:
        prog.phase = "produce"  # extend a finished production (state continues from its checkpoint)
    writer = {}

    def prod_frame(sim, dt, n):
        prog.prod_wall_s += dt
        prog.prod_steps += n
        if "dcd" not in writer:
            k = len(prog.chunks)
            path = workdir / f"prod_{k:04d}.dcd.part"
            fh = open(path, "wb")
            writer["dcd"] = (app.DCDFile(fh, topology, settings.timestep_fs / 1000.0, firstStep=prog.phase_steps - n,
                                         interval=frame_steps), fh, path)
        st = sim.context.getState(getPositions=True)
        writer["dcd"][0].writeModel(st.getPositions(), periodicBoxVectors=st.getPeriodicBoxVectors())
        pending_density.append(density(sim))

    pending_density: list[float] = []

    def prod_chunk(sim):
        dcd, fh, path = writer.pop("dcd")
        fh.close()
        final = path.with_suffix("")  # drop .part
        os.replace(path, final)
        prog.chunks.append(final.name)
        prog.prod_density.extend(pending_density)
        pending_density.clear()

    if prog.phase == "produce":
        # frames after the last checkpoint are redone: drop a half-written chunk
        for p in workdir.glob("prod_*.dcd.part"):
            p.unlink()
        run_phase("produce", lambda: prod_steps, prod_frame, prod_chunk)
        prog.phase = "done"
        prog.save(prog_path)

    # with no production steps at all there is nothing to analyse
    ns_day = None
    if prog.prod_wall_s > 0:
        ns_day = prog.prod_steps * settings.timestep_fs * 1e-6 / (prog.prod_wall_s / 86400.0)
    return SimulationResult(
        platform=plat_name, platform_notes=notes, threads=settings.threads,
        frames=[str(workdir / c) for c in prog.chunks], frame_interval_ps=frame_steps / spp,
        prod_density_g_per_mL=list(prog.prod_density), equil_density_g_per_mL=list(prog.equil_density),
        density_plateau=bool(prog.plateau.get("ok", False)), plateau=dict(prog.plateau),
        equilibration_ps_done=prog.equilibration_steps_total / spp, production_ps_done=prog.phase_steps / spp
        if prog.phase == "done" else 0.0,
        ns_per_day=ns_day, wall_s=round(prog.total_wall_s + (time.perf_counter() - t_mark[0]), 2),
        resumed=prog.resumed, minimized_energy_kJ_per_mol=prog.minimized_energy_kJ_per_mol,
        n_atoms=system.getNumParticles(),
    )
