"""``solvscreen solvation`` and ``solvscreen aggregate-solvation`` (picked up by solvscreen.interface.cli)."""

from __future__ import annotations

import json
import logging

from ..core.settings import settings_from_json

log = logging.getLogger("solvscreen.solvation")


def add_parsers(sub, command) -> None:
    p = sub.add_parser("solvation", help="stepwise solvation free energies M+(L)n to saturation, the anion's "
                                         "step and the solvating power of one solvent with one cation")
    p.add_argument("--ligand-structure", required=True, help="structure record of the solvent/diluent (.json)")
    p.add_argument("--binding", required=True, help="its 1:1 binding record with the cation (.json)")
    p.add_argument("--cation-structure", required=True, help="structure record of the cation (.json)")
    p.add_argument("--anion-structure", required=True, help="structure record of the competing anion (.json)")
    p.add_argument("--ion-pair", required=True, help="ion-pair record of the cation with that anion (.json)")
    p.add_argument("--liquid", required=True, help="JSON: density_g_per_mL, molar_mass_g_per_mol, "
                                                   "dielectric_constant (or null), dielectric_source")
    p.add_argument("--out", required=True, help="record path (.json); cluster geometries go in its directory")
    p.add_argument("--settings", help="JSON with the config's engine, binding and solvation sections")

    p = sub.add_parser("aggregate-solvation", help="collect solvation records into solvating_power.csv")
    p.add_argument("--records", nargs="*", default=[], help="solvation records (.json)")
    p.add_argument("--out", required=True)

    @command("solvation")
    def cmd_solvation(ns) -> int:
        from ..complexes import BindingSettings
        from ..xtb.engine import EngineSettings
        from .settings import SolvationSettings
        from .stage import run_solvation

        s = settings_from_json(ns.settings)
        rec = run_solvation(ns.ligand_structure, ns.binding, ns.cation_structure, ns.anion_structure, ns.ion_pair,
                            ns.out, json.loads(ns.liquid), EngineSettings.from_dict(s.get("engine")),
                            BindingSettings.from_dict(s.get("binding")), SolvationSettings.from_dict(s.get("solvation")))
        log.info("%s: solvation %s%s", rec.name, rec.status, f" ({rec.failure['reason']})" if rec.failure else "")
        return 0

    @command("aggregate-solvation")
    def cmd_aggregate_solvation(ns) -> int:
        from .stage import aggregate_solvation

        rows = aggregate_solvation(ns.records, ns.out)
        log.info("solvating power: %d rows, %d failed -> %s", len(rows), sum(r["status"] != "ok" for r in rows), ns.out)
        return 0
