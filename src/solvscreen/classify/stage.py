"""The classification stage: the formulation table and the screening grid, the calibration
report, and the output files (classification.csv, classification.json, calibration.json)."""

from __future__ import annotations

from .calibration import calibrate_and_report, molecule_roles
from .core import classify_formulation
from .result import Classification, ClassificationSettings
from .evidence import Evidence
from .rules import CLASS_RULES, THRESHOLDS
from .solubility import reported_formulations

CLASSIFICATION_COLUMNS = list(Classification("", "", "", None, None, 0.0, [], "volume", None).row().keys())


def threshold_table(settings: ClassificationSettings, d_max: float) -> list[dict]:
    """Every threshold with the value this run used, unit, meaning, source, fitted or not."""
    out = []
    for k, t in THRESHOLDS.items():
        v = getattr(settings, k)
        out.append({"key": k, "value": d_max if v == "auto" else v, "setting": v, "unit": t.unit,
                    "quantity": t.quantity, "meaning": t.meaning, "source": t.source, "fitted": t.fitted})
    return out


def run_classification(library, formulations: list, evidence: Evidence, settings: ClassificationSettings,
                       grid_settings=None, *, out_csv=None, out_records=None, out_calibration=None) -> dict:
    """Classify the table's formulations and the screening grid; calibrate; write the outputs.

    Returns ``{"classifications": [...], "calibration": {...}, "diluent_bind_max": float}``.
    """
    from ..inputs.grid import GridSettings, make_grid
    from ..core.records import SCHEMA_VERSION, write_csv, write_json

    if not isinstance(evidence, Evidence):  # a bare ResultTables
        evidence = Evidence(evidence)
    molecule = library.resolve
    d_max, calibration = calibrate_and_report(formulations, molecule, evidence, settings)
    results: list[Classification] = []
    known = reported_formulations(formulations)  # where the salt is known to dissolve (never the generalization set)
    for f in formulations:
        results.append(classify_formulation(f, molecule, evidence, settings, diluent_bind_max=d_max, origin="table",
                                            known=known))
    gs = grid_settings or GridSettings()
    computed = {r["name"] for r in evidence.tables.descriptors if r.get("kind") in ("solvent", "diluent")}
    table_keys = {(f.salt, tuple(sorted(f.components)), f.concentration_mol_per_L) for f in formulations}
    for g in make_grid(gs, library, computed or None):
        if (g.salt, tuple(sorted(g.components)), g.concentration_mol_per_L) in table_keys:
            continue  # the table already holds it (with its literature class)
        results.append(classify_formulation(g, molecule, evidence, settings, diluent_bind_max=d_max, origin="grid",
                                            known=known))
    thresholds = threshold_table(settings, d_max)
    calibration.update({
        "thresholds": {t["key"]: t["value"] for t in thresholds},
        "threshold_table": thresholds,
        "class_rules": CLASS_RULES,
        "molecule_roles": molecule_roles(library, evidence, settings, d_max),
        "inputs": {k: v for k, v in evidence.sources.items() if v},
    })
    used = {t["key"]: t["value"] for t in thresholds}
    if out_csv:
        write_csv(out_csv, [c.row() for c in results], CLASSIFICATION_COLUMNS)
    if out_records:
        write_json(out_records, {"schema_version": SCHEMA_VERSION, "stage": "classification",
                                 "records": [c.record(settings, used).to_dict() for c in results]})
    if out_calibration:
        write_json(out_calibration, {"schema_version": SCHEMA_VERSION, **calibration})
    return {"classifications": results, "calibration": calibration, "diluent_bind_max": d_max}
