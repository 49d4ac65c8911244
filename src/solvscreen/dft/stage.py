"""Stage runners of the DFT stage: one record per (ligand, cation), and the aggregate tables.

``run_dft`` reads the binding stage's record of the complex and the structure stage's
record of the free ligand (geometries through ``Path(record).parent / record.files["xyz"]``),
refines the complex at the DFT level and writes ``results/dft/<cation>/<name>.json`` with
the DFT geometries in ``results/dft/<cation>/<name>/``. ``aggregate_dft`` joins the records
with ``binding.csv`` into ``dft_binding.csv`` and fits the calibration
(``dft_calibration.json``).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from ..core.errors import InputError
from ..core.records import Record, write_csv, write_json
from ..core.records import parse_number as _f
from ..core.result_tables import ion_key, read_rows
from ..stages.harness import StageResult, read_record, run_stage
from ..xtb.structures import read_xyz, xyz_block
from .binding import dft_binding
from .calibrate import MIN_POINTS, donor_number_correlation, fit_calibration
from .level import choose_backend, provenance
from .settings import DFTSettings, canonical_basis

log = logging.getLogger("solvscreen.dft")

__all__ = ["DFT_COLUMNS", "DFTResult", "aggregate_dft", "run_dft"]

DFT_COLUMNS = [
    "name", "cation", "status", "failure_reason",
    "E_bind_gfn2_kcal_per_mol", "E_bind_dft_kcal_per_mol",
    "E_bind_calibrated_kcal_per_mol", "E_bind_calibrated_err_kcal_per_mol",
    "E_bind_best_kcal_per_mol", "E_bind_best_source",
    "d_K_donor_gfn2_A", "d_K_donor_dft_A", "homo_dft_eV", "lumo_dft_eV",
    "level", "basis", "dispersion", "relax", "n_basis_functions", "dft_wall_s",
]
"""dft_binding.csv (the classification stage may read these names; keep them).
d_K_donor_*: shortest cation-donor distance over the GFN2 binding mode's donor atoms (the
column keeps the K name for every cation). homo/lumo_dft_eV: of the free ligand."""


@dataclass
class DFTResult(StageResult):
    COLUMNS: ClassVar[tuple[str, ...]] = (
        "E_bind_dft_kcal_per_mol", "E_bind_gfn2_kcal_per_mol", "d_K_donor_gfn2_A", "d_K_donor_dft_A",
        "homo_dft_eV", "lumo_dft_eV", "level", "basis", "dispersion", "relax", "n_basis_functions",
    )
    RECORD_STAGES: ClassVar[tuple[str, ...]] = ("dft",)
    # what dft_binding.csv and its calibration are built from (a DFT record costs hours: one written
    # before a later field was added stays a result)
    REQUIRED_RESULTS: ClassVar[dict[str, str]] = {
        "cation": "string", "E_bind_dft_kcal_per_mol": "number", "E_bind_gfn2_kcal_per_mol": "number",
        "level": "string", "basis": "string", "relax": "string"}
    cation: str
    E_bind_dft_kcal_per_mol: float
    E_bind_gfn2_kcal_per_mol: float | None
    E_complex_Eh: float
    E_cation_Eh: float
    E_ligand_Eh: float
    dispersion_bind_kcal_per_mol: float | None
    d_K_donor_gfn2_A: float | None
    d_K_donor_dft_A: float | None
    homo_dft_eV: float | None
    lumo_dft_eV: float | None
    homo_complex_eV: float | None
    lumo_complex_eV: float | None
    level: str
    basis: str
    dispersion: str
    relax: str
    moved_atoms: list[int]
    ligand_geometry: str
    n_basis_functions: int
    n_basis_functions_ligand: int
    relax_steps: int
    ligand_relax_steps: int
    scf_retries: int
    seconds: dict
    sign_convention: str = "E_bind = E(M+.L) - E(M+) - E(L); negative = bound"


def _donor_indices(labels) -> list[int]:
    """'O3' -> 3 (element + 0-based ligand atom index, the binding record's labels)."""
    out = []
    for lab in labels or []:
        m = re.fullmatch(r"[A-Z][a-z]?(\d+)", str(lab))
        if not m:
            raise InputError(f"dft: unreadable donor atom label {lab!r} in the binding record")
        out.append(int(m.group(1)))
    return out


def run_dft(binding_record: str | Path, ligand_structure: str | Path, out: str | Path,
            settings: DFTSettings = DFTSettings(), threads: int = 1) -> Record:
    """DFT binding record of one ligand with one cation (see the module docstring)."""
    binding_record, ligand_structure = Path(binding_record), Path(ligand_structure)
    brec = read_record(binding_record, "binding")
    lrec = read_record(ligand_structure, "structure")
    level = settings.level_of_theory(threads)
    relax_basis = canonical_basis(settings.relax_basis) if settings.relax_basis else None
    basis_label = f"{level.basis}//{relax_basis}" if relax_basis and relax_basis != level.basis else level.basis
    name = brec.name if brec.name else lrec.name
    cation = brec.inputs.get("cation") or brec.results.get("cation")

    def compute(ctx):
        backend = choose_backend(level.backend)
        ctx.provenance(**provenance(level, backend), relax_mode=settings.relax,
                       dft_relax_basis=relax_basis or level.basis)
        zc, xc, _ = read_xyz(binding_record.parent / brec.files["xyz"])
        zl, xl, _ = read_xyz(ligand_structure.parent / lrec.files["xyz"])
        res = brec.results
        q_complex = int(res["complex_charge"])
        q_lig = int(res.get("ligand_charge", lrec.results.get("charge", 0)))
        donors = _donor_indices(res.get("donor_atoms"))
        b = dft_binding(zc, xc, zl, xl, q_lig, q_complex - q_lig, level, settings.relax, donors,
                        settings.ligand_geometry, int(lrec.results.get("uhf", 0) or 0), settings.max_steps,
                        backend, relax_basis)
        e_kcal = b.E_bind_kcal_per_mol
        ctx.write_file("xyz", f"{name}.complex.xyz", xyz_block(
            zc, b.complex.positions_A, f"{cation}+ . {name} E={b.E_complex_Eh:.10f} Eh E_bind={e_kcal:.3f} kcal/mol "
            f"{level.label}/{basis_label} relax={settings.relax}"))
        if b.ligand_geometry == "relax":
            ctx.write_file("ligand_xyz", f"{name}.ligand.xyz", xyz_block(
                zl, b.ligand.positions_A, f"{name} E={b.E_ligand_Eh:.10f} Eh {level.label}/{level.basis} relaxed"))
        retries = sum(max(0, len(sp.scf_attempts) - 1) for sp in (b.complex.final, b.ligand.final, b.cation))
        ctx.count(dft_gradients=b.complex.n_steps + b.ligand.n_steps, dft_scf_retries=retries)
        log.info("%s + %s: E_bind %.2f kcal/mol (GFN2 %.2f), d %.3f -> %.3f A, %d steps, %.0f s",
                 name, cation, e_kcal, res.get("E_bind_kcal_per_mol", float("nan")),
                 b.d_M_donor_start_A or float("nan"), b.d_M_donor_A or float("nan"), b.complex.n_steps, b.wall_s)
        return DFTResult(
            cation=cation, E_bind_dft_kcal_per_mol=e_kcal,
            E_bind_gfn2_kcal_per_mol=res.get("E_bind_kcal_per_mol"),
            E_complex_Eh=b.E_complex_Eh, E_cation_Eh=b.E_cation_Eh, E_ligand_Eh=b.E_ligand_Eh,
            dispersion_bind_kcal_per_mol=b.dispersion_bind_kcal_per_mol,
            d_K_donor_gfn2_A=b.d_M_donor_start_A, d_K_donor_dft_A=b.d_M_donor_A,
            homo_dft_eV=b.ligand.final.homo_eV, lumo_dft_eV=b.ligand.final.lumo_eV,
            homo_complex_eV=b.complex.final.homo_eV, lumo_complex_eV=b.complex.final.lumo_eV,
            level=level.label, basis=basis_label, dispersion=level.dispersion, relax=settings.relax,
            moved_atoms=b.complex.moved_atoms, ligand_geometry=b.ligand_geometry,
            n_basis_functions=b.complex.final.n_basis_functions,
            n_basis_functions_ligand=b.ligand.final.n_basis_functions,
            relax_steps=b.complex.n_steps, ligand_relax_steps=b.ligand.n_steps, scf_retries=retries,
            seconds={"complex": b.complex.wall_s, "complex_first_singlepoint": b.complex.first_scf_s,
                     "complex_final_singlepoint": b.complex.final.wall_s,
                     "ligand": b.ligand.wall_s, "cation": b.cation.wall_s, "total": b.wall_s},
        )

    out = Path(out)
    return run_stage(
        "dft", name, out, compute,
        inputs={"ligand": name, "cation": cation, "smiles": brec.inputs.get("smiles"), "kind": brec.inputs.get("kind"),
                "binding_record": str(binding_record), "ligand_structure": str(ligand_structure)},
        settings={"dft": settings.to_dict(), "level": level.to_dict()},
        requires=[brec, lrec],
    )


# ----------------------------------------------------------------------------- aggregation
def _min_distance(cell) -> float | None:
    vals = [_f(s) for s in str(cell or "").split(";")]
    vals = [v for v in vals if v is not None]
    return min(vals) if vals else None


def aggregate_dft(binding_csv: str | Path, records: list[str | Path], out_csv: str | Path,
                  out_json: str | Path) -> tuple[list[dict], dict]:
    """dft_binding.csv (one row per binding.csv row) and dft_calibration.json (per cation)."""
    recs: dict[tuple[str, str], tuple[Record, Path]] = {}
    for p in records:
        r = read_record(p, "dft")
        cat = r.inputs.get("cation") or Path(p).parent.name
        recs[(r.name, ion_key(cat))] = (r, Path(p))
    rows = []
    for b in read_rows(binding_csv):
        key = (b["name"], ion_key(b["cation"]))
        rec = recs.get(key, (None, None))[0]
        row = {"name": b["name"], "cation": b["cation"], "kind": b.get("kind"),
               "E_bind_gfn2_kcal_per_mol": _f(b.get("E_bind_kcal_per_mol")) if b.get("status") == "ok" else None,
               "d_K_donor_gfn2_A": _min_distance(b.get("M_donor_distances_A"))}
        if rec is None:
            row.update(status="not_computed", failure_reason="")
        elif not rec.ok:
            row.update(status="failed", failure_reason=f"dft: {(rec.failure or {}).get('reason')}")
        else:
            r = rec.results
            row.update(status="ok", failure_reason="", **{c: r.get(c) for c in DFTResult.COLUMNS if c != "E_bind_gfn2_kcal_per_mol"},
                       dft_wall_s=rec.timings.get("wall_s"))
        rows.append(row)
    calibration: dict = {"model": "E_bind_dft = slope * E_bind_gfn2 + intercept (kcal/mol), OLS",
                         "uncertainty": "1 sigma: max(OLS prediction standard error, leave-one-out RMSE)",
                         "fitted_on": "solvents and diluents with an ok DFT and GFN2 value", "cations": {}}
    for cat in dict.fromkeys(r["cation"] for r in rows):
        pts = [r for r in rows if r["cation"] == cat and r["status"] == "ok" and r["E_bind_gfn2_kcal_per_mol"] is not None
               and r.get("kind") in ("solvent", "diluent")]
        levels = sorted({(r["level"], r["basis"], r["relax"]) for r in pts})
        entry: dict = {"n": len(pts), "levels": [list(lv) for lv in levels]}
        cal = None
        if len(levels) > 1:
            entry["note"] = "records at different levels; no calibration fitted"
        elif len(pts) >= MIN_POINTS:
            try:
                cal = fit_calibration([r["name"] for r in pts], [r["E_bind_gfn2_kcal_per_mol"] for r in pts],
                                      [r["E_bind_dft_kcal_per_mol"] for r in pts])
                entry.update(cal.to_dict())
            except ValueError as exc:
                entry["note"] = str(exc)
        else:
            entry["note"] = f"{len(pts)} molecule(s) with DFT; at least {MIN_POINTS} are needed for a calibration"
        entry["donor_number_correlation"] = donor_number_correlation(
            [r["name"] for r in pts], [r["E_bind_dft_kcal_per_mol"] for r in pts])
        calibration["cations"][cat] = entry
        for r in rows:
            if r["cation"] != cat:
                continue
            neutral = r.get("kind") in ("solvent", "diluent")
            if cal is not None and neutral and r["E_bind_gfn2_kcal_per_mol"] is not None:
                v, e = cal.predict(r["E_bind_gfn2_kcal_per_mol"])
                r["E_bind_calibrated_kcal_per_mol"], r["E_bind_calibrated_err_kcal_per_mol"] = v, e
            if r["status"] == "ok":
                r["E_bind_best_kcal_per_mol"], r["E_bind_best_source"] = r["E_bind_dft_kcal_per_mol"], "dft"
            elif r.get("E_bind_calibrated_kcal_per_mol") is not None:
                r["E_bind_best_kcal_per_mol"], r["E_bind_best_source"] = r["E_bind_calibrated_kcal_per_mol"], "calibrated_gfn2"
            elif r["E_bind_gfn2_kcal_per_mol"] is not None:
                r["E_bind_best_kcal_per_mol"], r["E_bind_best_source"] = r["E_bind_gfn2_kcal_per_mol"], "gfn2"
    write_csv(out_csv, rows, DFT_COLUMNS)
    write_json(out_json, calibration)
    return rows, calibration


# ----------------------------------------------------------------------------- orbitals only
@dataclass
class DFTOrbitals(StageResult):
    COLUMNS: ClassVar[tuple[str, ...]] = ("homo_dft_eV", "lumo_dft_eV", "level", "basis", "solvent_model")
    RECORD_STAGES: ClassVar[tuple[str, ...]] = ("dft_orbitals",)
    homo_dft_eV: float | None
    lumo_dft_eV: float | None
    energy_Eh: float
    level: str
    basis: str
    solvent_model: str
    n_basis_functions: int


def run_dft_orbitals(structure: str | Path, out: str | Path, settings: DFTSettings = DFTSettings(),
                     threads: int = 1) -> Record:
    """HOMO/LUMO of one molecule or ion at its GFN2 structure, at the DFT level (anions too:
    FSI- vs DME/EC, TFP vs TEP). Gas-phase anion levels sit too high; use ``solvent`` (PCM)."""
    from .singlepoint import singlepoint

    structure = Path(structure)
    srec = read_record(structure, "structure")
    level = settings.level_of_theory(threads)

    def compute(ctx):
        backend = choose_backend(level.backend)
        ctx.provenance(**provenance(level, backend))
        z, x, _ = read_xyz(structure.parent / srec.files["xyz"])
        sp, _ = singlepoint(z, x, int(srec.results.get("charge", 0)), level, int(srec.results.get("uhf", 0) or 0),
                            backend)
        return DFTOrbitals(sp.homo_eV, sp.lumo_eV, sp.energy_Eh, level.label, level.basis,
                           f"IEF-PCM(eps={level.solvent_eps:g})" if level.solvent_eps else "gas phase",
                           sp.n_basis_functions)

    out = Path(out)
    return run_stage("dft_orbitals", srec.name, out, compute, inputs={"structure": str(structure)},
                     settings={"dft": settings.to_dict(), "level": level.to_dict()}, requires=[srec])
