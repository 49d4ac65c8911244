#!/usr/bin/env python
"""Cost table of the DFT stage (solvscreen.dft): basis functions, seconds per single point
and per relaxation, CPU threads, backend; a GPU row when gpu4pyscf and a CUDA device exist.

Modes
-----
in-process (default)   GFN2-xTB structure and binding records of each SMILES (K+ by default)
                       in --workdir, then per level: one single point of the complex at the
                       GFN2 geometry and one relaxation (--relax, default cation), timed.
--from-records DIR     read DIR/dft/<cation>/*.json records (a workflow or measurement run)
                       and tabulate their stored timings instead of computing.

Examples
--------
    python bench/bench_dft.py                                   # K+.H2O, def2-TZVP, 1 thread
    python bench/bench_dft.py --smiles O COCCOC --basis def2-TZVP def2-TZVPD --threads 1 2
    python bench/bench_dft.py --from-records results/
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time
from pathlib import Path


def _records_table(root: Path) -> list[dict]:
    rows = []
    for p in sorted(root.glob("dft/*/*.json")):
        r = json.loads(p.read_text())
        if r.get("status") != "ok":
            rows.append({"system": f"{r['inputs'].get('cation')}.{r['name']}", "status": "failed"})
            continue
        res, prov = r["results"], r["provenance"]
        s = res["seconds"]
        rows.append({
            "system": f"{res['cation']}.{r['name']}", "level": f"{res['level']}/{res['basis']}",
            "nbf": res["n_basis_functions"], "threads": prov.get("dft_threads"), "backend": prov.get("dft_backend"),
            "sp_s": s.get("complex_first_singlepoint") or s["complex_final_singlepoint"], "relax_s": s["complex"], "steps": res["relax_steps"],
            "total_s": s["total"], "status": "ok",
        })
    return rows


def _measure(smiles_list, cation, bases, threads_list, relax_mode, workdir: Path, gpu: bool) -> list[dict]:
    from solvscreen.stages.binding import run_binding
    from solvscreen.stages.structure import run_structure
    from solvscreen.dft.level import choose_backend, level_from_preset
    from solvscreen.dft.relax import relax
    from solvscreen.dft.singlepoint import singlepoint
    from solvscreen.xtb.structures import read_xyz

    cat_smiles = {"K": "[K+]", "Na": "[Na+]", "Li": "[Li+]"}[cation]
    run_structure(cation, cat_smiles, "cation", workdir / "structures" / f"{cation}.json")
    rows = []
    for i, smi in enumerate(smiles_list):
        name = f"m{i}"
        run_structure(name, smi, "solvent", workdir / "structures" / f"{name}.json")
        b = run_binding(workdir / "structures" / f"{name}.json", workdir / "structures" / f"{cation}.json",
                        workdir / "binding" / f"{name}.json")
        if not b.ok:
            rows.append({"system": f"{cation}+.{smi}", "status": f"GFN2 failed: {b.failure['reason']}"})
            continue
        z, x, _ = read_xyz(workdir / "binding" / b.files["xyz"])
        q = int(b.results["complex_charge"])
        for basis in bases:
            for nt in threads_list:
                for backend_name in (["pyscf", "gpu4pyscf"] if gpu else ["pyscf"]):
                    level = level_from_preset("calibration", basis=basis, threads=nt, backend=backend_name)
                    backend = choose_backend(level.backend)
                    t = time.perf_counter()
                    sp, _ = singlepoint(z, x, q, level, backend=backend)
                    t_sp = time.perf_counter() - t
                    t = time.perf_counter()
                    rx = relax(z, x, q, level, relax_mode, cation_index=len(z) - 1, backend=backend)
                    t_rx = time.perf_counter() - t
                    rows.append({"system": f"{cation}+.{smi}", "level": f"{level.label}/{basis}",
                                 "nbf": sp.n_basis_functions, "threads": nt, "backend": backend.name,
                                 "sp_s": round(t_sp, 1), "relax_s": round(t_rx, 1), "steps": rx.n_steps,
                                 "total_s": round(t_sp + t_rx, 1), "status": "ok"})
                    print(rows[-1], file=sys.stderr, flush=True)
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--smiles", nargs="+", default=["O"], help="ligands (default: water)")
    ap.add_argument("--cation", default="K", choices=["K", "Na", "Li"])
    ap.add_argument("--basis", nargs="+", default=["def2-TZVP"])
    ap.add_argument("--threads", nargs="+", type=int, default=[1])
    ap.add_argument("--relax", default="cation", choices=["cation", "donors", "full"])
    ap.add_argument("--from-records", type=Path, help="tabulate the timings of existing DFT records")
    ap.add_argument("--workdir", type=Path, help="keep the GFN2 records here (default: a temporary directory)")
    ns = ap.parse_args(argv)
    logging.getLogger("geometric").setLevel(logging.WARNING)
    if ns.from_records:
        rows = _records_table(ns.from_records)
    else:
        from solvscreen.dft.level import cuda_gpu_count
        import importlib.util

        gpu = cuda_gpu_count() > 0 and importlib.util.find_spec("gpu4pyscf") is not None
        with tempfile.TemporaryDirectory() as tmp:
            wd = ns.workdir or Path(tmp)
            rows = _measure(ns.smiles, ns.cation, ns.basis, ns.threads, ns.relax, wd, gpu)
        if not gpu:
            print("no GPU row: no CUDA device with gpu4pyscf on this machine", file=sys.stderr)
    cols = ["system", "level", "nbf", "threads", "backend", "sp_s", "relax_s", "steps", "total_s", "status"]
    print(" | ".join(cols))
    for r in rows:
        print(" | ".join(str(r.get(c, "")) for c in cols))
    print(f"# sp_s: one SCF of the complex from the default guess (records older than this field: the warm-started"
          " final SCF, an underestimate); relax_s: {ns.relax if not ns.from_records else 'the record'} relaxation "
          "(gradient steps + final single point); host CPUs "
          f"{os.cpu_count()}; timings are wall-clock and depend on the load of the machine")
    return 0


if __name__ == "__main__":
    sys.exit(main())
