"""Does hydrogen mass repartitioning change the structure? One box, two runs: 2 fs with natural
masses vs 4 fs with hydrogenMass (settings.HMR_MASS_AMU), same packed start, same seed, same
protocol otherwise; prints the K-O(solvent) and K-O(anion) RDF first-peak positions, the
anion and solvent CN per K+, and the density, each with its block error.

    python bench/md_hmr_check.py [--formulation LCE-DME] [--atoms 1500] [--production-ps 200]
                                 [--workdir hmr_check]

Resumable: each run checkpoints in ``--workdir`` (started again, it continues). Prints a table.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
logging.getLogger("MDAnalysis").setLevel(logging.WARNING)


def main():
    from bench_md import build

    from solvscreen.md.analysis import SpeciesSpec, analyse
    from solvscreen.md.settings import HMR_MASS_AMU, preset
    from solvscreen.md.simulate import simulate
    from solvscreen.md.system import build_system

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--formulation", default="LCE-DME")
    ap.add_argument("--atoms", type=int, default=1500)
    ap.add_argument("--production-ps", type=float, default=200.0)
    ap.add_argument("--equilibration-ps", type=float, default=40.0)
    ap.add_argument("--workdir", default="hmr_check")
    ap.add_argument("--threads", type=int, default=1)
    ns = ap.parse_args()
    wd = Path(ns.workdir)
    box_dir = wd / "box"
    if not (box_dir / "system.prmtop").exists():
        box_dir.mkdir(parents=True, exist_ok=True)
        build(ns.formulation, ns.atoms, box_dir, wd / "cache")
    import glob

    from solvscreen.md.params import MoleculeParams  # noqa: F401 - templates are re-read below
    from solvscreen.md.system import SpeciesTemplate  # noqa: F401

    prmtop, inpcrd = box_dir / "system.prmtop", box_dir / "system.inpcrd"
    # species from the tleap input of the box: resname -> elements of one molecule
    import MDAnalysis as mda

    u = mda.Universe(str(prmtop), topology_format="PARM7")
    rows = []
    for label, dt, hmass in (("2 fs", 2.0, None), ("4 fs HMR", 4.0, HMR_MASS_AMU)):
        ion_res = {r for r in set(u.atoms.resnames) if r in ("K+", "K") or r == "S01"}
        system, top, pos, _ = build_system(prmtop, inpcrd, cutoff_nm=1.0, charge_scale=0.8, ion_resnames=ion_res,
                                           hydrogen_mass_amu=hmass)
        s = preset("smoke", timestep_fs=dt, hydrogen_mass_amu=hmass, anneal_ps=5.0,
                   equilibration_ps=ns.equilibration_ps, production_ps=ns.production_ps, frame_interval_ps=1.0,
                   chunk_ps=20.0, threads=ns.threads, platform="CPU")
        res = simulate(system, top, pos, s, 1, wd / label.replace(" ", "_"))
        specs = []
        for rn in sorted(set(u.atoms.resnames)):
            res_atoms = u.atoms[u.atoms.resnames == rn]
            one = res_atoms.residues[0].atoms
            kind = "cation" if len(one) == 1 else ("anion" if rn == "S01" else "liquid")
            specs.append(SpeciesSpec(rn, kind, rn, [str(e).capitalize() for e in one.elements]))
        a = analyse(str(prmtop), res.frames, specs, density_series=res.prod_density_g_per_mL)
        peaks = {k: v for k, v in ((sp["species"], sp["cutoff_rule"].get("peak_r_A")) for sp in a["species"])}
        rows.append((label, a, peaks, res))
    print(f"{ns.formulation}, {u.atoms.n_atoms} atoms, {ns.production_ps:g} ps production each, same start and seed")
    print(f"{'run':<9} {'ns/day':>7} {'density g/mL':>16} {'anion CN':>14} {'solvent CN':>10} {'K-O(anion) peak A':>18} "
          f"{'K-O(solvent) peak A':>20}")
    for label, a, peaks, res in rows:
        an = next(sp for sp in a["species"] if sp["kind"] == "anion")
        sv = next(sp for sp in a["species"] if sp["kind"] == "solvent")
        print(f"{label:<9} {res.ns_per_day or 0:7.1f} {a['density_g_per_mL']:8.4f} ± {a['density_g_per_mL_err']:.4f} "
              f"{a['anion_cn']:7.2f} ± {a['anion_cn_err']:.2f} {a['solvent_cn']:10.2f} "
              f"{peaks[an['species']]:18.2f} {peaks[sv['species']]:20.2f}")
    _ = glob


if __name__ == "__main__":
    main()
