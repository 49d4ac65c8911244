#!/usr/bin/env python
"""Benchmark of the cation-binding stage (1:1 complexes, ion pairs, filled shells + exchange).

Prints, per molecule and stage, the wall time, the gradient evaluations and the complex
search's work (starts tried, prescreened, optimized), then totals per stage and the
wall time the stage needs on N workers (longest-processing-time schedule of the measured
jobs, i.e. what `snakemake --cores N` with 1-thread jobs achieves, minus process start-up).

Modes
-----
in-process (default)   structure records (cached in --workdir, not timed as part of the
                       stage), then binding, ion pairs and shells with ``--jobs`` processes
--from-results DIR     read the records a Snakemake run left in DIR (binding/, ion_pairs/, shells/)
--compare-xtb          for the given molecules, take the start geometry of the best complex
                       (and of the filled shell) and optimize it three ways: solvscreen's RFO
                       optimizer, ASE L-BFGS (the former default) and the ``xtb`` program
                       (``xtb start.xyz --opt normal --chrg Q --gfn 2``, XTBPATH=/usr/share/xtb);
                       print gradient evaluations, final energies and wall times side by side

Examples
--------
    python bench/bench_binding.py --jobs 2                         # default library, K+
    python bench/bench_binding.py --molecules DME TTE FSI --cation Na
    python bench/bench_binding.py --from-results results/ --jobs 2
    python bench/bench_binding.py --compare-xtb --molecules DME DGM TTE FSI
"""

from __future__ import annotations

import argparse
import heapq
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
XTBPATH = os.environ.get("XTBPATH", "/usr/share/xtb")


# --------------------------------------------------------------------------- work list
def work_list(names: list[str] | None, cation: str, library: str):
    """(ligands, anions, cation name, exchange anions, {name: (smiles, kind)}) from the library + plan."""
    from solvscreen.inputs.config import load_config
    from solvscreen.interface.inputs import validate_all
    from solvscreen.inputs.plan import make_plan

    cfg = {"library": library, "cations": [cation]}
    if names:
        cfg["molecules"] = names
    config = load_config(cfg, base_dir=ROOT)
    lib, forms = validate_all(config)
    plan = make_plan(config, lib, forms)
    mols = {n: (lib.molecules[n].smiles, lib.molecules[n].kind) for n in plan.molecules}
    anions = [a for c, a in plan.ion_pairs if c == plan.cations[0]]
    return plan.ligands, anions, plan.cations[0], plan.exchange_anions, mols


# --------------------------------------------------------------------------- in-process jobs
def _structure_job(args):
    name, smiles, kind, out = args
    from solvscreen.stages.structure import run_structure

    if not Path(out).exists():
        run_structure(name, smiles, kind, out)
    return name


def _binding_job(args):
    stage, lig, cat, out = args
    from solvscreen.stages.binding import run_binding

    t0 = time.perf_counter()
    rec = run_binding(lig, cat, out, stage=stage)
    return out, time.perf_counter() - t0, rec.status


def _shell_job(args):
    binding, ion_pairs, out = args
    from solvscreen.stages.shell import run_shell

    t0 = time.perf_counter()
    rec = run_shell(binding, ion_pairs, out)
    return out, time.perf_counter() - t0, rec.status


def run_in_process(ns) -> Path:
    ligands, anions, cation, exchange, mols = work_list(ns.molecules, ns.cation, ns.library)
    work = Path(ns.workdir or tempfile.mkdtemp(prefix="bench_binding_"))
    st = work / "structures"
    st.mkdir(parents=True, exist_ok=True)
    print(f"# workdir {work}; {len(ligands)} ligands, {len(anions)} anions, cation {cation}, jobs {ns.jobs}")
    t0 = time.perf_counter()
    with ProcessPoolExecutor(ns.jobs) as pool:
        list(pool.map(_structure_job, [(n, s, k, str(st / f"{n}.json")) for n, (s, k) in mols.items()]))
    print(f"# structure stage (input, not part of the binding stage): {time.perf_counter() - t0:.1f} s")
    for sub in ("binding", "ion_pairs", "shells"):
        shutil.rmtree(work / sub, ignore_errors=True)
    cat = str(st / f"{cation}.json")
    t0 = time.perf_counter()
    jobs = [("ion_pair", str(st / f"{a}.json"), cat, str(work / "ion_pairs" / cation / f"{a}.json")) for a in anions]
    jobs += [("binding", str(st / f"{n}.json"), cat, str(work / "binding" / cation / f"{n}.json")) for n in ligands]
    with ProcessPoolExecutor(ns.jobs) as pool:
        list(pool.map(_binding_job, jobs))
    t_bind = time.perf_counter() - t0
    t0 = time.perf_counter()
    ips = [str(work / "ion_pairs" / cation / f"{a}.json") for a in exchange]
    with ProcessPoolExecutor(ns.jobs) as pool:
        list(pool.map(_shell_job, [(str(work / "binding" / cation / f"{n}.json"), ips,
                                    str(work / "shells" / cation / f"{n}.json")) for n in ligands]))
    t_shell = time.perf_counter() - t0
    print(f"# measured elapsed with {ns.jobs} processes: binding + ion pairs {t_bind:.1f} s, "
          f"shells {t_shell:.1f} s, total {t_bind + t_shell:.1f} s")
    return work


# --------------------------------------------------------------------------- report
def lpt_makespan(times: list[float], workers: int) -> float:
    loads = [0.0] * max(1, workers)
    for t in sorted(times, reverse=True):
        heapq.heapreplace(loads, loads[0] + t)
    return max(loads)


def report(results: Path, jobs: int) -> None:
    from solvscreen.core.records import Record

    rows = []
    for sub in ("ion_pairs", "binding", "shells"):
        for path in sorted((results / sub).glob("*/*.json")):
            r = Record.read(path)
            eng = r.timings.get("engine") or {}
            row = {"stage": r.stage, "name": r.name, "cation": r.inputs.get("cation"), "status": r.status,
                   "wall_s": r.timings.get("wall_s") or 0.0, "grad": eng.get("gradients"),
                   "xtb_s": eng.get("seconds_in_xtb"), "tried": "", "pre": "", "opt": "", "E": "", "extra": ""}
            res = r.results
            if r.ok and r.stage in ("binding", "ion_pair"):
                row.update(tried=res["n_starts_tried"], pre=res["n_prescreened"], opt=res["n_optimized"],
                           E=f"{res['E_bind_kcal_per_mol']:.2f}", extra=f"dent {res['denticity']} "
                           + ",".join(res["donor_atoms"]))
            elif r.ok and r.stage == "shell":
                ex = ";".join(f"{e['anion']} {e.get('E_exchange_kcal_per_mol', float('nan')):.2f}"
                              for e in res["exchange"])
                row.update(E=f"{res['E_shell_per_ligand_kcal_per_mol']:.2f}",
                           extra=f"n {res['shell_n']} CN {res['shell_coordination_number']} exch {ex}")
            elif not r.ok:
                row["extra"] = (r.failure or {}).get("reason", "")[:60]
            rows.append(row)
    if not rows:
        raise SystemExit(f"no binding/ion-pair/shell records under {results}")
    head = f"{'stage':9s} {'name':9s} {'status':6s} {'wall_s':>7s} {'grad':>5s} {'xtb_s':>6s} {'tried':>6s} " \
           f"{'presc':>5s} {'opt':>3s} {'E_kcal':>8s}  binding mode / shell"
    print(head)
    print("-" * len(head))
    for r in rows:
        print(f"{r['stage']:9s} {r['name']:9s} {r['status']:6s} {r['wall_s']:7.1f} {r['grad'] or 0:5d} "
              f"{r['xtb_s'] or 0:6.1f} {r['tried']!s:>6s} {r['pre']!s:>5s} {r['opt']!s:>3s} {r['E']:>8s}  {r['extra']}")
    print()
    total = 0.0
    for stage in ("ion_pair", "binding", "shell"):
        t = [r["wall_s"] for r in rows if r["stage"] == stage]
        g = sum(r["grad"] or 0 for r in rows if r["stage"] == stage)
        x = sum(r["xtb_s"] or 0 for r in rows if r["stage"] == stage)
        total += sum(t)
        print(f"{stage:9s} jobs {len(t):3d}  sum wall {sum(t):8.1f} s  max {max(t, default=0):6.1f} s  "
              f"gradients {g:6d}  in xTB {x:7.1f} s ({100 * x / max(sum(t), 1e-9):.0f}%)")
    all_t = [r["wall_s"] for r in rows]
    print(f"all       jobs {len(all_t):3d}  sum wall {total:8.1f} s  -> on {jobs} worker(s) >= "
          f"{lpt_makespan(all_t, jobs):.1f} s (LPT schedule; shells wait for their binding job)")
    failed = [r for r in rows if r["status"] != "ok"]
    if failed:
        names = ", ".join(f"{r['stage']}:{r['name']}" for r in failed)
        print(f"failed: {names}")


# --------------------------------------------------------------------------- xtb comparison
def run_xtb(xyz_text: str, charge: int) -> tuple[int | None, float | None, float]:
    """(gradient cycles, final energy Eh, wall s) of `xtb --opt normal` on one geometry."""
    exe = shutil.which("xtb")
    if exe is None:
        return None, None, 0.0
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "start.xyz").write_text(xyz_text)
        env = {**os.environ, "XTBPATH": XTBPATH, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
        t0 = time.perf_counter()
        proc = subprocess.run([exe, "start.xyz", "--opt", "normal", "--chrg", str(charge), "--gfn", "2"],
                              cwd=tmp, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - t0
    out = proc.stdout
    m = re.search(r"GEOMETRY OPTIMIZATION CONVERGED AFTER\s+(\d+)\s+ITERATIONS", out)
    cycles = int(m.group(1)) if m else len(re.findall(r"\bCYCLE\s+\d+", out)) or None
    energies = re.findall(r"TOTAL ENERGY\s+(-?\d+\.\d+)\s+Eh", out)
    return cycles, float(energies[-1]) if energies else None, wall


def compare_xtb(ns) -> None:
    from solvscreen.complexes import BindingSettings, Fragment, build_shell, cation_spec, search_complex, shell_size
    from solvscreen.xtb.conformers import find_lowest_conformer
    from solvscreen.xtb.engine import Engine
    from solvscreen.xtb.optimize import FMAX_EV_PER_A, optimize
    from solvscreen.xtb.structures import ConformerSettings, formal_charge, mol_from_smiles, xyz_block

    ligands, anions, cation, _, mols = work_list(ns.molecules, ns.cation, ns.library)
    spec = cation_spec(cation)
    settings = BindingSettings()
    print(f"# same start geometry, three optimizers; solvscreen converges at max |F| < {FMAX_EV_PER_A} eV/A, "
          "xtb --opt normal at |dE| < 5e-6 Eh and |g| < 1e-3 Eh/bohr")
    head = f"{'system':22s} {'atoms':>5s} {'rfo grad':>8s} {'lbfgs grad':>10s} {'xtb grad':>8s}   " \
           f"{'E_rfo-E_xtb':>11s} {'E_lbfgs-E_xtb':>13s} (kcal/mol)  {'rfo s':>6s} {'lbfgs s':>7s} {'xtb s':>6s}"
    print(head)
    print("-" * len(head))
    totals = {"rfo": 0, "lbfgs": 0, "xtb": 0}
    for name in [n for n in ligands + anions]:
        smiles, _ = mols[name]
        mol = mol_from_smiles(smiles)
        eng = Engine()
        ref = find_lowest_conformer(eng, mol, ConformerSettings())
        q = formal_charge(mol) + spec.charge
        search = search_complex(eng, mol, ref.charge, ref.uhf, ref.ensemble, spec, settings)
        cases = [(f"{spec.symbol}+.{name}", search.best.start_positions_A, q, search.numbers)]
        if name in ligands and ns.shells:
            sp = eng.system(search.numbers, q).compute(search.best.positions_A, gradient=False)
            frag = Fragment.from_complex(name, mol, search.best.positions_A, sp.charges_e, spec,
                                         settings.denticity_factor)
            n, _ = shell_size(spec, search.best.mode["denticity"], mol.GetNumAtoms(), settings)
            if n > 1:
                shell = build_shell(eng, frag, n, spec, settings, n * formal_charge(mol) + spec.charge)
                cases.append((f"{spec.symbol}+({name}){n}", shell.start_positions_A,
                              n * formal_charge(mol) + spec.charge, shell.numbers))
        for label, start, charge, numbers in cases:
            res = {}
            for alg in ("rfo", "lbfgs"):
                t0 = time.perf_counter()
                o = optimize(Engine().system(numbers, charge), start, algorithm=alg, max_steps=1000,
                             raise_on_failure=False)
                res[alg] = (o.n_gradients, o.energy_Eh, time.perf_counter() - t0, o.converged)
            cyc, e_x, t_x = run_xtb(xyz_block(numbers, start, label), charge)
            for alg in ("rfo", "lbfgs"):
                totals[alg] += res[alg][0]
            totals["xtb"] += cyc or 0
            de = {a: (res[a][1] - e_x) * 627.5095 if e_x is not None else float("nan") for a in res}
            print(f"{label:22s} {len(numbers):5d} {res['rfo'][0]:8d} {res['lbfgs'][0]:10d} {cyc or -1:8d}   "
                  f"{de['rfo']:+11.3f} {de['lbfgs']:+13.3f}             {res['rfo'][2]:6.2f} {res['lbfgs'][2]:7.2f} "
                  f"{t_x:6.2f}" + ("" if res["rfo"][3] else "  (rfo not converged)"))
    print(f"{'total':22s} {'':5s} {totals['rfo']:8d} {totals['lbfgs']:10d} {totals['xtb']:8d}")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--molecules", nargs="+", help="library names (default: all)")
    p.add_argument("--cation", default="K")
    p.add_argument("--library", default=str(ROOT / "molecules" / "library.csv"))
    p.add_argument("--jobs", type=int, default=1, help="worker processes (1 OpenMP thread each)")
    p.add_argument("--workdir", help="keep structures (cache) and records here")
    p.add_argument("--from-results", metavar="DIR", help="report on a Snakemake run's records")
    p.add_argument("--compare-xtb", action="store_true")
    p.add_argument("--shells", action="store_true", help="with --compare-xtb: also the filled shells")
    ns = p.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    if ns.compare_xtb:
        compare_xtb(ns)
        return 0
    results = Path(ns.from_results) if ns.from_results else run_in_process(ns)
    report(results, ns.jobs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
