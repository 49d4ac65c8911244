"""The MD checks of issue 9 (neat densities; KFSI/DME series, LHCE, WSE): short, unconverged runs.

    python bench/md_checks.py neat  RESULTS_DIR [names...]
    python bench/md_checks.py salts RESULTS_DIR [ids...]

Sizes and times are set below (they are stated in the printed table); results are md
records under RESULTS_DIR plus one summary line per system.
"""
import logging
import sys
import time
from dataclasses import replace

from solvscreen.inputs.formulations import Formulation
from solvscreen.inputs.config import load_config
from solvscreen.interface.inputs import validate_all
from solvscreen.md.runner import load_params, run_md, run_neat, run_params
from solvscreen.md.settings import preset

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
logging.getLogger("MDAnalysis").setLevel(logging.WARNING)

NEAT = dict(target_atoms=1000, anneal_ps=2.0, equilibration_ps=15.0, production_ps=15.0, chunk_ps=5.0,
            frame_interval_ps=0.5)
SALT = dict(target_atoms=1200, anneal_ps=10.0, equilibration_ps=20.0, production_ps=50.0, chunk_ps=10.0,
            frame_interval_ps=0.5)
EXTRA = [Formulation(id="DME-3M", salt="KFSI", concentration_mol_per_L=3.0, components=(("DME", 1.0),)),
         Formulation(id="DME-2M", salt="KFSI", concentration_mol_per_L=2.0, components=(("DME", 1.0),))]


def params(lib, names, R):
    paths = {}
    for n in names:
        m = lib.resolve(n)
        paths[n] = f"{R}/md_params/{m.name}.json"
        run_params(m.name, m.smiles, m.kind, paths[n], cache_dir=f"{R}/cache")
    return load_params(paths)


def main():
    mode, R, names = sys.argv[1], sys.argv[2], sys.argv[3:]
    lib, forms = validate_all(load_config({}))
    by_id = {f.id: f for f in forms + EXTRA}
    if mode == "neat":
        st = preset("smoke", **NEAT)
        for n in names:
            m = lib.resolve(n)
            t = time.time()
            rec = run_neat(m, params(lib, [n], R)[n], st, f"{R}/neat/{n}.json")
            r = rec.results
            print(f"NEAT {n} {rec.status} rho={r.get('density_g_per_mL')} +- {r.get('density_g_per_mL_err')} "
                  f"ref={r.get('reference_g_per_mL')} err%={r.get('error_percent')} plateau={r.get('density_plateau')} "
                  f"ns/day={r.get('ns_per_day')} wall={time.time() - t:.0f}s {rec.failure or ''}", flush=True)
    else:
        st = preset("smoke", **SALT)
        for fid in names:
            seed = 1
            if ":" in fid:
                fid, seed = fid.split(":")
            f = by_id[fid]
            salt = lib.resolve(f.salt)
            p = params(lib, [salt.cation, salt.anion, *f.component_names], R)
            t = time.time()
            s = replace(st, seeds=(int(seed),))
            rec = run_md(f, lib, p, s, f"{R}/md/{fid}_s{seed}.json")
            r = rec.results
            print(f"SALT {fid} seed={seed} {rec.status} {rec.failure or ''} wall={time.time() - t:.0f}s", flush=True)
            if rec.ok:
                keys = ("n_atoms", "n_cation", "density_g_per_mL", "ssip_fraction", "cip_fraction", "agg_fraction",
                        "anion_free_fraction", "anion_single_fraction", "anion_multi_fraction", "anion_cn",
                        "anion_cn_err", "solvent_cn", "total_cn", "anion_share_of_shell",
                        "anion_share_of_shell_err", "ns_per_day", "density_plateau", "composition_error")
                print("   " + " ".join(f"{k}={r.get(k):.4g}" if isinstance(r.get(k), float) else f"{k}={r.get(k)}"
                                       for k in keys), flush=True)
                for sp in r["species"]:
                    print(f"   {sp['species']}: cn={sp['cn']:.3f}+-{sp['cn_err']:.3f} donors={sp['cn_donor_atoms']:.2f} "
                          f"cut={sp['cutoff_A']} ({sp['cutoff_source']}) enr={sp['enrichment']:.3f}"
                          f" shell_x={sp['shell_mole_fraction']} bulk_x={sp['bulk_mole_fraction']}", flush=True)
                for key, rows in r["cutoff_scan"][str(seed)].items() if str(seed) in r["cutoff_scan"] else \
                        r["cutoff_scan"][int(seed)].items():
                    print(f"   scan {key}: " + ", ".join(f"{x['r_A']}:{x['donors_per_cation']:.2f}/{x['enrichment']:.2f}"
                                                     for x in rows), flush=True)


if __name__ == "__main__":
    main()
