"""``solvscreen dft`` and ``solvscreen aggregate-dft`` (picked up by solvscreen.interface.cli)."""

from __future__ import annotations

import logging
import os

from ..core.settings import settings_from_json

log = logging.getLogger("solvscreen.dft")


def add_parsers(sub, command) -> None:
    settings_help = "the config's dft section as JSON, or {\"dft\": {...}} (defaults otherwise)"
    p = sub.add_parser("dft", help="DFT refinement and E_bind of one ligand-cation complex from its binding record")
    p.add_argument("--binding", required=True, help="binding record of the complex (.json)")
    p.add_argument("--ligand-structure", required=True, help="structure record of the free ligand (.json)")
    p.add_argument("--out", required=True, help="record path (.json); DFT geometries go into its directory")
    p.add_argument("--settings", help=settings_help)

    p = sub.add_parser("dft-orbitals", help="HOMO/LUMO of one molecule or ion (structure record) at the DFT level")
    p.add_argument("--structure", required=True, help="structure record (.json)")
    p.add_argument("--out", required=True, help="record path (.json)")
    p.add_argument("--settings", help=settings_help)

    p = sub.add_parser("aggregate-dft", help="dft_binding.csv and dft_calibration.json from binding.csv and DFT records")
    p.add_argument("--binding-csv", required=True)
    p.add_argument("--records", nargs="*", default=[], help="DFT records (.json)")
    p.add_argument("--out-csv", required=True)
    p.add_argument("--out-json", required=True)

    @command("dft")
    def cmd_dft(ns) -> int:
        from .settings import DFTSettings
        from .stage import run_dft

        s = settings_from_json(ns.settings)
        settings = DFTSettings.from_dict(s.get("dft", s))
        threads = ns.threads or int(os.environ.get("OMP_NUM_THREADS", "1") or 1)
        logging.getLogger("geometric").setLevel(logging.WARNING)
        rec = run_dft(ns.binding, ns.ligand_structure, ns.out, settings, threads=threads)
        log.info("%s: dft %s%s", rec.name, rec.status, f" ({rec.failure['reason']})" if rec.failure else "")
        return 0

    @command("dft-orbitals")
    def cmd_dft_orbitals(ns) -> int:
        from .settings import DFTSettings
        from .stage import run_dft_orbitals

        s = settings_from_json(ns.settings)
        settings = DFTSettings.from_dict(s.get("dft", s))
        threads = ns.threads or int(os.environ.get("OMP_NUM_THREADS", "1") or 1)
        rec = run_dft_orbitals(ns.structure, ns.out, settings, threads=threads)
        r = rec.results
        print(f"{rec.name}: {rec.status} HOMO {r.get('homo_dft_eV')} eV, LUMO {r.get('lumo_dft_eV')} eV "
              f"({r.get('level')}/{r.get('basis')}, {r.get('solvent_model')})" if rec.ok else
              f"{rec.name}: failed ({rec.failure['reason']})")
        return 0

    @command("aggregate-dft")
    def cmd_aggregate_dft(ns) -> int:
        from .stage import aggregate_dft

        rows, cal = aggregate_dft(ns.binding_csv, ns.records, ns.out_csv, ns.out_json)
        n_ok = sum(r["status"] == "ok" for r in rows)
        log.info("dft: %d of %d rows computed at the DFT level -> %s", n_ok, len(rows), ns.out_csv)
        for cat, c in cal["cations"].items():
            if "slope" in c:
                log.info("%s: DFT = %.3f * GFN2 %+.2f kcal/mol (n %d, MAE %.2f, LOO RMSE %s)", cat, c["slope"],
                         c["intercept"], c["n"], c["mae"],
                         f"{c['loo_rmse']:.2f}" if c.get("loo_rmse") is not None else "n/a")
        return 0
