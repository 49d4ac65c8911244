"""Preferential solvation of K+ in an equimolar blend of two solvents (issue 23's observable b),
to set beside the K+-anion PMF (observable a) and choose between them by the numbers.

    python bench/bench_prefsolv.py OUT_DIR DME DEE [--ns 0.9] [--salt KFSI] [--threads 1] [--cache DIR]

One K+ and one anion in an equimolar A:B blend filling a ~24 A cube (ideal mixing of the
library densities), the md.pmf screening force field and protocol (GAFF2/AM1-BCC, ions x 0.8,
HMR 4 fs, 298.15 K, 1 bar). The anion is held beyond 9 A of K+ by a flat-bottom restraint, so
the K+ shell is the two solvents' competition only. Every ps: the solvent molecules with an
O atom within ``--shell-A`` of K+ (4.1 A: the first minimum of the K+-solvent O g(r) that the MD
stage measures with this force field, 4.1-4.2 A). Printed:

- the shell mole fraction of B against its bulk one (0.5), and
  ddG(B - A) = -RT ln[(x_B,shell / x_A,shell) / (x_B,bulk / x_A,bulk)] (kcal/mol; positive = the
  shell prefers A: B is the weaker solvent), with a block error (5 blocks) and the
  first-half/second-half values;
- the number of exchanges (a molecule entering the shell after at least 2 ps outside), per
  species: the count that says whether the average is an equilibrium one or the initial
  packing's;
- the cost (ns, CPU-h).

The first ``--discard-ps`` (default 50) after a 20 ps NVT start are not used.
"""
from __future__ import annotations

import argparse
import json
import logging
import math
import resource
import sys
import time
from pathlib import Path

import numpy as np

from solvscreen.inputs.library import load_library, parse_smiles
from solvscreen.md.pmf import AVOGADRO, KB_KCAL_PER_MOL_K, pmf_settings

ROOT = Path(__file__).resolve().parents[1]
log = logging.getLogger("prefsolv")


def build(out: Path, a, b, cation, anion, s, cache: Path):
    from rdkit import Chem
    from rdkit.Chem import Descriptors

    from solvscreen.md.box import BoxComposition, Species, pack
    from solvscreen.md.params import parametrize
    from solvscreen.md.system import build_system, run_tleap, write_templates

    mm = {m.name: Descriptors.MolWt(Chem.AddHs(parse_smiles(m.smiles))) for m in (a, b)}
    # equimolar: n molecules of each in the box volume, ideal mixing of the molar volumes
    vm = {m.name: mm[m.name] / m.density_g_per_mL / AVOGADRO * 1e24 for m in (a, b)}  # A^3 per molecule
    n = max(8, round(s.box_edge_A ** 3 / (vm[a.name] + vm[b.name])))
    p = {m.name: parametrize(m.name, m.smiles, out / "params" / m.name, cache_dir=cache) for m in (a, b, anion)}
    species = [(cation.name, "cation", cation.smiles, None), (anion.name, "anion", anion.smiles, p[anion.name]),
               (a.name, "liquid", a.smiles, p[a.name]), (b.name, "liquid", b.smiles, p[b.name])]
    templates = write_templates(species, out)
    box = BoxComposition(f"{a.name}:{b.name}+{cation.name}{anion.name}",
                         (Species(cation.name, "cation", 1, 1, 1.0),
                          Species(anion.name, "anion", 1, p[anion.name].n_atoms, 1.0),
                          Species(a.name, "liquid", n, p[a.name].n_atoms, float(n)),
                          Species(b.name, "liquid", n, p[b.name].n_atoms, float(n))),
                         n * (vm[a.name] + vm[b.name]),
                         1 + p[anion.name].n_atoms + n * (p[a.name].n_atoms + p[b.name].n_atoms), 0.0, None)
    edge = pack(box, {t.name: t.pdb for t in templates}, out / "packed.pdb", seed=s.seed, volume_factor=1.1,
                tolerance_A=2.0, start="random")
    prmtop, inpcrd = run_tleap(templates, out / "packed.pdb", edge, out)
    system, topology, positions, _ = build_system(prmtop, inpcrd, cutoff_nm=s.cutoff_nm, charge_scale=s.charge_scale,
                                                  ion_resnames={templates[0].resname, templates[1].resname},
                                                  hydrogen_mass_amu=s.hydrogen_mass_amu)
    res = {t.name: t.resname for t in templates}
    atoms = list(topology.atoms())
    k = [x.index for x in atoms if x.residue.name == res[cation.name]][0]
    an = [x.index for x in atoms if x.residue.name == res[anion.name]]
    oxy = {}  # species -> list of (residue index, [O atom indices])
    for m in (a, b):
        groups = {}
        for x in atoms:
            if x.residue.name == res[m.name] and x.element is not None and x.element.symbol == "O":
                groups.setdefault(x.residue.index, []).append(x.index)
        oxy[m.name] = list(groups.items())
    return system, positions, k, an, oxy, n, topology.getNumAtoms()


def run(out: Path, a_name: str, b_name: str, salt: str, ns: float, threads: int, shell_A: float,
        discard_ps: float, cache: Path | None = None) -> dict:
    import openmm
    import openmm.unit as u

    from solvscreen.md.pmf import Component
    from solvscreen.md.simulate import choose_platform

    lib = load_library([ROOT / "molecules" / "library.csv"])
    comp = lambda m: Component(m.name, m.smiles, m.density_g_per_mL)  # noqa: E731
    sm = lib.resolve(salt)
    a, b = comp(lib.resolve(a_name)), comp(lib.resolve(b_name))
    cation, anion = comp(lib.resolve(sm.cation)), comp(lib.resolve(sm.anion))
    s = pmf_settings("screening", threads=threads)
    t0, ru0 = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF)
    ch0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    system, positions, k, an, oxy, n, n_atoms = build(out / "build", a, b, cation, anion, s, cache or out / "cache")
    keep = openmm.CustomCentroidBondForce(2, "0.5*kf*step(rf-distance(g1,g2))*(distance(g1,g2)-rf)^2")
    keep.addGlobalParameter("kf", 10 * 4.184 * 100)
    keep.addGlobalParameter("rf", 0.9)
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
    names = [a.name, b.name]
    ids = {m: np.array([g[0] for g in oxy[m]]) for m in names}
    shell = {m: np.zeros((frames, len(oxy[m])), dtype=bool) for m in names}
    for f in range(frames):
        integ.step(spp)
        st = ctx.getState(getPositions=True, enforcePeriodicBox=False)
        pos = st.getPositions(asNumpy=True).value_in_unit(u.angstrom)
        box = np.diag(st.getPeriodicBoxVectors(asNumpy=True).value_in_unit(u.angstrom))
        for m in names:
            for j, (_, os_) in enumerate(oxy[m]):
                d = pos[os_] - pos[k]
                d -= box * np.round(d / box)
                shell[m][f, j] = bool((np.linalg.norm(d, axis=1) < shell_A).any())
        if (f + 1) % 100 == 0:
            log.info("%d/%d ps: shell %s", f + 1, frames,
                     ", ".join(f"{m} {int(shell[m][f].sum())}" for m in names))
    use = slice(int(discard_ps), frames)
    kt = KB_KCAL_PER_MOL_K * s.temperature_K

    def ddg(sl) -> float | None:
        na, nb = shell[names[0]][sl].sum(axis=1).mean(), shell[names[1]][sl].sum(axis=1).mean()
        if na <= 0 or nb <= 0:
            return None
        return -kt * math.log((nb / na) / 1.0)  # equimolar bulk: x_B,bulk / x_A,bulk = 1

    used = np.arange(frames)[use]
    blocks = [ddg(slice(int(x[0]), int(x[-1]) + 1)) for x in np.array_split(used, 5)]
    vals = [x for x in blocks if x is not None]
    half = len(used) // 2
    exch = {}
    for m in names:
        inside = shell[m][use]
        e = 0
        for j in range(inside.shape[1]):
            col = inside[:, j]
            out_run = 0
            for v in col:
                if v and out_run >= 2:
                    e += 1
                out_run = 0 if v else out_run + 1
        exch[m] = e
    na, nb = (float(shell[m][use].sum(axis=1).mean()) for m in names)
    ru, ch = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (ru.ru_utime + ru.ru_stime - ru0.ru_utime - ru0.ru_stime + ch.ru_utime + ch.ru_stime
           - ch0.ru_utime - ch0.ru_stime)
    return {"a": a.name, "b": b.name, "salt": sm.name, "n_each": n, "n_atoms": n_atoms, "shell_A": shell_A,
            "ns_production": round((frames - discard_ps) / 1000, 4), "mean_shell_molecules": {names[0]: na, names[1]: nb},
            "x_b_shell": nb / (na + nb) if na + nb else None, "x_b_bulk": 0.5,
            "ddg_b_minus_a_kcal_per_mol": ddg(use),
            "block_values": blocks, "block_sem": (float(np.std(vals, ddof=1) / math.sqrt(len(vals)))
                                                   if len(vals) > 1 else None),
            "halves": [ddg(slice(int(used[0]), int(used[half]))), ddg(slice(int(used[half]), frames))],
            "exchanges": exch, "platform": pname, "wall_s": round(time.perf_counter() - t0, 1),
            "cpu_hours": round(cpu / 3600, 4)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--salt", default="KFSI")
    ap.add_argument("--ns", type=float, default=0.9)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--shell-A", type=float, default=4.1)
    ap.add_argument("--cache", type=Path, default=None, help="GAFF2/AM1-BCC parameter cache (default OUT/cache)")
    ap.add_argument("--discard-ps", type=float, default=50.0)
    x = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    x.out.mkdir(parents=True, exist_ok=True)
    rec = run(x.out, x.a, x.b, x.salt, x.ns, x.threads, x.shell_A, x.discard_ps, x.cache)
    (x.out / f"{x.a}-{x.b}-{x.salt}.json").write_text(json.dumps(rec, indent=1))
    print(json.dumps(rec, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
