#!/usr/bin/env python
"""Benchmark of the per-molecule pipeline (structure + properties stages).

Prints, per molecule and stage, the wall time, the number of xTB gradient evaluations and
single points, SCF retries, and the fraction of wall time spent inside xTB calls
(pipeline overhead = 1 - that fraction), plus totals.

Modes
-----
in-process (default)   run ``solvscreen.stages run_structure/run_properties`` on the
                       library into a temporary directory (``--jobs N`` processes)
--from-results DIR     read the records a Snakemake run left in DIR (structures/, properties/)
--compare-xtb          optimize the same RDKit start geometry with the ``xtb`` program
                       (``xtb start.xyz --opt normal --gfn 2``) and with ``solvscreen.xtb.optimize``;
                       print gradient counts, final energies and wall times side by side

Examples
--------
    python bench/bench_pipeline.py                                # default library, 1 process
    python bench/bench_pipeline.py --jobs 2                       # 2 processes, 1 thread each
    python bench/bench_pipeline.py --molecules DME FSI TFP
    python bench/bench_pipeline.py --from-results results/
    python bench/bench_pipeline.py --compare-xtb --molecules DME DMC FSI TEP
"""

from __future__ import annotations

import argparse
import csv
import json
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


# --------------------------------------------------------------------------- library
def read_library(path: Path, names: list[str] | None) -> list[dict]:
    """(name, smiles, kind) rows; uses solvscreen.inputs.library when it can, a plain CSV reader otherwise.

    Molecules that are only mixtures (salts written as 'cation.anion') are skipped: the
    pipeline computes their ions, which are rows of their own.
    """
    rows: list[dict] = []
    try:
        from solvscreen.inputs.library import load_library
    except ImportError:  # an older checkout: read the CSV directly
        load_library = None
    if load_library is not None:
        lib = load_library(path)  # validates: a bad row stops here with file and row named
        for m in lib:
            if m.kind != "salt":
                rows.append({"name": m.name, "smiles": m.smiles, "kind": m.kind, "aliases": list(m.aliases)})
    else:
        with open(path, newline="") as fh:
            lines = [line for line in fh if line.strip() and not line.lstrip().startswith("#")]
        for r in csv.DictReader(lines):
            smiles = (r.get("smiles") or "").strip()
            if not smiles or "." in smiles:
                continue
            aliases = [a for a in (r.get("aliases") or "").split("|") if a]
            rows.append({"name": r["name"].strip(), "smiles": smiles,
                         "kind": (r.get("kind") or "").strip(), "aliases": aliases})
    if names:
        wanted = {n.lower() for n in names}
        rows = [r for r in rows if r["name"].lower() in wanted or wanted & {a.lower() for a in r["aliases"]}]
        found = {r["name"].lower() for r in rows} | {a.lower() for r in rows for a in r["aliases"]}
        missing = sorted(wanted - found)
        if missing:
            sys.exit(f"bench: not in {path}: {', '.join(missing)}")
    return rows


def load_settings(configfile: Path | None):
    """Engine and conformer settings from a workflow config (default: workflows/config.yaml)."""
    from solvscreen.xtb.engine import EngineSettings
    from solvscreen.xtb.structures import ConformerSettings

    cfg: dict = {}
    path = configfile or ROOT / "workflows" / "config.yaml"
    if path.exists():
        import yaml

        cfg = yaml.safe_load(path.read_text()) or {}
    eng = cfg.get("engine") or {}
    conf = cfg.get("conformers") or {}
    fields_e = set(EngineSettings.__dataclass_fields__)
    fields_c = set(ConformerSettings.__dataclass_fields__)
    return (EngineSettings(**{k: v for k, v in eng.items() if k in fields_e}),
            ConformerSettings(**{k: v for k, v in conf.items() if k in fields_c}))


# --------------------------------------------------------------------------- in-process run
def _run_one(args) -> tuple[str, str, str]:
    name, smiles, kind, workdir, eng_dict, conf_dict = args
    from solvscreen.stages.properties import run_properties
    from solvscreen.stages.structure import run_structure
    from solvscreen.xtb.engine import EngineSettings
    from solvscreen.xtb.structures import ConformerSettings

    s = Path(workdir) / "structures" / f"{name}.json"
    p = Path(workdir) / "properties" / f"{name}.json"
    run_structure(name, smiles, kind, s, EngineSettings(**eng_dict), ConformerSettings(**conf_dict))
    run_properties(s, p, EngineSettings(**eng_dict))
    return name, str(s), str(p)


def run_in_process(rows, jobs: int, eng, conf, workdir: Path) -> tuple[list[tuple[str, str, str]], float]:
    tasks = [(r["name"], r["smiles"], r["kind"], str(workdir), eng.to_dict(), conf.to_dict()) for r in rows]
    # biggest molecules first so that two workers finish close together
    tasks.sort(key=lambda t: -len(t[1]))
    t0 = time.perf_counter()
    if jobs <= 1:
        done = [_run_one(t) for t in tasks]
    else:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            done = list(pool.map(_run_one, tasks))
    return done, time.perf_counter() - t0


def from_results(results: Path, names: list[str] | None) -> list[tuple[str, str, str]]:
    out = []
    for s in sorted((results / "structures").glob("*.json")):
        if s.name.count(".") > 1:  # e.g. NAME.ensemble.json, not a record
            continue
        p = results / "properties" / s.name
        if names and s.stem.lower() not in {n.lower() for n in names}:
            continue
        out.append((s.stem, str(s), str(p) if p.exists() else ""))
    if not out:
        sys.exit(f"bench: no structure records under {results}/structures")
    return out


# --------------------------------------------------------------------------- table
def stage_numbers(path: str) -> dict:
    from solvscreen.core.records import Record

    if not path:
        return {"status": "missing", "wall": 0.0, "grad": 0, "sp": 0, "retries": 0, "xtb": 0.0}
    r = Record.read(path)
    e = r.timings.get("engine") or {}
    return {
        "status": r.status if r.ok else f"failed ({(r.failure or {}).get('error_type')})",
        "wall": float(r.timings.get("wall_s") or 0.0),
        "grad": int(e.get("gradients") or 0),
        "sp": int(e.get("singlepoints") or 0),
        "retries": int(e.get("scf_retries") or 0),
        "xtb": float(e.get("seconds_in_xtb") or 0.0),
        "atoms": (r.results or {}).get("n_atoms"),
    }


def _frac(xtb: float, wall: float) -> str:
    return f"{100 * xtb / wall:5.1f}%" if wall > 0 else "   - "


def print_table(done, elapsed: float | None, jobs: int) -> dict:
    header = (f"{'molecule':<12}{'atoms':>6} | {'structure':^40} | {'properties':^34} | {'total':>8}\n"
              f"{'':<12}{'':>6} | {'wall s':>8}{'grads':>7}{'SPs':>6}{'retry':>6}{'in xTB':>8}{'':>5} |"
              f" {'wall s':>8}{'grads':>6}{'SPs':>6}{'retry':>6}{'in xTB':>8} | {'wall s':>8}  status")
    print(header)
    print("-" * len(header.splitlines()[1]))
    tot = {"wall": 0.0, "xtb": 0.0, "grad": 0, "sp": 0, "retries": 0, "s_wall": 0.0, "s_xtb": 0.0,
           "p_wall": 0.0, "p_xtb": 0.0, "n": 0, "failed": 0}
    for name, s_path, p_path in sorted(done):
        s, p = stage_numbers(s_path), stage_numbers(p_path)
        wall = s["wall"] + p["wall"]
        status = s["status"] if s["status"] != "ok" else p["status"]
        print(f"{name:<12}{s.get('atoms') or '':>6} | {s['wall']:8.2f}{s['grad']:7d}{s['sp']:6d}{s['retries']:6d}"
              f"{_frac(s['xtb'], s['wall']):>8}{'':>5} | {p['wall']:8.2f}{p['grad']:6d}{p['sp']:6d}{p['retries']:6d}"
              f"{_frac(p['xtb'], p['wall']):>8} | {wall:8.2f}  {status}")
        tot["n"] += 1
        tot["failed"] += status != "ok"
        tot["wall"] += wall
        tot["xtb"] += s["xtb"] + p["xtb"]
        tot["grad"] += s["grad"] + p["grad"]
        tot["sp"] += s["sp"] + p["sp"]
        tot["retries"] += s["retries"] + p["retries"]
        tot["s_wall"] += s["wall"]
        tot["s_xtb"] += s["xtb"]
        tot["p_wall"] += p["wall"]
        tot["p_xtb"] += p["xtb"]
    print("-" * len(header.splitlines()[1]))
    print(f"{'TOTAL':<12}{'':>6} | {tot['s_wall']:8.2f}{'':>19}{_frac(tot['s_xtb'], tot['s_wall']):>8}{'':>5} |"
          f" {tot['p_wall']:8.2f}{'':>18}{_frac(tot['p_xtb'], tot['p_wall']):>8} | {tot['wall']:8.2f}")
    frac = tot["xtb"] / tot["wall"] if tot["wall"] else 0.0
    print(f"\nmolecules: {tot['n']} ({tot['failed']} failed); gradient evaluations: {tot['grad']}; "
          f"single points (incl. gradients): {tot['sp']}; SCF retries: {tot['retries']}")
    print(f"summed stage wall time (serial, 1 thread): {tot['wall']:.1f} s; inside xTB: {tot['xtb']:.1f} s "
          f"({100 * frac:.1f}%); pipeline overhead (RDKit, optimizer, I/O): {100 * (1 - frac):.1f}%")
    if elapsed is not None:
        print(f"elapsed with {jobs} process(es): {elapsed:.1f} s "
              f"(ideal {jobs}-way split of the serial sum: {tot['wall'] / max(jobs, 1):.1f} s)")
    else:
        print(f"2-core estimate (ideal split of the serial sum; the records do not tell the real elapsed time): "
              f"{tot['wall'] / 2:.1f} s")
    return {**tot, "xtb_fraction": frac, "elapsed_s": elapsed}


def startup_cost() -> float:
    """Seconds a fresh `solvscreen` process needs before computing anything (each Snakemake job pays it)."""
    cmd = [sys.executable, "-c", "import solvscreen.stages.properties, solvscreen.xtb.engine as e; e.backend_available('tblite')"]
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True)
        best = min(best, time.perf_counter() - t0)
    return best


# --------------------------------------------------------------------------- xtb program comparison
def compare_xtb(rows, eng_settings) -> None:
    import numpy as np

    from solvscreen.xtb.engine import Engine
    from solvscreen.xtb.optimize import FMAX_EV_PER_A, optimize
    from solvscreen.xtb.structures import (
        ConformerSettings,
        atomic_numbers,
        embed_conformers,
        formal_charge,
        mol_from_smiles,
        positions,
        unpaired_electrons,
        xyz_block,
    )
    from solvscreen.core.units import HARTREE_TO_KCAL_PER_MOL

    xtb = shutil.which("xtb")
    if xtb is None or not Path(XTBPATH).is_dir():
        print("\n--compare-xtb: the xtb program (Debian package xtb) is not installed; skipped")
        return
    import inspect

    algo = inspect.signature(optimize).parameters.get("algorithm")
    algo = f"algorithm {algo.default!r}, " if algo is not None else ""
    print(f"\nGeometry optimization from the same RDKit start (GFN2-xTB, gas phase): xtb program "
          f"`--opt normal` (ANCopt) vs solvscreen.xtb.optimize ({algo}fmax {FMAX_EV_PER_A} eV/Å)")
    print(f"{'molecule':<10}{'atoms':>6} | {'xtb cycles':>10}{'xtb grads':>10}{'E xtb / Eh':>17}{'wall s':>8} |"
          f" {'ss grads':>9}{'E solvscreen / Eh':>19}{'wall s':>8}{'in xTB s':>9} | {'ΔE kcal/mol':>11}")
    for r in rows:
        mol = mol_from_smiles(r["smiles"])
        mol, _ = embed_conformers(mol, ConformerSettings(n_embed=1))
        numbers, xyz = atomic_numbers(mol), positions(mol)
        charge, uhf = formal_charge(mol), unpaired_electrons(mol)
        if numbers.size < 2:
            continue
        with tempfile.TemporaryDirectory() as tmp:
            Path(tmp, "start.xyz").write_text(xyz_block(numbers, xyz))
            env = {**os.environ, "XTBPATH": XTBPATH, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
            t0 = time.perf_counter()
            proc = subprocess.run([xtb, "start.xyz", "--opt", "normal", "--gfn", "2", "--chrg", str(charge),
                                   "--uhf", str(uhf)], cwd=tmp, env=env, capture_output=True, text=True)
            xtb_wall = time.perf_counter() - t0
        out = proc.stdout
        cycles = len(re.findall(r"\.{5,} CYCLE\s+\d+ \.{5,}", out))
        m = re.search(r"TOTAL ENERGY\s+(-?\d+\.\d+) Eh", out)
        e_xtb = float(m.group(1)) if m and proc.returncode == 0 else float("nan")
        # each ANCopt cycle evaluates one gradient; xtb adds one single point (with gradient)
        # before and one after the optimization
        xtb_grads = cycles + 2

        engine = Engine(eng_settings)
        system = engine.system(numbers, charge, uhf)
        t0 = time.perf_counter()
        try:
            opt = optimize(system, xyz)
            e_ss, n_ss = opt.energy_Eh, opt.n_gradients
        except Exception as exc:  # report, don't stop the benchmark
            e_ss, n_ss = float("nan"), engine.stats.gradients
            print(f"  {r['name']}: solvscreen optimization failed: {exc}")
        ss_wall = time.perf_counter() - t0
        de = (e_ss - e_xtb) * HARTREE_TO_KCAL_PER_MOL
        print(f"{r['name']:<10}{numbers.size:>6} | {cycles:>10}{xtb_grads:>10}{e_xtb:>17.8f}{xtb_wall:>8.2f} |"
              f" {n_ss:>9}{e_ss:>19.8f}{ss_wall:>8.2f}{engine.stats.seconds_in_xtb:>9.2f} | {de:>11.3f}")
    print("xtb wall time includes its process start and file output; ΔE = E(solvscreen) - E(xtb).")
    _ = np  # numpy imported for the engine's arrays


# --------------------------------------------------------------------------- main
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--library", type=Path, default=ROOT / "molecules" / "library.csv")
    ap.add_argument("--molecules", nargs="+", help="subset of library names (aliases allowed)")
    ap.add_argument("--configfile", type=Path, help="take engine/conformer settings from this workflow config")
    ap.add_argument("--from-results", type=Path, help="read records of a finished run instead of computing")
    ap.add_argument("--jobs", type=int, default=1, help="parallel processes (1 OpenMP thread each)")
    ap.add_argument("--threads", type=int, default=1, help="OpenMP threads per process")
    ap.add_argument("--keep", type=Path, help="keep the in-process records in this directory")
    ap.add_argument("--compare-xtb", action="store_true", help="also compare optimizations with the xtb program")
    ap.add_argument("--compare-only", action="store_true", help="only the --compare-xtb table")
    ap.add_argument("--json", type=Path, help="write the totals as JSON here")
    ns = ap.parse_args(argv)

    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(ns.threads)
    os.environ.setdefault("OMP_STACKSIZE", "1G")

    eng, conf = load_settings(ns.configfile)
    totals = None
    if ns.from_results:
        print(f"records from {ns.from_results}")
        totals = print_table(from_results(ns.from_results, ns.molecules), None, 1)
    elif not ns.compare_only:
        rows = read_library(ns.library, ns.molecules)
        print(f"{len(rows)} molecules from {ns.library}; engine {eng.backend} {eng.method}, "
              f"conformers n_embed={conf.n_embed} n_optimize={conf.n_optimize}; "
              f"{ns.jobs} process(es) x {ns.threads} thread(s)")
        workdir = ns.keep or Path(tempfile.mkdtemp(prefix="solvscreen-bench-"))
        try:
            done, elapsed = run_in_process(rows, ns.jobs, eng, conf, workdir)
            totals = print_table(done, elapsed, ns.jobs)
        finally:
            if ns.keep is None:
                shutil.rmtree(workdir, ignore_errors=True)
        startup = startup_cost()
        print(f"per-job process start-up (imports; paid by each Snakemake job, 2 jobs per molecule, "
              f"not in the records): {startup:.2f} s -> {2 * len(rows) * startup:.1f} s for this library")
        totals["startup_s_per_job"] = startup
    if ns.compare_xtb or ns.compare_only:
        rows = read_library(ns.library, ns.molecules or ["DME", "DMC", "FSI", "TEP"])
        compare_xtb(rows, eng)
    if ns.json and totals is not None:
        ns.json.write_text(json.dumps(totals, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
