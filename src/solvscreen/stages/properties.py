"""Properties stage: electronic descriptors at a structure record's reference geometry,
and the descriptor table (``descriptors.csv``) built from structure + properties records.

The table's chemistry columns come from the typed results
(:attr:`StructureResult.COLUMNS`, :attr:`PropertiesResult.COLUMNS`): a descriptor added to
:class:`~solvscreen.xtb.properties.PropertiesResult` appears in the table without an edit here.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from ..complexes import molecule_features
from ..xtb.engine import EngineSettings
from ..xtb.properties import PropertiesResult, electronic_properties
from ..xtb.structures import mol_from_smiles
from ..core.records import Record, write_csv
from .harness import StageContext, read_record, run_stage
from .structure import StructureResult, load_structure


def run_properties(structure_record: str | Path, out: str | Path,
                   engine_settings: EngineSettings = EngineSettings(),
                   orbital_solvent: str | None = "thf") -> Record:
    """Electronic descriptors at the reference geometry of a structure record."""
    st = load_structure(structure_record)

    def compute(ctx: StageContext) -> PropertiesResult:
        engine = ctx.engine(engine_settings)
        props = electronic_properties(engine, st.numbers, st.positions_A, st.charge, st.uhf,
                                      orbital_solvent=orbital_solvent)
        features = molecule_features(mol_from_smiles(st.record.inputs["smiles"])).to_dict()
        return replace(props, **features)

    return run_stage(
        "properties", st.name, out, compute,
        inputs={**st.record.inputs, "structure_record": str(structure_record)},
        settings={"engine": engine_settings.to_dict(), "properties": {"orbital_solvent": orbital_solvent}},
        requires=[st.record],
    )


ID_COLUMNS = ("name", "kind", "smiles", "status", "failure_reason")
RUN_COLUMNS = ("method", "engine", "engine_version", "solvent_model",
               "structure_wall_s", "properties_wall_s", "xtb_s", "gradient_evaluations", "geometry_xyz")
DESCRIPTOR_COLUMNS = [*ID_COLUMNS, *StructureResult.COLUMNS, *PropertiesResult.COLUMNS, *RUN_COLUMNS]


def solvent_model(engine: dict) -> str:
    return f"ALPB({engine['solvent']})" if engine.get("solvent") else "gas phase"


def descriptor_row(structure_path: str | Path, properties_path: str | Path) -> dict:
    """One descriptors.csv row; a missing record (a job that died) gives a failed row."""
    s = read_record(structure_path, "structure")
    p = read_record(properties_path, "properties", s.name)
    failed = s if not s.ok else (p if not p.ok else None)
    eng_s = s.timings.get("engine", {})
    eng_p = p.timings.get("engine", {})
    engine = p.settings.get("engine") or s.settings.get("engine") or {}
    row = {
        "name": s.name,
        "kind": s.inputs.get("kind"),
        "smiles": s.inputs.get("smiles"),
        "status": "ok" if failed is None else "failed",
        "failure_reason": "" if failed is None else f"{failed.stage}: {failed.failure.get('reason')}",
        **StructureResult.row_from_results(s.results),
        "method": engine.get("method"),
        "engine": engine.get("backend"),
        "engine_version": p.provenance.get("engine_version") or s.provenance.get("engine_version"),
        "solvent_model": solvent_model(engine),
        "structure_wall_s": s.timings.get("wall_s"),
        "properties_wall_s": p.timings.get("wall_s"),
        "xtb_s": (eng_s.get("seconds_in_xtb") or 0) + (eng_p.get("seconds_in_xtb") or 0),
        "gradient_evaluations": (eng_s.get("gradients") or 0) + (eng_p.get("gradients") or 0),
        "geometry_xyz": str(Path(structure_path).parent / s.files["xyz"]) if s.ok else "",
    }
    if p.ok:
        row.update(PropertiesResult.row_from_results(p.results))
    return row


def aggregate_descriptors(pairs: list[tuple[str, str]], out_csv: str | Path) -> list[dict]:
    """One row per molecule (values or a failure reason) from (structure, properties) record paths."""
    rows = [descriptor_row(s, p) for s, p in pairs]
    write_csv(out_csv, rows, DESCRIPTOR_COLUMNS)
    return rows
