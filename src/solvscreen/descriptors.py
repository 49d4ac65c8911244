"""Per-molecule stages: reference structure, electronic properties, descriptor table.

Each stage reads only the previous stage's record and writes its own; failures
are records with a reason, never exceptions that stop a batch.
"""

from __future__ import annotations

from pathlib import Path

from .conformers import find_lowest_conformer
from .engine import Engine, EngineSettings
from .properties import electronic_properties
from .records import Record, capture_failure, write_csv, write_text_atomic
from .structures import ConformerSettings, mol_from_smiles, read_xyz, sdf_block, xyz_block


def _stats_delta(engine: Engine, before) -> dict:
    d = engine.stats.since(before).to_dict()
    d["seconds_in_xtb"] = round(d["seconds_in_xtb"], 4)
    return d


def run_structure(
    name: str,
    smiles: str,
    kind: str,
    out: str | Path,
    engine_settings: EngineSettings = EngineSettings(),
    conformer_settings: ConformerSettings = ConformerSettings(),
) -> Record:
    """Find the reference geometry of one molecule; write ``out`` (.json) plus .xyz/.sdf beside it."""
    out = Path(out)
    record = Record(
        stage="structure",
        name=name,
        inputs={"smiles": smiles, "kind": kind},
        settings={"engine": engine_settings.to_dict(), "conformers": conformer_settings.to_dict()},
    )
    with capture_failure(record):
        engine = Engine(engine_settings)
        record.provenance.update(engine.provenance())
        before = engine.stats.copy()
        mol = mol_from_smiles(smiles)
        result = find_lowest_conformer(engine, mol, conformer_settings)
        xyz_path, sdf_path, ens_path = out.with_suffix(".xyz"), out.with_suffix(".sdf"), out.with_suffix(".ensemble.xyz")
        comment = f"{name} {smiles} E={result.energy_Eh:.10f} Eh {engine_settings.method}"
        write_text_atomic(xyz_path, xyz_block(result.numbers, result.positions_A, comment))
        write_text_atomic(sdf_path, sdf_block(mol, result.positions_A, name, {"smiles": smiles, "energy_Eh": result.energy_Eh}))
        write_text_atomic(
            ens_path,
            "".join(
                xyz_block(result.numbers, x, f"{name} conformer {i} E={e:.10f} Eh")
                for i, (x, e) in enumerate(zip(result.ensemble, result.ensemble_energies_Eh))
            ),
        )
        record.files = {"xyz": xyz_path.name, "sdf": sdf_path.name, "ensemble_xyz": ens_path.name}
        record.results = {
            "charge": result.charge,
            "uhf": result.uhf,
            "n_atoms": int(result.numbers.size),
            "energy_Eh": result.energy_Eh,
            "conformer_search": result.summary,
        }
        record.timings["engine"] = _stats_delta(engine, before)
    record.write(out)
    return record


def load_geometry(structure_record_path: str | Path):
    """(record, numbers, positions) of a finished structure stage."""
    path = Path(structure_record_path)
    record = Record.read(path)
    if not record.ok:
        return record, None, None
    numbers, xyz, _ = read_xyz(path.parent / record.files["xyz"])
    return record, numbers, xyz


def run_properties(structure_record: str | Path, out: str | Path,
                   engine_settings: EngineSettings = EngineSettings(),
                   orbital_solvent: str | None = "thf") -> Record:
    """Electronic descriptors at the reference geometry of a structure record."""
    structure, numbers, xyz = load_geometry(structure_record)
    record = Record(
        stage="properties",
        name=structure.name,
        inputs={**structure.inputs, "structure_record": str(structure_record)},
        settings={"engine": engine_settings.to_dict(), "properties": {"orbital_solvent": orbital_solvent}},
    )
    with capture_failure(record):
        if not structure.ok:
            from .errors import CalculationFailed

            raise CalculationFailed(
                f"structure stage failed: {structure.failure.get('reason')}",
                error_type=f"structure:{structure.failure.get('error_type')}",
            )
        engine = Engine(engine_settings)
        record.provenance.update(engine.provenance())
        before = engine.stats.copy()
        props = electronic_properties(
            engine, numbers, xyz, structure.results["charge"], structure.results["uhf"],
            orbital_solvent=orbital_solvent,
        )
        record.results = props
        record.timings["engine"] = _stats_delta(engine, before)
    record.write(out)
    return record


DESCRIPTOR_COLUMNS = [
    "name", "kind", "smiles", "status", "failure_reason",
    "charge_e", "n_atoms",
    "energy_Eh", "homo_eV", "lumo_eV", "gap_eV", "dipole_D",
    "homo_alpb_eV", "lumo_alpb_eV", "orbital_solvent",
    "ip_vertical_eV", "ea_vertical_eV", "E_ox_vs_K_V", "E_red_vs_K_V",
    "electronic_temperature_K",
    "n_conformers_embedded", "n_conformers_optimized", "conformer_spread_kcal_per_mol",
    "method", "engine", "engine_version", "solvent_model",
    "structure_wall_s", "properties_wall_s", "xtb_s", "gradient_evaluations",
    "geometry_xyz",
]


def descriptor_row(structure_path: str | Path, properties_path: str | Path) -> dict:
    s = Record.read(structure_path)
    p = Record.read(properties_path)
    failed = s if not s.ok else (p if not p.ok else None)
    search = s.results.get("conformer_search", {})
    spread = search.get("optimized_energies_rel_kcal_per_mol") or []
    eng_s = s.timings.get("engine", {})
    eng_p = p.timings.get("engine", {})
    engine = p.settings.get("engine") or s.settings.get("engine") or {}
    row = {
        "name": s.name,
        "kind": s.inputs.get("kind"),
        "smiles": s.inputs.get("smiles"),
        "status": "ok" if failed is None else "failed",
        "failure_reason": "" if failed is None else f"{failed.stage}: {failed.failure.get('reason')}",
        "charge_e": s.results.get("charge"),
        "n_atoms": s.results.get("n_atoms"),
        "n_conformers_embedded": search.get("n_embedded"),
        "n_conformers_optimized": search.get("n_optimized"),
        "conformer_spread_kcal_per_mol": max(spread) if spread else None,
        "method": engine.get("method"),
        "engine": engine.get("backend"),
        "engine_version": p.provenance.get("engine_version") or s.provenance.get("engine_version"),
        "solvent_model": f"ALPB({engine['solvent']})" if engine.get("solvent") else "gas phase",
        "structure_wall_s": s.timings.get("wall_s"),
        "properties_wall_s": p.timings.get("wall_s"),
        "xtb_s": (eng_s.get("seconds_in_xtb") or 0) + (eng_p.get("seconds_in_xtb") or 0),
        "gradient_evaluations": (eng_s.get("gradients") or 0) + (eng_p.get("gradients") or 0),
        "geometry_xyz": str(Path(structure_path).parent / s.files["xyz"]) if s.ok else "",
    }
    if p.ok:
        for key in DESCRIPTOR_COLUMNS:
            if key in p.results:
                row[key] = p.results[key]
    return row


def aggregate_descriptors(pairs: list[tuple[str, str]], out_csv: str | Path) -> list[dict]:
    """One row per molecule (values or a failure reason) from (structure, properties) record paths."""
    rows = [descriptor_row(s, p) for s, p in pairs]
    write_csv(out_csv, rows, DESCRIPTOR_COLUMNS)
    return rows
