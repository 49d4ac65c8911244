"""Binding and ion-pair stages: one ligand (or anion) with one cation, and ``binding.csv``.

Record ``binding/<cation>/<name>.json`` (ion pairs: ``ion_pairs/<cation>/<anion>.json``);
companion file ``complex.xyz`` in the record's directory (the cation is the last atom).
The chemistry is :func:`solvscreen.complexes.bind`.
"""

from __future__ import annotations

from pathlib import Path

from ..complexes import SIGN_CONVENTION, BindingResult, BindingSettings, CationSpec, bind, cation_spec
from ..xtb.engine import EngineSettings
from ..core.errors import InputError
from ..core.records import Record, write_csv
from ..xtb.structures import mol_from_smiles, xyz_block
from .harness import StageContext, read_record, run_stage
from .properties import solvent_model
from .structure import Structure, load_structure

__all__ = ["BINDING_COLUMNS", "SIGN_CONVENTION", "aggregate_binding", "binding_row", "run_binding", "run_ion_pair"]


def check_engine_consistency(record: Record, engine_settings: EngineSettings) -> None:
    """Energies from different methods/solvent models must never be subtracted."""
    theirs = record.settings.get("engine")
    if theirs is None:
        return
    try:
        other = EngineSettings.from_dict(theirs)
    except (TypeError, InputError) as exc:
        raise InputError(f"{record.stage} record {record.name}: unreadable engine settings {theirs}") from exc
    if other != engine_settings:
        raise InputError(
            f"{record.stage} record {record.name} was computed with engine settings {other.to_dict()}, "
            f"this stage asks for {engine_settings.to_dict()}; rerun the {record.stage} stage"
        )


def cation_of(st: Structure) -> CationSpec:
    """The cation a (successful) single-atom structure record stands for."""
    if len(st.numbers) != 1:
        raise InputError(f"{st.path}: a cation structure must be a single atom, found {len(st.numbers)} atoms")
    spec = cation_spec(int(st.numbers[0]))
    if st.charge != spec.charge:
        raise InputError(f"{st.path}: cation {spec.symbol} has charge {st.charge}, expected +{spec.charge}")
    return spec


def run_binding(
    ligand_structure: str | Path,
    cation_structure: str | Path,
    out: str | Path,
    engine_settings: EngineSettings = EngineSettings(),
    settings: BindingSettings = BindingSettings(),
    stage: str = "binding",
) -> Record:
    """Binding (or, for an anion, ion-pair) record of one ligand with one cation."""
    lig = load_structure(ligand_structure)
    cat = load_structure(cation_structure)

    def compute(ctx: StageContext) -> BindingResult:
        spec = cation_of(cat)
        check_engine_consistency(lig.record, engine_settings)
        check_engine_consistency(cat.record, engine_settings)
        engine = ctx.engine(engine_settings)
        mol = mol_from_smiles(lig.record.inputs["smiles"])
        if mol.GetNumAtoms() != len(lig.positions_A):
            raise InputError(f"{ligand_structure}: geometry has {len(lig.positions_A)} atoms, "
                             f"SMILES {mol.GetNumAtoms()}")
        result = bind(engine, mol, lig.charge, lig.uhf, lig.energy_Eh, cat.energy_Eh, lig.ensemble, spec, settings)
        best = result.search.best
        comment = (f"{spec.symbol}+ . {lig.name} E={best.energy_Eh:.10f} Eh E_bind={result.E_bind_kcal_per_mol:.3f} "
                   f"kcal/mol donors={','.join(result.mode['donor_atoms'])} {engine_settings.method}")
        ctx.write_file("xyz", "complex.xyz", xyz_block(result.search.numbers, best.positions_A, comment))
        ctx.timing(phases_s=result.search.summary["phase_seconds"])
        return result

    return run_stage(
        stage, lig.name, out, compute,
        inputs={
            "ligand": lig.name,
            "smiles": lig.record.inputs.get("smiles"),
            "kind": lig.record.inputs.get("kind"),
            "cation": cat.name,
            "ligand_structure": str(ligand_structure),
            "cation_structure": str(cation_structure),
        },
        settings={"engine": engine_settings.to_dict(), "binding": settings.to_dict()},
        requires=[lig.record, cat.record],
    )


def run_ion_pair(anion_structure, cation_structure, out, engine_settings=EngineSettings(),
                 settings: BindingSettings = BindingSettings()) -> Record:
    """E_pair = E(M+A-) - E(M+) - E(A-): the binding search with the anion as ligand."""
    return run_binding(anion_structure, cation_structure, out, engine_settings, settings, stage="ion_pair")


BINDING_COLUMNS = [
    "name", "kind", "cation", "status", "failure_reason",
    *BindingResult.COLUMNS,
    "method", "engine", "engine_version", "solvent_model", "wall_s", "gradient_evaluations", "xtb_s",
    "geometry_xyz", "smiles", "record",
]


def binding_row(path: str | Path) -> dict:
    """One binding.csv row from a binding or ion-pair record (a missing one gives a failed row)."""
    path = Path(path)
    r = read_record(path, "binding")
    eng = r.settings.get("engine") or {}
    row = {
        "name": r.name,
        "kind": r.inputs.get("kind"),
        "cation": r.inputs.get("cation"),
        "status": r.status,
        "failure_reason": "" if r.ok else f"{r.stage}: {(r.failure or {}).get('reason')}",
        "method": eng.get("method"),
        "engine": eng.get("backend"),
        "engine_version": r.provenance.get("engine_version"),
        "solvent_model": solvent_model(eng),
        "wall_s": r.timings.get("wall_s"),
        "gradient_evaluations": (r.timings.get("engine") or {}).get("gradients"),
        "xtb_s": (r.timings.get("engine") or {}).get("seconds_in_xtb"),
        "smiles": r.inputs.get("smiles"),
        "record": str(path),
    }
    if r.ok:
        row.update(BindingResult.row_from_results(r.results))
        row["geometry_xyz"] = str(path.parent / r.files["xyz"])
    return row


def aggregate_binding(records: list[str | Path], out_csv: str | Path) -> list[dict]:
    """binding.csv: one row per (molecule, cation); anions carry their ion-pair binding."""
    rows = [binding_row(p) for p in records]
    write_csv(out_csv, rows, BINDING_COLUMNS)
    return rows
