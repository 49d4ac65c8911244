"""Structure stage: the reference geometry of one molecule (conformer search), and reading it.

Record ``structures/<name>.json``; companion files in ``structures/<name>/``:
``geometry.xyz`` (the reference geometry), ``geometry.sdf`` (with bonds) and
``ensemble.xyz`` (every optimized conformer, lowest first). Every stage that needs a
geometry reads it with :func:`load_structure`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..xtb.conformers import find_lowest_conformer
from ..xtb.engine import EngineSettings
from ..core.records import Record, StageResult
from ..xtb.structures import ConformerSettings, mol_from_smiles, read_xyz, read_xyz_frames, sdf_block, xyz_block
from .harness import StageContext, read_record, run_stage


@dataclass
class StructureResult(StageResult):
    """What the structure record stores; ``COLUMNS`` are its descriptors.csv columns."""

    COLUMNS = ("charge_e", "n_atoms", "n_conformers_embedded", "n_conformers_optimized",
               "conformer_spread_kcal_per_mol")
    RECORD_STAGES = ("structure",)

    charge: int
    uhf: int
    n_atoms: int
    energy_Eh: float
    conformer_search: dict = field(default_factory=dict)

    @classmethod
    def row_from_results(cls, results: dict) -> dict:
        search = results.get("conformer_search") or {}
        spread = search.get("optimized_energies_rel_kcal_per_mol") or []
        return {
            "charge_e": results.get("charge"),
            "n_atoms": results.get("n_atoms"),
            "n_conformers_embedded": search.get("n_embedded"),
            "n_conformers_optimized": search.get("n_optimized"),
            "conformer_spread_kcal_per_mol": max(spread) if spread else None,
        }


def run_structure(
    name: str,
    smiles: str,
    kind: str,
    out: str | Path,
    engine_settings: EngineSettings = EngineSettings(),
    conformer_settings: ConformerSettings = ConformerSettings(),
) -> Record:
    """Find the reference geometry of one molecule; write ``out`` and its companion files."""

    def compute(ctx: StageContext) -> StructureResult:
        engine = ctx.engine(engine_settings)
        mol = mol_from_smiles(smiles)
        result = find_lowest_conformer(engine, mol, conformer_settings)
        comment = f"{name} {smiles} E={result.energy_Eh:.10f} Eh {engine_settings.method}"
        ctx.write_file("xyz", "geometry.xyz", xyz_block(result.numbers, result.positions_A, comment))
        ctx.write_file("sdf", "geometry.sdf", sdf_block(mol, result.positions_A, name,
                                                        {"smiles": smiles, "energy_Eh": result.energy_Eh}))
        ctx.write_file("ensemble_xyz", "ensemble.xyz", "".join(
            xyz_block(result.numbers, x, f"{name} conformer {i} E={e:.10f} Eh")
            for i, (x, e) in enumerate(zip(result.ensemble, result.ensemble_energies_Eh))))
        return StructureResult(charge=result.charge, uhf=result.uhf, n_atoms=int(result.numbers.size),
                               energy_Eh=result.energy_Eh, conformer_search=result.summary)

    return run_stage("structure", name, out, compute, inputs={"smiles": smiles, "kind": kind},
                     settings={"engine": engine_settings.to_dict(), "conformers": conformer_settings.to_dict()})


@dataclass
class Structure:
    """A structure record with its geometry read (``numbers`` etc. are None when it failed)."""

    record: Record
    path: Path
    numbers: np.ndarray | None = None
    positions_A: np.ndarray | None = None
    ensemble: list[np.ndarray] = field(default_factory=list)  # optimized conformers, lowest first

    @property
    def ok(self) -> bool:
        return self.record.ok

    @property
    def name(self) -> str:
        return self.record.name

    @property
    def charge(self) -> int:
        return int(self.record.results["charge"])

    @property
    def uhf(self) -> int:
        return int(self.record.results["uhf"])

    @property
    def energy_Eh(self) -> float:
        return float(self.record.results["energy_Eh"])

    @property
    def xyz_path(self) -> Path | None:
        return self.path.parent / self.record.files["xyz"] if self.ok else None


def load_structure(path: str | Path) -> Structure:
    """Read a structure record and its geometry; a missing record reads as a failed one."""
    path = Path(path)
    record = read_record(path, "structure")
    if not record.ok:
        return Structure(record, path)
    numbers, xyz, _ = read_xyz(path.parent / record.files["xyz"])
    ensemble: list[np.ndarray] = []
    ens = record.files.get("ensemble_xyz")
    if ens and (path.parent / ens).exists():
        ensemble = read_xyz_frames(path.parent / ens)
    return Structure(record, path, numbers, xyz, ensemble or [xyz])
