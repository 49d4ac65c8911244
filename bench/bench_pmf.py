"""K+-anion PMF (umbrella sampling + WHAM) of a salt in neat solvents: the table of issue 23.

    python bench/bench_pmf.py OUT_DIR DME DEE [...] [--salt KFSI] [--preset screening]
                              [--threads 1] [--max-production-ps 50] [--table-only]
    python bench/bench_pmf.py OUT_DIR --partial [--preset screening]

``--partial`` analyses the windows a run has finished so far (OUT_DIR/work/<pair>/windows/):
the PMF then ends at the last finished window, and the reference shell moves with it (the
printed table says so); for reading a run in progress, not for the record.

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
from solvscreen.md.pmf_stage import PMF_COLUMNS, pmf_rows

ROOT = Path(__file__).resolve().parents[1]


def component(lib, name: str) -> Component:
    m = lib.resolve(name)
    return Component(m.name, m.smiles, m.density_g_per_mL)


def run(out: Path, solvents: list[str], salt: str, preset: str, threads: int,
        max_production_ps: float | None = None) -> None:
    lib = load_library([ROOT / "molecules" / "library.csv"])
    s = lib.resolve(salt)
    cation, anion = component(lib, s.cation), component(lib, s.anion)
    extra = {} if max_production_ps is None else {"max_production_ps": max_production_ps}
    settings = pmf_settings(preset, threads=threads, **extra)
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
    diffs = {r["solvent"]: r for r in pmf_rows(list(recs.values()), "DME")}  # md.pmf_stage.difference
    rows = ["| solvent | windows x ps | r_CIP (A) | w(r_CIP) kcal/mol | K_a (L/mol) | dG_assoc kcal/mol [95 %] "
            "| halves | minus DME | paired at 1 M | verdict | ns | CPU-h |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for name, r in recs.items():
        p = r["pmf"]
        o, iv = p["observables"], p["intervals"]
        dg, (lo, hi) = o["dg_assoc_kcal_per_mol"], iv["dg_assoc_kcal_per_mol"]
        d = diffs.get(name) or {}
        diff = "–" if d.get("ddg_vs_reference_kcal_per_mol") is None else (
            f"{d['ddg_vs_reference_kcal_per_mol']:+.2f} [{d['ddg_lo_kcal_per_mol']:+.2f}, {d['ddg_hi_kcal_per_mol']:+.2f}]")
        fr = p["paired_fraction"].get("1")
        rows.append(f"| {name} | {r['n_windows']} x {r['production_ps_per_window']:g} | {fmt(o['r_cip_A'])} "
                    f"| {fmt(o['w_cip_kcal_per_mol'])} [{fmt(iv['w_cip_kcal_per_mol'][0])}, {fmt(iv['w_cip_kcal_per_mol'][1])}] "
                    f"| {o['k_a_L_per_mol']:.3g} | {fmt(dg)} [{fmt(lo)}, {fmt(hi)}] "
                    f"| {fmt(p['halves']['first'])} / {fmt(p['halves']['second'])} | {diff} "
                    f"| {fmt(fr[1])} [{fmt(fr[0])}, {fmt(fr[2])}] | {r['stop']} | {r['ns_total']:.2f} | {r['cpu_hours']:.2f}{'' if r.get('cost_complete', True) else ' (earlier calls not counted)'} |")
    return "\n".join(rows)


def partial(out: Path, preset: str, r_max: float | None = None) -> str:
    import numpy as np

    from solvscreen.md.pmf import analyse_windows
    from solvscreen.md.wham import Window

    base = pmf_settings(preset)
    rows = ["| pair | windows done (r0 range, A) | samples per window | r_CIP (A) | w(r_CIP) | dG_assoc kcal/mol [95 %] "
            "| halves | reference shell (A) | verdict |", "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for wd in sorted((out / "work").glob("*/windows")):
        ws = []
        for i, r0 in enumerate(base.centers_A):
            f = wd / f"window_{i:02d}.samples.npy"
            if not f.exists() or (r_max is not None and r0 > r_max + 1e-9):
                break
            ws.append(Window(r0, base.k_kcal_per_mol_A2, np.load(f)))
        if len(ws) < 4:
            rows.append(f"| {wd.parent.name} | {len(ws)} | – | – | – | – | – | – | too few windows |")
            continue
        from dataclasses import replace

        s = replace(base, r_max_A=ws[-1].r0_A)
        res = analyse_windows(ws, s)
        o, iv = res.observables, res.intervals
        lo, hi = iv["dg_assoc_kcal_per_mol"]
        rows.append(f"| {wd.parent.name} | {len(ws)} ({ws[0].r0_A:g}-{ws[-1].r0_A:g}) | {res.samples_per_window} "
                    f"| {fmt(o['r_cip_A'])} | {fmt(o['w_cip_kcal_per_mol'])} | {fmt(o['dg_assoc_kcal_per_mol'])} "
                    f"[{fmt(lo)}, {fmt(hi)}] | {fmt(res.halves['first'])} / {fmt(res.halves['second'])} "
                    f"| {s.r_max_A - s.reference_width_A:g}-{s.r_max_A:g} "
                    f"| {'converged' if res.converged else 'not converged: ' + res.convergence_reason} |")
    return "\n".join(rows)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("solvents", nargs="*")
    ap.add_argument("--salt", default="KFSI")
    ap.add_argument("--preset", default="screening")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--table-only", action="store_true")
    ap.add_argument("--csv", type=Path, default=None,
                    help="also write the finished pairs as pmf.csv (the md_pmf stage's table, reference DME), "
                         "for `solvscreen classify --pmf`")
    ap.add_argument("--max-production-ps", type=float, default=None,
                    help="cap of the rounds per window (ps); not a sampling setting, so a capped run resumes "
                         "into more rounds when rerun with a higher cap")
    ap.add_argument("--partial", action="store_true", help="analyse the finished windows of runs in progress")
    ap.add_argument("--r-max", type=float, default=None,
                    help="with --partial: use windows up to this r0 only (one reference shell for every pair)")
    a = ap.parse_args(argv)
    if a.partial:
        print(partial(a.out, a.preset, a.r_max))
        return 0
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    a.out.mkdir(parents=True, exist_ok=True)
    if not a.table_only:
        run(a.out, a.solvents, a.salt, a.preset, a.threads, a.max_production_ps)
    print(table(a.out, a.salt))
    if a.csv is not None:
        from solvscreen.core.records import write_csv

        recs = [json.loads(p.read_text()) for p in sorted(a.out.glob(f"*-{a.salt}.json"))]
        write_csv(a.csv, pmf_rows(recs, "DME"), list(PMF_COLUMNS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
