"""MD speed: ns/day at 2 fs (natural masses) vs 4 fs (hydrogen mass repartitioning), at
~1.5k and ~4k atoms, with 1 and 2 CPU threads (CUDA/OpenCL when present); optionally
AM1-BCC seconds per molecule and analysis seconds per frame.

    python bench/bench_md.py [--ps 4] [--atoms 1500 4000] [--formulation LCE-DME]
                             [--cache bench_md.json] [--am1] [--analysis]

Boxes: 1 M KFSI/DME packed to ``--atoms``; PME 1.0 nm (``--cutoffs`` to compare others),
HBonds, LangevinMiddle + Monte Carlo barostat (the MD stage's settings). Each speed is one
run of ``--ps`` ps after 100 warm-up steps on a minimized box; numbers vary with machine
load (the 1-minute load average is printed with each row). ``--cache``: finished rows are
kept in this JSON file and skipped when the benchmark is started again (resumable).
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from pathlib import Path

logging.getLogger("MDAnalysis").setLevel(logging.WARNING)


def build(formulation: str, target_atoms: int, workdir: Path, cache: Path, hydrogen_mass_amu=None,
          cutoff_nm: float = 1.0):
    from solvscreen.inputs.composition import compose
    from solvscreen.inputs.config import load_config
    from solvscreen.interface.inputs import validate_all
    from solvscreen.md.box import box_counts, pack
    from solvscreen.md.params import parametrize
    from solvscreen.md.system import build_system, run_tleap, write_templates

    lib, forms = validate_all(load_config({}))
    f = next(x for x in forms if x.id == formulation)
    salt = lib.resolve(f.salt)
    names = [salt.cation, salt.anion, *f.component_names]
    params = {n: (None if n == salt.cation else parametrize(n, lib.resolve(n).smiles, workdir / n, cache_dir=cache))
              for n in names}
    atoms = {n: 1 if params[n] is None else params[n].n_atoms for n in names}
    box = box_counts(compose(f, lib.resolve), atoms, target_atoms, salt.cation, salt.anion)
    kinds = {salt.cation: "cation", salt.anion: "anion"}
    templates = write_templates([(s.name, kinds.get(s.name, "liquid"), lib.resolve(s.name).smiles, params[s.name])
                                 for s in box.species], workdir)
    edge = pack(box, {t.name: t.pdb for t in templates}, workdir / "packed.pdb", seed=1)
    prmtop, inpcrd = run_tleap(templates, workdir / "packed.pdb", edge, workdir)
    return build_system(prmtop, inpcrd, cutoff_nm=cutoff_nm, charge_scale=0.8, hydrogen_mass_amu=hydrogen_mass_amu,
                        ion_resnames={t.resname for t in templates if t.kind != "liquid"}), prmtop, templates


def speed(system, topology, positions, platform: str, threads: int, steps: int, timestep_fs: float = 2.0) -> float:
    import copy

    import openmm
    import openmm.app as app
    import openmm.unit as u

    s = copy.deepcopy(system)
    s.addForce(openmm.MonteCarloBarostat(1 * u.bar, 298.15 * u.kelvin, 25))
    # the stage's own platform properties (deterministic force summation)
    props = {"Threads": str(threads), "DeterministicForces": "true"} if platform == "CPU" else {}
    if platform == "CUDA":
        props = {"Precision": "mixed", "DeterministicForces": "true"}
    integ = openmm.LangevinMiddleIntegrator(298.15 * u.kelvin, 1 / u.picosecond, timestep_fs * u.femtosecond)
    sim = app.Simulation(topology, s, integ, openmm.Platform.getPlatformByName(platform), props)
    sim.context.setPositions(positions)
    sim.minimizeEnergy(maxIterations=200)
    sim.step(100)
    t = time.perf_counter()
    sim.step(steps)
    sim.context.getState(getEnergy=True)
    dt = time.perf_counter() - t
    return steps * timestep_fs * 1e-6 / (dt / 86400)


def main():
    import json
    import os

    import openmm

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ps", type=float, default=4.0, help="timed picoseconds per speed")
    ap.add_argument("--atoms", type=int, nargs="+", default=[1500, 4000])
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--cutoffs", type=float, nargs="+", default=[1.0], help="PME real-space cutoffs (nm)")
    ap.add_argument("--formulation", default="LCE-DME")
    ap.add_argument("--cache", default=None, help="JSON file of finished rows (resumable)")
    ap.add_argument("--am1", action="store_true", help="also time AM1-BCC per molecule")
    ap.add_argument("--analysis", action="store_true", help="also time the trajectory analysis")
    ns = ap.parse_args()
    from solvscreen.inputs.config import load_config
    from solvscreen.interface.inputs import validate_all
    from solvscreen.md.params import parametrize
    from solvscreen.md.settings import HMR_MASS_AMU

    lib, _ = validate_all(load_config({}))
    platforms = [openmm.Platform.getPlatform(i).getName() for i in range(openmm.Platform.getNumPlatforms())]
    done = json.loads(Path(ns.cache).read_text()) if ns.cache and Path(ns.cache).exists() else {}
    modes = (("2 fs", 2.0, None), ("4 fs HMR", 4.0, HMR_MASS_AMU))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if ns.am1:
            print("AM1-BCC (antechamber -c bcc -at gaff2 -j 5, one thread), seconds per molecule")
            for name in ("DME", "FSI", "DGM", "TTE"):
                p = parametrize(name, lib.resolve(name).smiles, tmp / "am1" / name)
                print(f"  {name:<6} {p.n_atoms:>3} atoms  {p.seconds:6.1f} s   max parmchk2 penalty {p.max_penalty:g}")
        print(f"ns/day, {ns.formulation}, {ns.ps:g} ps per row (PME, HBonds, LangevinMiddle, MC barostat; "
              f"HMR: hydrogenMass {HMR_MASS_AMU} amu)")
        print(f"  {'atoms':>6} {'cutoff_nm':>9} {'step':<9} {'platform':<8} {'threads':>7} {'ns/day':>8} {'load1':>6}")
        for target in ns.atoms:
            for cutoff in ns.cutoffs:
                for label, dt_fs, hmass in modes:
                    built = None
                    for plat, threads in [("CPU", t) for t in ns.threads] + [("CUDA", 1), ("OpenCL", 1)]:
                        if plat not in platforms:
                            continue
                        key = f"{ns.formulation}|{target}|{cutoff}|{label}|{plat}|{threads}|{ns.ps}"
                        if key not in done:
                            if built is None:
                                wd = tmp / f"{target}_{cutoff}_{dt_fs}"
                                wd.mkdir(parents=True)
                                built = build(ns.formulation, target, wd, tmp / "cache", hmass, cutoff)
                            (system, top, pos, _), _, _ = built
                            try:
                                v = speed(system, top, pos, plat, threads, int(round(ns.ps * 1000 / dt_fs)), dt_fs)
                            except Exception as exc:  # noqa: BLE001 - a GPU platform without a device
                                print(f"  {target:>6} {cutoff:>9g} {label:<9} {plat:<8} {threads:>7}   unavailable "
                                      f"({str(exc).splitlines()[0][:60]})")
                                continue
                            done[key] = {"atoms": system.getNumParticles(), "ns_per_day": v,
                                         "load1": os.getloadavg()[0]}
                            if ns.cache:
                                Path(ns.cache).write_text(json.dumps(done, indent=1))
                        r = done[key]
                        print(f"  {r['atoms']:>6} {cutoff:>9g} {label:<9} {plat:<8} {threads:>7} "
                              f"{r['ns_per_day']:8.1f} {r['load1']:6.2f}", flush=True)
        if not ns.analysis:
            return
        # analysis: 20 frames of a 1.5k-atom box
        import openmm.app as app
        import openmm.unit as u

        from solvscreen.md.analysis import SpeciesSpec, analyse

        wd = tmp / "analysis"
        wd.mkdir()
        (system, top, pos, _), prmtop, templates = build(ns.formulation, 1500, wd, tmp / "cache")
        integ = openmm.LangevinMiddleIntegrator(298.15 * u.kelvin, 1 / u.picosecond, 2 * u.femtosecond)
        sim = app.Simulation(top, system, integ, openmm.Platform.getPlatformByName("CPU"), {"Threads": "1"})
        sim.context.setPositions(pos)
        sim.minimizeEnergy(maxIterations=200)
        with open(wd / "t.dcd", "wb") as fh:
            dcd = app.DCDFile(fh, top, 0.002)
            for _ in range(20):
                sim.step(25)
                st = sim.context.getState(getPositions=True)
                dcd.writeModel(st.getPositions(), periodicBoxVectors=st.getPeriodicBoxVectors())
        specs = [SpeciesSpec(t.name, t.kind, t.resname, ["K"] if t.params is None else t.params.elements)
                 for t in templates]
        t = time.perf_counter()
        analyse(str(prmtop), [str(wd / "t.dcd")], specs)
        dt = time.perf_counter() - t
        print(f"\nanalysis (RDFs, cutoffs, speciation), 1.5k-atom box, 20 frames: {dt:.1f} s ({dt / 20:.2f} s/frame)")


if __name__ == "__main__":
    main()
