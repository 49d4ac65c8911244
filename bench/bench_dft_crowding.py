#!/usr/bin/env python
"""Does the crowded-shell ordering of the solvation stage survive at the DFT stage's level?

For each ligand, the solvation stage's lowest GFN2-xTB clusters M+(L)n (n = 1 .. last, its
``solvation/<cation>/<L>/n<k>.xyz``), the free ligand (``structures/<L>/geometry.xyz``) and
the bare cation get two gas-phase single points on the *same* geometries: GFN2-xTB (tblite)
and DFT (the DFT stage's level, omegaB97X-D4 with density fitting; basis chosen here).

Per step n (M+(L)n-1 + L -> M+(L)n):

    dE_n(method)   = E(M+(L)n) - E(M+(L)n-1) - E(L)                 gas, kcal/mol
    delta_n        = dE_n(DFT) - dE_n(GFN2)                          the single-point correction
    dG_n(DFT//GFN2) = dG_n(stage: GFN2 in ALPB + qRRHO + standard state) + delta_n

i.e. the usual composite: electronic energy from the better method, solvation, thermal and
standard-state terms from the stage. GFN2-xTB puts K+ ~0.3 A too close to O (K-O 2.30-2.40 A;
DFT 1:1 minimum 2.63-2.66 A: docs/dft.md), and a crowded cluster is less
compressed than an open one, so a DFT single point on GFN2 geometries charges each cluster a
different compression penalty. ``--shell-radius R`` moves every bound ligand as a rigid body
along the line from the cation to its donor atoms' centroid until its mean cation-donor
distance is R (free ligand and cation unchanged): every cluster then sits at the same shell
radius, a one-parameter stand-in for a DFT relaxation of the shell (not a minimum).

Each single point is cached as JSON under --cache (a killed run resumes where it stopped).

Examples
--------
    python bench/bench_dft_crowding.py results/ --ligands DME DEE --basis def2-SVP
    python bench/bench_dft_crowding.py results/ --ligands DME DEE --basis def2-SVP --shell-radius 2.64
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

import numpy as np

from solvscreen.complexes import HARD_DONORS
from solvscreen.core.units import HARTREE_TO_KCAL_PER_MOL as HARTREE_TO_KCAL


def _geometries(results: Path, cation: str, ligand: str, steps: list[int]) -> tuple[dict, dict]:
    """Geometries needed for the steps (name -> (numbers, positions, charge)) and the record."""
    from solvscreen.xtb.structures import read_xyz

    rec_path = results / "solvation" / cation / f"{ligand}.json"
    rec = json.loads(rec_path.read_text())
    if rec.get("status") != "ok":
        raise SystemExit(f"{rec_path}: status {rec.get('status')}, no clusters to check")
    geoms = {}
    z, x, _ = read_xyz(results / "structures" / ligand / "geometry.xyz")
    geoms["L"] = (z, x, 0)
    for n in sorted({k for s in steps for k in (s - 1, s)}):
        if n == 0:
            zc, xc, _ = read_xyz(results / "structures" / cation / "geometry.xyz")
            geoms["n0"] = (zc, xc, 1)
        else:
            p = rec_path.with_suffix("") / f"n{n}.xyz"
            if not p.exists():
                raise SystemExit(f"{p}: missing (the stage's last step is n = {rec['results']['n_last']})")
            zn, xn, _ = read_xyz(p)
            geoms[f"n{n}"] = (zn, xn, 1)
    return geoms, rec


def _fragments(numbers, positions):
    """The cation's index and the atom indices of each bound ligand (connected fragment other
    than the cation)."""
    from scipy.sparse.csgraph import connected_components

    z, x = np.asarray(numbers), np.asarray(positions, float)
    k = int(np.flatnonzero(np.isin(z, (3, 11, 19)))[0])
    others = np.array([i for i in range(len(z)) if i != k])
    d = np.linalg.norm(x[others][:, None] - x[others][None], axis=-1)
    _, lab = connected_components(d < 1.9)
    return k, [others[lab == f] for f in np.unique(lab)]


def expand_shell(numbers, positions, radius_A: float):
    """Each bound ligand translated rigidly along cation -> its donor centroid until its mean
    cation-donor distance (O, N, S, Cl within 3.2 A: the solvation stage's shell donors) is
    ``radius_A``."""
    from pyscf.data.elements import ELEMENTS

    z, x = np.asarray(numbers), np.array(positions, float)
    donor_z = [ELEMENTS.index(e) for e in HARD_DONORS]
    k, frags = _fragments(z, x)
    out = x.copy()
    for idx in frags:
        r = np.linalg.norm(x[idx] - x[k], axis=1)
        don = idx[np.isin(z[idx], donor_z) & (r < 3.2)]
        if not len(don):
            continue
        c = x[don].mean(axis=0) - x[k]
        u = c / np.linalg.norm(c)
        def mean_r(t):
            return np.linalg.norm(x[don] + t * u - x[k], axis=1).mean()
        lo, hi = -1.0, 2.0  # bisection: u points at the donors' centroid, so mean_r grows with t
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if mean_r(mid) < radius_A else (lo, mid)
        out[idx] += 0.5 * (lo + hi) * u
    return out


def _counterpoise(z, x, q, basis: str, threads: int) -> dict:
    """Boys-Bernardi counterpoise correction of the last ligand's binding in one cluster: the
    last bound ligand B (by atom order) against the rest A (cation + other ligands), SCF only
    (omegaB97X without dispersion: dispersion does not depend on the basis)."""
    from pyscf import gto
    from pyscf.data.elements import ELEMENTS

    from solvscreen.dft.level import build_mf, choose_backend, level_from_preset, run_scf

    level = level_from_preset("calibration", basis=basis, method="wb97x", threads=threads)
    backend = choose_backend(level.backend)
    _, frags = _fragments(z, x)
    b = set(int(i) for i in frags[-1])
    a = [i for i in range(len(z)) if i not in b]

    def energy(real, ghost, charge):
        atoms = [(ELEMENTS[int(z[i])], tuple(x[i])) for i in real]
        atoms += [(f"ghost-{ELEMENTS[int(z[i])]}", tuple(x[i])) for i in ghost]
        mol = gto.M(atom=atoms, unit="Angstrom", basis=basis, charge=charge, spin=0, verbose=0)
        return run_scf(build_mf(mol, level, backend), level)[1].energy_Eh

    t = time.perf_counter()
    e = {"A_own": energy(a, [], q), "A_full": energy(a, sorted(b), q),
         "B_own": energy(sorted(b), [], 0), "B_full": energy(sorted(b), a, 0)}
    bsse = (e["A_own"] - e["A_full"] + e["B_own"] - e["B_full"]) * HARTREE_TO_KCAL
    return {"bsse_kcal_per_mol": bsse, "energies_Eh": e, "n_ligand_atoms": len(b),
            "wall_s": round(time.perf_counter() - t, 1), "level": "wB97X (no dispersion)", "basis": basis}


def _cached(cache: Path, key: str, compute) -> dict:
    p = cache / f"{key}.json"
    if p.exists():
        return json.loads(p.read_text())
    out = compute()
    tmp = p.with_suffix(".tmp")
    tmp.write_text(json.dumps(out, indent=1))
    tmp.replace(p)
    return out


def _gfn2(z, x, q) -> dict:
    from solvscreen.xtb.engine import Engine, EngineSettings

    t = time.perf_counter()
    sp = Engine(EngineSettings()).singlepoint(z, x, charge=q)
    return {"energy_Eh": float(sp.energy_Eh), "wall_s": round(time.perf_counter() - t, 2)}


def _dft(z, x, q, basis: str, threads: int) -> dict:
    from solvscreen.dft.level import choose_backend, level_from_preset
    from solvscreen.dft.singlepoint import singlepoint

    level = level_from_preset("calibration", basis=basis, threads=threads)
    sp, _ = singlepoint(z, x, q, level, backend=choose_backend(level.backend))
    return {"energy_Eh": sp.energy_Eh, "dispersion_Eh": sp.dispersion_Eh, "n_basis_functions": sp.n_basis_functions,
            "scf_cycles": sp.scf_cycles, "wall_s": round(sp.wall_s, 1), "level": level.label, "basis": basis}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("results", type=Path, help="a results directory with solvation/ and structures/")
    ap.add_argument("--ligands", nargs="+", default=["DME", "DEE"])
    ap.add_argument("--cation", default="K+", choices=["K+", "Na+", "Li+"])
    ap.add_argument("--steps", nargs="+", type=int, default=[1, 2, 3], help="steps n to correct")
    ap.add_argument("--basis", default="def2-TZVP")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--shell-radius", type=float, help="move bound ligands to this mean cation-donor distance (A)")
    ap.add_argument("--counterpoise", action="store_true",
                    help="Boys-Bernardi correction of the last step's new ligand (4 more SCFs per ligand)")
    ap.add_argument("--cache", type=Path, default=Path("bench_dft_crowding_cache"))
    ap.add_argument("--json", type=Path, help="write the table here as JSON")
    ns = ap.parse_args(argv)
    logging.getLogger("pyscf").setLevel(logging.WARNING)
    ns.cache.mkdir(parents=True, exist_ok=True)

    rows = []
    for lig in ns.ligands:
        geoms, rec = _geometries(ns.results, ns.cation, lig, ns.steps)
        e, dft_geoms = {}, {}
        for name, (z, x, q) in geoms.items():
            tag = lig if name != "n0" else ns.cation
            # GFN2-xTB at its own geometries; DFT at the same or at the expanded shell
            g = _cached(ns.cache, f"{tag}_{name}_GFN2", lambda: _gfn2(z, x, q))
            if ns.shell_radius and name not in ("L", "n0"):
                x = expand_shell(z, x, ns.shell_radius)
                tag = f"{lig}_r{ns.shell_radius:g}"
            d = _cached(ns.cache, f"{tag}_{name}_{ns.basis}", lambda: _dft(z, x, q, ns.basis, ns.threads))
            e[name] = (g["energy_Eh"], d["energy_Eh"])
            dft_geoms[name] = (z, x, q, tag)
            print(f"# {lig} {name}: {len(z)} atoms, {d['n_basis_functions']} basis functions, DFT {d['wall_s']} s",
                  file=sys.stderr, flush=True)
        cp = {}
        if ns.counterpoise:
            n_cp = max(ns.steps)
            z, x, q, tag = dft_geoms[f"n{n_cp}"]
            cp[n_cp] = _cached(ns.cache, f"{tag}_n{n_cp}_cp_{ns.basis}",
                               lambda: _counterpoise(z, x, q, ns.basis, ns.threads))["bsse_kcal_per_mol"]
            print(f"# {lig} n{n_cp}: counterpoise correction +{cp[n_cp]:.2f} kcal/mol", file=sys.stderr, flush=True)
        stage_dg = {int(s["n"]): float(s["dG_kcal_per_mol"]) for s in rec["results"]["steps"]}
        for n in ns.steps:
            de = [(e[f"n{n}"][i] - e[f"n{n - 1}"][i] - e["L"][i]) * HARTREE_TO_KCAL for i in (0, 1)]
            delta = de[1] - de[0]
            rows.append({"ligand": lig, "n": n, "dE_GFN2_gas_kcal_per_mol": round(de[0], 2),
                         "dE_DFT_gas_kcal_per_mol": round(de[1], 2), "delta_kcal_per_mol": round(delta, 2),
                         "dG_stage_kcal_per_mol": round(stage_dg[n], 2),
                         "dG_DFT_on_GFN2_kcal_per_mol": round(stage_dg[n] + delta, 2),
                         "counterpoise_kcal_per_mol": round(cp[n], 2) if n in cp else ""})

    cols = list(rows[0])
    print(" | ".join(cols))
    for r in rows:
        print(" | ".join(str(r[c]) for c in cols))
    by = {(r["ligand"], r["n"]): r for r in rows}
    for n in ns.steps:
        for a in ns.ligands:
            for b in ns.ligands:
                if a < b and (a, n) in by and (b, n) in by:
                    s = by[(b, n)]["dG_stage_kcal_per_mol"] - by[(a, n)]["dG_stage_kcal_per_mol"]
                    c = by[(b, n)]["dG_DFT_on_GFN2_kcal_per_mol"] - by[(a, n)]["dG_DFT_on_GFN2_kcal_per_mol"]
                    print(f"# step {n}: dG({b}) - dG({a}) = {s:+.2f} kcal/mol (stage, GFN2), {c:+.2f} "
                          f"(DFT//GFN2, {ns.basis}); positive: {b}'s step is less favourable")
    print(f"# level: omegaB97X-D4/{ns.basis}, density fitting, gas phase, on the solvation stage's GFN2-xTB "
          f"geometries{f' with bound ligands moved to a {ns.shell_radius:g} A shell radius' if ns.shell_radius else ''}; dG_DFT_on_GFN2 = stage dG_n + (dE_n(DFT) - dE_n(GFN2)); "
          + ("counterpoise_kcal_per_mol: Boys-Bernardi BSSE of that step's new ligand (add it to that step's dE and dG)"
             if ns.counterpoise else "no counterpoise correction"))
    if ns.json:
        ns.json.write_text(json.dumps({"basis": ns.basis, "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
