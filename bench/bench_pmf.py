"""K+-anion PMF (umbrella sampling + WHAM) of a salt in neat solvents: the table of issue 23.

    python bench/bench_pmf.py OUT_DIR DME DEE [...] [--salt KFSI] [--preset screening]
                              [--threads 1] [--table-only]

One JSON per solvent under OUT_DIR (``<solvent>-<salt>.json``; a killed run resumes from
OUT_DIR/work/), then a table: the contact free energy, K_a (1 mol/L standard state) and
dG_assoc with their bootstrap intervals, the mass-action paired fraction at 1 M, the
convergence verdict, the cost, and dG_assoc - dG_assoc(DME) where DME is in OUT_DIR.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from solvscreen.inputs.library import load_library
from solvscreen.md.pmf import Component, pmf_settings, run_pair

ROOT = Path(__file__).resolve().parents[1]


def component(lib, name: str) -> Component:
    m = lib.resolve(name)
    return Component(m.name, m.smiles, m.density_g_per_mL)


def run(out: Path, solvents: list[str], salt: str, preset: str, threads: int) -> None:
    lib = load_library([ROOT / "molecules" / "library.csv"])
    s = lib.resolve(salt)
    cation, anion = component(lib, s.cation), component(lib, s.anion)
    settings = pmf_settings(preset, threads=threads)
    for name in solvents:
        solv = component(lib, name)
        path = out / f"{solv.name}-{s.name}.json"
        if path.exists():
            logging.info("%s exists: skipped", path)
            continue
        rec = run_pair(solv, anion, cation, settings, out / "work" / f"{solv.name}-{s.name}",
                       cache_dir=out / "cache", progress=lambda m, n=solv.name: logging.info("%s: %s", n, m))
        rec.update(salt=s.name, preset=preset, settings=settings.to_dict())
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(rec, indent=1))
        tmp.replace(path)


def fmt(x, nd=2):
    return "–" if x is None else f"{x:.{nd}f}"


def table(out: Path, salt: str) -> str:
    recs = {json.loads(p.read_text())["solvent"]: json.loads(p.read_text())
            for p in sorted(out.glob(f"*-{salt}.json"))}
    ref = recs.get("DME")
    rows = ["| solvent | windows x ps | r_CIP (A) | w(r_CIP) kcal/mol | K_a (L/mol) | dG_assoc kcal/mol [95 %] "
            "| halves | minus DME | paired at 1 M | verdict | ns | CPU-h |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for name, r in recs.items():
        p = r["pmf"]
        o, iv = p["observables"], p["intervals"]
        dg, (lo, hi) = o["dg_assoc_kcal_per_mol"], iv["dg_assoc_kcal_per_mol"]
        diff = "–"
        if ref is not None and name != "DME" and lo is not None:
            ro, (rlo, rhi) = ref["pmf"]["observables"]["dg_assoc_kcal_per_mol"], ref["pmf"]["intervals"]["dg_assoc_kcal_per_mol"]
            if rlo is not None:  # independent runs: the difference's interval from both halves-widths
                half = ((hi - lo) ** 2 + (rhi - rlo) ** 2) ** 0.5 / 2
                diff = f"{dg - ro:+.2f} [{dg - ro - half:+.2f}, {dg - ro + half:+.2f}]"
        fr = p["paired_fraction"].get("1")
        rows.append(f"| {name} | {r['n_windows']} x {r['production_ps_per_window']:g} | {fmt(o['r_cip_A'])} "
                    f"| {fmt(o['w_cip_kcal_per_mol'])} [{fmt(iv['w_cip_kcal_per_mol'][0])}, {fmt(iv['w_cip_kcal_per_mol'][1])}] "
                    f"| {o['k_a_L_per_mol']:.3g} | {fmt(dg)} [{fmt(lo)}, {fmt(hi)}] "
                    f"| {fmt(p['halves']['first'])} / {fmt(p['halves']['second'])} | {diff} "
                    f"| {fmt(fr[1])} [{fmt(fr[0])}, {fmt(fr[2])}] | {r['stop']} | {r['ns_total']:.2f} | {r['cpu_hours']:.2f} |")
    return "\n".join(rows)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("solvents", nargs="*")
    ap.add_argument("--salt", default="KFSI")
    ap.add_argument("--preset", default="screening")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--table-only", action="store_true")
    a = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    a.out.mkdir(parents=True, exist_ok=True)
    if not a.table_only:
        run(a.out, a.solvents, a.salt, a.preset, a.threads)
    print(table(a.out, a.salt))
    return 0


if __name__ == "__main__":
    sys.exit(main())
