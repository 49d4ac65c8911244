"""MD speed: ns/day of the smoke and screening boxes (1 and 2 CPU threads, CUDA/OpenCL when
present), AM1-BCC seconds per molecule, analysis seconds per frame.

    python bench/bench_md.py [--steps 500] [--formulation LCE-DME]

Boxes: 1 M KFSI/DME packed to the presets' target atoms; PME 1.0 nm, HBonds, 2 fs,
LangevinMiddle + Monte Carlo barostat (the production settings). Each speed is one run of
``--steps`` steps after 100 warm-up steps on a minimized box; numbers vary with machine load.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from pathlib import Path

logging.getLogger("MDAnalysis").setLevel(logging.WARNING)


def build(formulation: str, target_atoms: int, workdir: Path, cache: Path):
    from solvscreen.composition import compose
    from solvscreen.library import load_config, validate_all
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
    return build_system(prmtop, inpcrd, cutoff_nm=1.0, charge_scale=0.8,
                        ion_resnames={t.resname for t in templates if t.kind != "liquid"}), prmtop, templates


def speed(system, topology, positions, platform: str, threads: int, steps: int) -> float:
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
    integ = openmm.LangevinMiddleIntegrator(298.15 * u.kelvin, 1 / u.picosecond, 2 * u.femtosecond)
    sim = app.Simulation(topology, s, integ, openmm.Platform.getPlatformByName(platform), props)
    sim.context.setPositions(positions)
    sim.minimizeEnergy(maxIterations=200)
    sim.step(100)
    t = time.perf_counter()
    sim.step(steps)
    sim.context.getState(getEnergy=True)
    dt = time.perf_counter() - t
    return steps * 2e-6 / (dt / 86400)


def main():
    import openmm

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--formulation", default="LCE-DME")
    ns = ap.parse_args()
    from solvscreen.library import load_config, validate_all
    from solvscreen.md.params import parametrize
    from solvscreen.md.settings import preset

    lib, _ = validate_all(load_config({}))
    platforms = [openmm.Platform.getPlatform(i).getName() for i in range(openmm.Platform.getNumPlatforms())]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        print("AM1-BCC (antechamber -c bcc -at gaff2 -j 5, one thread), seconds per molecule")
        for name in ("DME", "FSI", "DGM", "TTE"):
            p = parametrize(name, lib.resolve(name).smiles, tmp / "am1" / name)
            print(f"  {name:<6} {p.n_atoms:>3} atoms  {p.seconds:6.1f} s   max parmchk2 penalty {p.max_penalty:g}")
        print(f"\nns/day, {ns.formulation}, {ns.steps} steps of 2 fs (PME 1.0 nm, HBonds, MC barostat)")
        print(f"  {'preset':<10} {'atoms':>6} {'platform':<8} {'threads':>7} {'ns/day':>8}")
        for name in ("smoke", "screening"):
            st = preset(name)
            wd = tmp / name
            wd.mkdir()
            (system, top, pos, _), prmtop, templates = build(ns.formulation, st.target_atoms, wd, tmp / "cache")
            for plat, threads in (("CPU", 1), ("CPU", 2), ("CUDA", 1), ("OpenCL", 1)):
                if plat not in platforms:
                    continue
                try:
                    v = speed(system, top, pos, plat, threads, ns.steps)
                except Exception as exc:  # noqa: BLE001 - a GPU platform without a device
                    print(f"  {name:<10} {system.getNumParticles():>6} {plat:<8} {threads:>7}   unavailable "
                          f"({str(exc).splitlines()[0][:60]})")
                    continue
                print(f"  {name:<10} {system.getNumParticles():>6} {plat:<8} {threads:>7} {v:8.1f}")
        # analysis: 20 frames of the smoke box
        import openmm.app as app
        import openmm.unit as u

        from solvscreen.md.analysis import SpeciesSpec, analyse

        wd = tmp / "smoke"
        (system, top, pos, _), prmtop, templates = build(ns.formulation, preset("smoke").target_atoms, wd, tmp / "cache")
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
        print(f"\nanalysis (RDFs, cutoffs, speciation), smoke box, 20 frames: {dt:.1f} s ({dt / 20:.2f} s/frame)")


if __name__ == "__main__":
    main()
