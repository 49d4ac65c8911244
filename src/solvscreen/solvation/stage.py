"""Solvation stage: stepwise solvation free energies, the anion's competing step and the
solvating power of one solvent/diluent with one cation, and ``solvating_power.csv``.

Record ``solvation/<cation>/<name>.json``; companion files ``n<k>.xyz`` (lowest M+(L)k) and
``anion.xyz`` (lowest M+(L)n_last-1 A-) in the record's directory. The chemistry is
:mod:`solvscreen.solvation`.
"""

from __future__ import annotations

import math
import time
from dataclasses import replace
from pathlib import Path

from ..complexes import BindingSettings, Fragment, cation_spec
from ..xtb.engine import EngineSettings
from ..core.errors import CalculationFailed, InputError
from ..core.records import Record, write_csv
from .clusters import monodentate_form
from .settings import SolvationSettings
from .stepwise import (
    ALPB_DIELECTRIC,
    SolvationResult,
    ensemble_dipole,
    free_species,
    nearest_alpb_solvent,
    onsager_dielectric,
    stepwise_solvation,
)
from .thermo import neat_liquid_term
from ..xtb.structures import mol_from_smiles, read_xyz, xyz_block
from ..stages.binding import check_engine_consistency
from ..stages.harness import StageContext, read_record, run_stage
from ..stages.structure import load_structure


def dielectric_of(liquid: dict, engine_gas, numbers, conformers, T: float) -> tuple[float, str]:
    """The library's dielectric constant and source, or Onsager's estimate from the GFN2-xTB
    conformer-averaged dipole and the molar volume (the stated method where none is known)."""
    eps = liquid.get("dielectric_constant")
    if eps:
        return float(eps), str(liquid.get("dielectric_source") or "library")
    rho, mm = liquid.get("density_g_per_mL"), liquid.get("molar_mass_g_per_mol")
    if not rho or not mm:
        raise CalculationFailed("no dielectric constant in the library and no density to estimate one",
                                error_type="input")
    mu = ensemble_dipole(engine_gas, numbers, conformers, T)
    eps = onsager_dielectric(mu, mm / rho, T)
    return round(eps, 2), (f"estimate: Onsager equation, GFN2-xTB Boltzmann-averaged dipole {mu:.2f} D, "
                           f"molar volume {mm / rho:.1f} mL/mol, n^2 = 2.0")


def _bound_fragment(rec: Record, path: Path, mol, engine, cation, binding: BindingSettings) -> Fragment:
    numbers, xyz, _ = read_xyz(path.parent / rec.files["xyz"])
    sp = engine.singlepoint(numbers, xyz, charge=int(rec.results["complex_charge"]))
    return Fragment.from_complex(rec.name, mol, xyz, sp.charges_e, cation, binding.denticity_factor)


def run_solvation(ligand_structure, binding_record, cation_structure, anion_structure, ion_pair_record, out,
                  liquid: dict, engine_settings: EngineSettings = EngineSettings(),
                  binding: BindingSettings = BindingSettings(),
                  settings: SolvationSettings = SolvationSettings()) -> Record:
    """Solvation record of one solvent/diluent with one cation (and the settings' anion)."""
    binding_record, ion_pair_record = Path(binding_record), Path(ion_pair_record)
    lig, cat, an = (load_structure(p) for p in (ligand_structure, cation_structure, anion_structure))
    bind_rec = read_record(binding_record, "binding")
    ip_rec = read_record(ion_pair_record, "ion_pair")

    def compute(ctx: StageContext) -> SolvationResult:
        for r in (bind_rec, ip_rec, lig.record):
            check_engine_consistency(r, engine_settings)
        if engine_settings.solvent:
            raise InputError("the solvation stage sets its own continuum (the candidate's dielectric constant); "
                             "run it with a gas-phase engine section")
        cation = cation_spec(bind_rec.results["cation"])
        if cation_spec(ip_rec.results["cation"]) != cation:
            raise InputError(f"{ion_pair_record}: ion pair with {ip_rec.results['cation']}, not {cation.symbol}")
        t0 = time.perf_counter()
        s = settings
        gas = ctx.engine(engine_settings)
        eps, eps_src = dielectric_of(liquid, gas, lig.numbers, lig.ensemble, s.temperature_K)
        continuum = nearest_alpb_solvent(eps)
        engine = ctx.engine(replace(engine_settings, solvent=continuum))
        rt_ln_l, conc = neat_liquid_term(float(liquid["density_g_per_mL"]), float(liquid["molar_mass_g_per_mol"]),
                                         s.temperature_K)
        mol = mol_from_smiles(lig.record.inputs["smiles"])
        free_l = free_species(engine, lig.numbers, lig.charge, lig.ensemble, s)
        e_cat = engine.singlepoint(cat.numbers, cat.positions_A, charge=cat.charge).energy_Eh
        chelate = _bound_fragment(bind_rec, binding_record, mol, engine, cation, binding)
        mono = None
        if int(bind_rec.results["denticity"]) > 1:
            q = engine.singlepoint(lig.numbers, free_l.positions_A, charge=lig.charge).charges_e
            mono = monodentate_form(chelate, mol, free_l.positions_A, q, cation)
        anion_form = free_a = None
        a_charge = an.charge
        if ip_rec.ok and an.ok:
            free_a = free_species(engine, an.numbers, an.charge, an.ensemble, s)
            anion_form = _bound_fragment(ip_rec, ion_pair_record, mol_from_smiles(an.record.inputs["smiles"]), engine,
                                         cation, binding)
        t1 = time.perf_counter()
        steps, info, anion_step = stepwise_solvation(engine, cation, chelate, mono, free_l, e_cat, anion_form, free_a,
                                                     a_charge, (rt_ln_l, conc), s, binding)
        for k, mins in info["layers"].items():
            if k:
                m = mins[0]
                ctx.write_file(f"n{k}_xyz", f"n{k}.xyz", xyz_block(m.numbers, m.positions_A,
                               f"{cation.symbol}+({lig.name}){k} E={m.energy_Eh:.10f} Eh G={m.G_kcal:.3f} kcal/mol"))
        last = steps[-1]
        dga = None
        if anion_step:
            m = anion_step.pop("lowest")
            dga = anion_step["dG_kcal_per_mol"]
            ctx.write_file("anion_xyz", "anion.xyz", xyz_block(m.numbers, m.positions_A,
                           f"{cation.symbol}+({lig.name}){last.n - 1}({an.name}) E={m.energy_Eh:.10f} Eh"))
        n_sat = last.n - 1 if last.dG_kcal_per_mol > 0 else last.n
        err = math.hypot(s.method_error_kcal_per_mol, last.spread_kcal_per_mol / 2)
        ctx.timing(phases_s={"free_species": round(t1 - t0, 3), "clusters": round(time.perf_counter() - t1, 3)})
        return SolvationResult(
            cation=cation.symbol,
            anion=an.name,
            solvating_power_kcal_per_mol=-last.dG_kcal_per_mol,
            solvating_power_err_kcal_per_mol=err,
            n_saturation=n_sat,
            n_last=last.n,
            stop_reason=info["stop_reason"],
            dG_steps_kcal_per_mol=";".join(f"{st.n}:{st.dG_kcal_per_mol:.2f}" for st in steps),
            dG_anion_last_site_kcal_per_mol=dga,
            anion_wins_last_site=None if dga is None else bool(dga < last.dG_kcal_per_mol),
            dielectric_constant=eps,
            dielectric_source=eps_src,
            continuum=f"ALPB({continuum}, eps {ALPB_DIELECTRIC[continuum]:g})",
            neat_concentration_mol_per_L=conc,
            RT_ln_L_kcal_per_mol=rt_ln_l,
            steps=[st.__dict__ for st in steps],
            anion_step=anion_step,
            standard_state={
                "gas_to_1M_kcal_per_mol": info["ss_kcal_per_mol"],
                "RT_ln_L_kcal_per_mol": rt_ln_l,
                "text": "G = E(GFN2-xTB, ALPB(eps)) + G_qRRHO(1 atm); each step: -RT ln(24.465) for the particle "
                        "lost (1 atm -> 1 M), -RT ln[L] for the solvent taken from its neat liquid; the anion at 1 M",
            },
            species={"ligand": {"G_kcal_per_mol": free_l.G_kcal, "E_Eh": free_l.energy_Eh},
                     "anion": None if free_a is None else {"G_kcal_per_mol": free_a.G_kcal, "E_Eh": free_a.energy_Eh},
                     "cation_E_Eh": e_cat},
        )

    return run_stage(
        "solvation", lig.name, out, compute,
        inputs={"ligand": lig.name, "smiles": lig.record.inputs.get("smiles"), "kind": lig.record.inputs.get("kind"),
                "cation": cat.name, "anion": an.name, "binding_record": str(binding_record),
                "ion_pair_record": str(ion_pair_record), "liquid": liquid},
        settings={"engine": engine_settings.to_dict(), "binding": binding.to_dict(), "solvation": settings.to_dict()},
        requires=[lig.record, cat.record, bind_rec],
    )


SOLVATION_COLUMNS = ["name", "cation", "status", "failure_reason", *SolvationResult.COLUMNS,
                     "wall_s", "gradient_evaluations", "record"]


def solvation_row(path: str | Path) -> dict:
    r = read_record(path, "solvation")
    row = {"name": r.name, "cation": r.inputs.get("cation"), "status": r.status,
           "failure_reason": "" if r.ok else f"solvation: {(r.failure or {}).get('reason')}",
           "wall_s": r.timings.get("wall_s"), "gradient_evaluations": (r.timings.get("engine") or {}).get("gradients"),
           "record": str(path)}
    if r.ok:
        row.update(SolvationResult.row_from_results(r.results))
    return row


def aggregate_solvation(records: list[str | Path], out_csv: str | Path) -> list[dict]:
    rows = [solvation_row(p) for p in records]
    write_csv(out_csv, rows, SOLVATION_COLUMNS)
    return rows

