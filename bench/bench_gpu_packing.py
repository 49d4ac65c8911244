"""ns/day of several MD runs sharing one device: 1, 4 and 12 concurrent runs (issue 23).

    python bench/bench_gpu_packing.py OUT_DIR [--runs 1 4 12] [--seconds 60] [--platform CUDA]
                                      [--solvent DME] [--salt KFSI]

Builds one system on this machine with the PMF stage's builder (one ion pair in ~24 A of
neat solvent, GAFF2/AM1-BCC, PME 0.9 nm, HMR 4 fs; about 1.3k atoms for DME), serializes it
(OUT_DIR/system.xml, state.xml), then for each N starts N processes at once that each run
it for ``--seconds`` of wall time on ``--platform`` (NPT, 298 K), and prints a table: N, ns/day
of each run (mean, min, max), and all runs together. On CUDA each process takes a GPU slot
(solvscreen.md.gpu) with jobs_per_gpu = N. Only ``openmm`` (and its CUDA plugin) is needed to
run the serialized system; ``--build-only`` stops after writing it (build on a CPU machine,
run on the GPU host with ``--run-only``).
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def build(out: Path, solvent: str, salt: str) -> None:
    import openmm
    import openmm.unit as u

    from solvscreen.inputs.library import load_library
    from solvscreen.md.pmf import Component, build_pair_system, pmf_settings

    lib = load_library([ROOT / "molecules" / "library.csv"])
    sv, st = lib.resolve(solvent), lib.resolve(salt)
    an, cat = lib.resolve(st.anion), lib.resolve(st.cation)
    s = pmf_settings("screening")
    system, top, pos, *_ , info = build_pair_system(Component(sv.name, sv.smiles, sv.density_g_per_mL),
                                                    Component(an.name, an.smiles), Component(cat.name, cat.smiles),
                                                    s, out / "build", cache_dir=out / "cache")
    system.addForce(openmm.MonteCarloBarostat(1 * u.bar, 298.15 * u.kelvin, 25))
    integ = openmm.LangevinMiddleIntegrator(298.15 * u.kelvin, 1 / u.picosecond, 4 * u.femtosecond)
    ctx = openmm.Context(system, integ, openmm.Platform.getPlatformByName("CPU"))
    ctx.setPositions(pos)
    openmm.LocalEnergyMinimizer.minimize(ctx, 10.0, 500)
    (out / "system.xml").write_text(openmm.XmlSerializer.serialize(system))
    (out / "state.xml").write_text(openmm.XmlSerializer.serialize(ctx.getState(getPositions=True)))
    (out / "meta.json").write_text(json.dumps({"solvent": sv.name, "salt": st.name, **info}, indent=1))


def _one(out: str, platform: str, seconds: float, per_gpu: int, q) -> None:
    import openmm
    import openmm.unit as u

    os.environ["SOLVSCREEN_JOBS_PER_GPU"] = str(per_gpu)
    from solvscreen.md.simulate import choose_platform

    system = openmm.XmlSerializer.deserialize(Path(out, "system.xml").read_text())
    state = openmm.XmlSerializer.deserialize(Path(out, "state.xml").read_text())
    plat, props, name, _ = choose_platform(platform, 1)
    integ = openmm.LangevinMiddleIntegrator(298.15 * u.kelvin, 1 / u.picosecond, 4 * u.femtosecond)
    ctx = openmm.Context(system, integ, plat, props)
    ctx.setState(state)
    ctx.setVelocitiesToTemperature(298.15 * u.kelvin)
    integ.step(250)  # warm-up (kernels compiled, neighbour lists built)
    steps, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        integ.step(250)
        steps += 250
    ctx.getState(getEnergy=True)
    wall = time.perf_counter() - t0
    q.put((name, steps * 4e-6 / wall * 86400))


def run(out: Path, runs: list[int], seconds: float, platform: str) -> list[dict]:
    rows = []
    ctx = mp.get_context("spawn")
    for n in runs:
        q = ctx.Queue()
        procs = [ctx.Process(target=_one, args=(str(out), platform, seconds, n, q)) for _ in range(n)]
        for p in procs:
            p.start()
        got = [q.get() for _ in procs]
        for p in procs:
            p.join()
        rates = [r for _, r in got]
        rows.append({"runs": n, "platform": got[0][0], "mean": sum(rates) / n, "min": min(rates),
                     "max": max(rates), "total": sum(rates)})
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--runs", type=int, nargs="+", default=[1, 4, 12])
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--platform", default="CUDA")
    ap.add_argument("--solvent", default="DME")
    ap.add_argument("--salt", default="KFSI")
    ap.add_argument("--build-only", action="store_true")
    ap.add_argument("--run-only", action="store_true")
    a = ap.parse_args(argv)
    a.out.mkdir(parents=True, exist_ok=True)
    if not a.run_only and not (a.out / "system.xml").exists():
        build(a.out, a.solvent, a.salt)
    if a.build_only:
        return 0
    meta = json.loads((a.out / "meta.json").read_text())
    rows = run(a.out, a.runs, a.seconds, a.platform)
    print(f"{meta['solvent']} + {meta['salt']} ion pair, {meta['n_atoms']} atoms, 4 fs HMR, NPT; "
          f"{a.seconds:g} s per run")
    print("| runs at once | platform | ns/day per run (mean) | min | max | ns/day, all runs |")
    print("| --- | --- | --- | --- | --- | --- |")
    for r in rows:
        print(f"| {r['runs']} | {r['platform']} | {r['mean']:.1f} | {r['min']:.1f} | {r['max']:.1f} | {r['total']:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
