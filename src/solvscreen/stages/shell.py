"""Shell stage: the filled first shell M+(L)n and the anion exchange of one ligand, and ``shells.csv``.

Record ``shells/<cation>/<name>.json``; companion files ``shell.xyz`` and
``exchange_<anion>.xyz`` in the record's directory. The chemistry is
:mod:`solvscreen.complexes.shells`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from ..complexes import (
    BindingSettings,
    CationSpec,
    ClusterResult,
    Fragment,
    build_exchange,
    build_shell,
    cation_spec,
    cluster_problem,
    shell_size,
)
from ..xtb.engine import Engine, EngineSettings
from ..core.errors import CalculationFailed, InputError
from ..core.records import Record, StageResult, write_csv
from ..xtb.structures import mol_from_smiles, read_xyz, xyz_block
from ..core.units import HARTREE_TO_KCAL_PER_MOL
from .binding import check_engine_consistency
from .harness import StageContext, read_record, run_stage

DEFINITIONS = {
    "E_shell_per_ligand": "(E(M+Ln) - E(M+) - n E(L, lowest conformer)) / n; negative = bound",
    "E_exchange": "E(M+L(n-1)A-) + E(L) - E(M+Ln) - E(A-); negative = the anion enters the shell favourably",
    "shell_coordination_number": "donor atoms within denticity_factor x the ideal M-donor distance "
                                 "in the optimized shell",
}


@dataclass
class ShellResult(StageResult):
    """What a shell record stores; ``COLUMNS`` are its shells.csv columns (besides the
    per-anion ``E_exchange_kcal_per_mol`` of :func:`shell_rows`)."""

    COLUMNS = ("shell_n", "shell_coordination_number", "E_shell_per_ligand_kcal_per_mol", "n_bound_ligands",
               "shell_n_reason")
    RECORD_STAGES = ("shell",)

    cation: str
    ligand_charge: int
    shell_n: int
    shell_n_reason: str
    target_coordination_number: int
    denticity_1to1: int
    shell_coordination_number: int
    n_bound_ligands: int
    E_shell_Eh: float
    E_shell_per_ligand_kcal_per_mol: float
    E_cation_Eh: float
    E_ligand_Eh: float
    shell_optimization_converged: bool
    shell_search: dict
    exchange: list = field(default_factory=list)
    definitions: dict = field(default_factory=lambda: dict(DEFINITIONS))


def _fragment(rec: Record, path: Path, engine: Engine, cation: CationSpec, settings: BindingSettings) -> Fragment:
    """The bound molecule of a binding/ion-pair record, with GFN charges, in the cation's frame."""
    mol = mol_from_smiles(rec.inputs["smiles"])
    numbers, xyz, _ = read_xyz(path.parent / rec.files["xyz"])
    sp = engine.system(numbers, int(rec.results["complex_charge"])).compute(xyz, gradient=False)
    return Fragment.from_complex(rec.name, mol, xyz, sp.charges_e, cation, settings.denticity_factor)


def _exchange(ctx: StageContext, engine: Engine, ip_path: Path, shell: ClusterResult, ligand: Fragment, n: int,
              cation: CationSpec, settings: BindingSettings, lig_charge: int, e_l: float, name: str) -> dict:
    """One anion's exchange into the shell: an entry of ``ShellResult.exchange`` (failures too)."""
    ip = read_record(ip_path, "ion_pair")
    entry = {"anion": ip.name, "ion_pair_record": str(ip_path)}
    try:
        if not ip.ok:
            raise CalculationFailed(f"ion pair {ip.name} failed: {(ip.failure or {}).get('reason')}",
                                    error_type="ion_pair")
        if cation_spec(ip.results["cation"]) != cation:
            raise InputError(f"{ip_path}: ion pair with {ip.results['cation']}, shell of {cation.symbol}")
        e_a = float(ip.results["E_ligand_Eh"])
        a_charge = int(ip.results["ligand_charge"])
        if n == 1:  # M+L + A- -> M+A- + L: the ion pair itself
            e_mix, conv, info = float(ip.results["E_complex_Eh"]), True, {"from": "ion-pair record"}
        else:
            anion = _fragment(ip, ip_path, engine, cation, settings)
            mix = build_exchange(engine, shell, ligand, n, anion, cation, settings,
                                 (n - 1) * lig_charge + a_charge + cation.charge)
            e_mix, conv, info = mix.energy_Eh, mix.converged, mix.summary
            ctx.write_file(f"exchange_{ip.name}_xyz", f"exchange_{ip.name}.xyz", xyz_block(
                mix.numbers, mix.positions_A, f"{cation.symbol}+({name}){n - 1}({ip.name}) E={mix.energy_Eh:.10f} Eh"))
        entry.update({
            "status": "ok",
            "E_exchange_kcal_per_mol": (e_mix + e_l - shell.energy_Eh - e_a) * HARTREE_TO_KCAL_PER_MOL,
            "E_mixed_shell_Eh": e_mix,
            "E_anion_Eh": e_a,
            "optimization_converged": conv,
            "search": info,
        })
    except CalculationFailed as exc:
        entry.update({"status": "failed", "failure_reason": str(exc), "error_type": exc.error_type})
    return entry


def run_shell(
    binding_record: str | Path,
    ion_pair_records: list[str | Path],
    out: str | Path,
    engine_settings: EngineSettings = EngineSettings(),
    settings: BindingSettings = BindingSettings(),
) -> Record:
    """Shell and anion-exchange record of one ligand with one cation."""
    binding_record = Path(binding_record)
    bind_rec = read_record(binding_record, "binding")

    def compute(ctx: StageContext) -> ShellResult:
        check_engine_consistency(bind_rec, engine_settings)
        engine = ctx.engine(engine_settings)
        t0 = time.perf_counter()
        res = bind_rec.results
        cation = cation_spec(res["cation"])
        e_m, e_l = float(res["E_cation_Eh"]), float(res["E_ligand_Eh"])
        lig_charge = int(res["ligand_charge"])
        ligand = _fragment(bind_rec, binding_record, engine, cation, settings)
        dent = int(res["denticity"])
        n, why = shell_size(cation, dent, len(ligand.numbers), settings)
        if n == 1:  # the filled shell is the 1:1 complex itself
            numbers, xyz, _ = read_xyz(binding_record.parent / bind_rec.files["xyz"])
            _, info = cluster_problem([ligand.mol], xyz, cation, settings)
            shell = ClusterResult(numbers, xyz, float(res["E_complex_Eh"]), True, 0,
                                  {"from": "1:1 binding record", **info})
        else:
            shell = build_shell(engine, ligand, n, cation, settings, n * lig_charge + cation.charge)
        ctx.write_file("xyz", "shell.xyz", xyz_block(shell.numbers, shell.positions_A,
                                                     f"{cation.symbol}+({bind_rec.name}){n} E={shell.energy_Eh:.10f} Eh"))
        t_shell = time.perf_counter()
        exchanges = [_exchange(ctx, engine, Path(p), shell, ligand, n, cation, settings, lig_charge, e_l,
                               bind_rec.name) for p in ion_pair_records]
        ctx.timing(phases_s={"shell": round(t_shell - t0, 3), "exchange": round(time.perf_counter() - t_shell, 3)})
        return ShellResult(
            cation=cation.symbol,
            ligand_charge=lig_charge,
            shell_n=n,
            shell_n_reason=why,
            target_coordination_number=settings.target_cn(cation),
            denticity_1to1=dent,
            shell_coordination_number=shell.summary["coordination_number"],
            n_bound_ligands=shell.summary["n_bound_molecules"],
            E_shell_Eh=shell.energy_Eh,
            E_shell_per_ligand_kcal_per_mol=(shell.energy_Eh - e_m - n * e_l) / n * HARTREE_TO_KCAL_PER_MOL,
            E_cation_Eh=e_m,
            E_ligand_Eh=e_l,
            shell_optimization_converged=shell.converged,
            shell_search=shell.summary,
            exchange=exchanges,
        )

    return run_stage(
        "shell", bind_rec.name, out, compute,
        inputs={
            "ligand": bind_rec.name,
            "smiles": bind_rec.inputs.get("smiles"),
            "kind": bind_rec.inputs.get("kind"),
            "cation": bind_rec.inputs.get("cation"),
            "binding_record": str(binding_record),
            "ion_pair_records": [str(p) for p in ion_pair_records],
        },
        settings={"engine": engine_settings.to_dict(), "binding": settings.to_dict()},
        requires=[bind_rec],
    )


SHELL_COLUMNS = [
    "name", "cation", "anion", "status", "failure_reason",
    *ShellResult.COLUMNS, "E_exchange_kcal_per_mol",
    "wall_s", "gradient_evaluations", "record",
]


def shell_rows(path: str | Path) -> list[dict]:
    """shells.csv rows of one shell record: one per exchange anion (one row if there is none)."""
    r = read_record(path, "shell")
    base = {
        "name": r.name,
        "cation": r.inputs.get("cation"),
        "status": r.status,
        "failure_reason": "" if r.ok else f"shell: {(r.failure or {}).get('reason')}",
        "wall_s": r.timings.get("wall_s"),
        "gradient_evaluations": (r.timings.get("engine") or {}).get("gradients"),
        "record": str(path),
    }
    if r.ok:
        base.update(ShellResult.row_from_results(r.results))
    exchanges = r.results.get("exchange") or []
    if not exchanges:
        return [{**base, "anion": ""}]
    rows = []
    for ex in exchanges:
        row = {**base, "anion": ex.get("anion")}
        if ex.get("status") == "ok":
            row["E_exchange_kcal_per_mol"] = ex.get("E_exchange_kcal_per_mol")
        elif r.ok:
            row["status"] = "failed"
            row["failure_reason"] = f"exchange {ex.get('anion')}: {ex.get('failure_reason')}"
        rows.append(row)
    return rows


def aggregate_shells(records: list[str | Path], out_csv: str | Path) -> list[dict]:
    rows = [row for p in records for row in shell_rows(p)]
    write_csv(out_csv, rows, SHELL_COLUMNS)
    return rows
