"""Stage runners of the MD stage (through :func:`solvscreen.stages.harness.run_stage`).

* :func:`run_params` -- one molecule's GAFF2/AM1-BCC parameters (stage ``md_params``);
* :func:`run_md` -- one formulation: box, system, MD for every seed, analysis (stage ``md``);
* :func:`run_neat` -- one neat liquid's density (stage ``md_neat``; the density check);
* :func:`aggregate` -- records -> ``solvation.csv`` and ``coordination.csv``.

Checkpoints and intermediate files of a running job live in a work directory beside the
record (``<results>/md/.<formulation>.work/``), not in the record's companion directory
(which the workflow declares as output and Snakemake removes before a rerun), so a killed
job resumes; it is removed once the record is written.
"""

from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path

import numpy as np

from ..core.errors import CalculationFailed
from ..core.records import write_csv
from ..stages.harness import read_record, run_stage
from .analysis import SpeciesSpec, analyse, rdf_csv
from .box import box_counts, check_box_size, composition_summary, neat_counts, pack
from .ions import ECC_REFERENCE, JC_REFERENCE, ion_parameters, is_monatomic_ion
from .params import MoleculeParams, antechamber_version, parametrize
from .settings import MDSettings
from .adaptive import run_until_decided
from .simulate import simulate
from .system import build_system, resname_of, run_tleap, total_charge, write_templates

log = logging.getLogger("solvscreen.md")

FORCEFIELD = "GAFF2 + Joung-Cheatham ions (TIP3P set)"
CHARGE_METHOD = "AM1-BCC (antechamber -j 5)"

SOLVATION_COLUMNS = (
    "formulation", "status", "failure_reason", "preset", "seed", "n_atoms", "n_cation", "n_anion",
    "ns_production", "density_g_per_mL", "density_g_per_mL_err",
    "ssip_fraction", "ssip_fraction_err", "cip_fraction", "cip_fraction_err", "agg_fraction", "agg_fraction_err",
    "anion_free_fraction", "anion_free_fraction_err", "anion_single_fraction", "anion_single_fraction_err",
    "anion_multi_fraction", "anion_multi_fraction_err", "anion_cn", "anion_cn_err", "solvent_cn",
    "total_cn", "total_cn_err", "anion_share_of_shell", "anion_share_of_shell_err",
    "charge_scale", "forcefield", "platform", "ns_per_day",
    # run until decided (screening, production presets); empty for a fixed-length run
    "starts", "ns_per_start", "criterion", "decision_threshold", "anion_cn_lo", "anion_cn_hi",
    "reference_formulation", "reference_anion_cn_lo", "reference_anion_cn_hi", "judged_lo", "judged_hi",
    "stop_status", "stop_reason", "cpu_hours", "job_wall_hours",
)
COORDINATION_COLUMNS = (
    "formulation", "species", "kind", "cn", "cn_err", "cn_donor_atoms", "cutoff_A", "cutoff_source",
    "enrichment", "enrichment_err", "bulk_mole_fraction", "shell_mole_fraction",
)
_VALUE_KEYS = list(SOLVATION_COLUMNS[SOLVATION_COLUMNS.index("density_g_per_mL"):
                                     SOLVATION_COLUMNS.index("anion_share_of_shell_err") + 1])


def _versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {"ambertools": antechamber_version()}
    for pkg in ("openmm", "MDAnalysis", "parmed", "packmol"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = None
    return out


# ----------------------------------------------------------------------------- parameters
def run_params(name: str, smiles: str, kind: str, out: str | Path, cache_dir: str | Path | None = None):
    """Record of one molecule's parameters (Joung-Cheatham for monatomic cations)."""

    def compute(ctx):
        ctx.provenance(forcefield=FORCEFIELD, charge_method=CHARGE_METHOD, **_versions())
        if is_monatomic_ion(smiles):
            ion = ion_parameters(smiles)
            return {"name": name, "monatomic_ion": True, "n_atoms": 1, "charge": ion.charge,
                    "rmin_half_A": ion.rmin_half_A, "epsilon_kcal_per_mol": ion.epsilon_kcal_per_mol,
                    "source": JC_REFERENCE, "max_penalty": 0.0, "penalties": []}
        p = parametrize(name, smiles, ctx.files_dir, cache_dir=cache_dir)
        ctx.file_path("mol2", p.mol2)
        ctx.file_path("frcmod", p.frcmod)
        d = p.to_dict()
        d["directory"] = ""  # the record's own companion directory
        d["monatomic_ion"] = False
        return d

    return run_stage("md_params", name, out, compute, inputs={"smiles": smiles, "kind": kind})


def params_from_record(rec, path: str | Path) -> MoleculeParams | None:
    """MoleculeParams of an ok ``md_params`` record read from ``path`` (None for a Joung-Cheatham ion)."""
    if rec.results.get("monatomic_ion"):
        return None
    p = MoleculeParams.from_dict(rec.results)
    p.directory = str((Path(path).parent / rec.files["mol2"]).parent)
    return p


def load_params(paths: dict[str, str | Path]) -> dict:
    """name -> (record, path) for md_params record paths (missing ones become failure records)."""
    return {n: (read_record(p, stage="md_params", name=n), Path(p)) for n, p in paths.items()}


# ----------------------------------------------------------------------------- one box
def _simulate_box(species: list[tuple[str, str, str, MoleculeParams | None]], box, settings: MDSettings,
                  seed: int, workdir: Path, *, start: str = "random", production_ps: float | None = None) -> tuple:
    """Pack, build and run one box for one seed and start kind in ``workdir`` (to
    ``production_ps`` of production, default the settings'); (SimulationResult, templates, prmtop)."""
    workdir.mkdir(parents=True, exist_ok=True)
    templates = write_templates(species, workdir)
    pdb_of = {t.name: t.pdb for t in templates}
    packed = workdir / "packed.pdb"
    stamp_file = workdir / "build.txt"  # what the packed box was built for: reused only for the same
    stamp = f"{settings.physics_hash(seed)} {start} {[(s.name, s.count) for s in box.species]}"
    prmtop, inpcrd = workdir / "system.prmtop", workdir / "system.inpcrd"
    ions = tuple(t.name for t in templates if t.kind in ("cation", "anion"))
    if not (prmtop.exists() and inpcrd.exists() and stamp_file.exists() and stamp_file.read_text() == stamp):
        edge = pack(box, pdb_of, packed, seed=seed, volume_factor=settings.packing_volume_factor,
                    tolerance_A=settings.packmol_tolerance_A, start=start, ions=ions)
        prmtop, inpcrd = run_tleap(templates, packed, edge, workdir)
        stamp_file.write_text(stamp)
    ion_res = {t.resname for t in templates if t.kind in ("cation", "anion")}
    system, topology, positions, _ = build_system(prmtop, inpcrd, cutoff_nm=settings.cutoff_nm,
                                                  charge_scale=settings.charge_scale, ion_resnames=ion_res,
                                                  hydrogen_mass_amu=settings.hydrogen_mass_amu)
    q = total_charge(system)
    if abs(q) > 1e-3:
        raise CalculationFailed(f"box is not neutral: total charge {q:.4f} e", error_type="topology")
    res = simulate(system, topology, positions, settings, seed, workdir, production_ps=production_ps)
    return res, templates, prmtop


def _run_dir(work_dir: Path, seed: int, kind: str) -> Path:
    return work_dir / (f"seed_{seed}" if kind == "random" else f"{kind}_seed_{seed}")


def _merge_dcd(prmtop: Path, dcds: list[str], out: Path) -> int:
    import MDAnalysis as mda

    u = mda.Universe(str(prmtop), dcds, format="DCD", topology_format="PARM7")
    with mda.Writer(str(out), u.atoms.n_atoms) as w:
        for _ in u.trajectory:
            w.write(u.atoms)
    return len(u.trajectory)


def _combine(per_seed: list[dict], key: str) -> tuple[float | None, float | None]:
    """Mean over seeds; error = max(block SE / sqrt(n), seed-to-seed SE) (one seed: its block SE)."""
    vals = [s[key] for s in per_seed if s.get(key) is not None]
    errs = [s.get(f"{key}_err") for s in per_seed]
    if not vals:
        return None, None
    m = float(np.mean(vals))
    errs = [e for e in errs if e is not None and np.isfinite(e)]
    block = float(np.sqrt(np.sum(np.square(errs))) / len(vals)) if errs else float("nan")
    if len(vals) == 1:
        return m, block
    seed_se = float(np.std(vals, ddof=1) / np.sqrt(len(vals)))
    return m, float(np.nanmax([block, seed_se]))


# ----------------------------------------------------------------------------- one formulation
def decision_setup(thresholds: dict, *, as_reference: bool = False, reference_record=None) -> tuple:
    """(criterion, threshold, reference) of a run-until-decided run.

    ``thresholds``: ``md_anion_cn_min`` and ``md_reference_anion_cn_excess_min`` (the
    classification settings'); ``reference_record``: the ok md record of the reference run."""
    if as_reference:
        return "precision", None, None
    if reference_record is not None and reference_record.ok and reference_record.results.get("decision"):
        d = reference_record.results["decision"]
        ref = {"formulation": reference_record.name, "interval": d["interval"], "status": d["status"],
               "production_ps": d["production_ps"], "cpu_hours": d["cpu_hours"]}
        return "reference", float(thresholds["md_reference_anion_cn_excess_min"]), ref
    return "absolute", float(thresholds["md_anion_cn_min"]), None


def run_md(formulation, library, params_records: dict, settings: MDSettings, out: str | Path, *,
           work_dir: str | Path | None = None, composition_settings=None, decision: tuple | None = None):
    """Record of one formulation's MD (stage ``md``); ``params_records``: library name -> (record, path).

    ``decision``: (criterion, threshold, reference) of :func:`decision_setup` for a preset with
    the stop rule (default: the absolute threshold 1 anion per K+)."""
    from ..inputs.composition import CompositionSettings, compose

    out = Path(out)
    work_dir = Path(work_dir) if work_dir else out.parent / f".{formulation.id}.work"
    salt = library.resolve(formulation.salt)
    names = [salt.cation, salt.anion, *formulation.component_names]

    def compute(ctx):
        t0 = time.perf_counter()
        ctx.provenance(forcefield=FORCEFIELD, charge_method=CHARGE_METHOD, charge_scale=settings.charge_scale,
                       ion_parameters=JC_REFERENCE, charge_scaling=ECC_REFERENCE, **_versions())
        comp = compose(formulation, library.resolve, composition_settings or CompositionSettings())
        params = {}
        for n in names:
            rec, path = params_records[n]
            params[n] = params_from_record(rec, path)
        atoms = {n: (1 if params[n] is None else params[n].n_atoms) for n in names}
        box = box_counts(comp, atoms, settings.target_atoms, salt.cation, salt.anion)
        check_box_size(box.edge_A, settings.cutoff_nm)
        log.info("%s: %s", formulation.id, composition_summary(box))
        kinds = {salt.cation: "cation", salt.anion: "anion"}
        species = [(s.name, kinds.get(s.name, "liquid"), library.resolve(s.name).smiles, params[s.name])
                   for s in box.species]
        per_seed, sims = [], []
        stop = None
        prod_ps = settings.production_ps
        if settings.stop_rule:
            crit, thr, ref = decision or ("absolute", 1.0, None)
            res_of = {n: resname_of(k, smi, p) for k, (n, _, smi, p) in enumerate(species)}
            an = next(x for x in species if x[0] == salt.anion)
            stop = run_until_decided(
                settings.runs,
                lambda seed, kind, t: _simulate_box(species, box, settings, seed, _run_dir(work_dir, seed, kind),
                                                    start=kind, production_ps=t)[::2],
                settings, work_dir, cation_res=res_of[salt.cation], anion_res=res_of[salt.anion],
                anion_elements=list(an[3].elements), threshold=thr, criterion=crit, reference=ref)
            prod_ps = stop["production_ps"]
        for seed, kind in settings.runs:
            wd = _run_dir(work_dir, seed, kind)
            log.info("%s: seed %d, %s start, in %s", formulation.id, seed, kind, wd)
            res, templates, prmtop = _simulate_box(species, box, settings, seed, wd, start=kind,
                                                   production_ps=prod_ps)
            specs = [SpeciesSpec(name, kind, t.resname,
                                 [ion_parameters(smi).element] if p is None else list(p.elements))
                     for (name, kind, smi, p), t in zip(species, templates)]
            t_an = time.perf_counter()
            a = analyse(str(prmtop), res.frames, specs, rdf_range_A=settings.rdf_range_A,
                        rdf_bin_A=settings.rdf_bin_A, n_blocks=settings.n_blocks,
                        density_series=res.prod_density_g_per_mL)
            a["analysis_s"] = round(time.perf_counter() - t_an, 2)
            a["seed"] = seed
            a["start"] = kind
            a["start_packing"] = (wd / "start.txt").read_text().strip() if (wd / "start.txt").exists() else kind
            a["simulation"] = {k: v for k, v in res.__dict__.items() if k not in ("frames", "equil_density_g_per_mL",
                                                                                   "prod_density_g_per_mL")}
            a["equil_density_g_per_mL"] = res.equil_density_g_per_mL
            a["prod_density_g_per_mL"] = res.prod_density_g_per_mL
            per_seed.append(a)
            sims.append((_run_tag(seed, kind), res, prmtop, wd))
        # files: topology, one trajectory per seed, RDFs, logs
        seed0, res0, prmtop0, wd0 = sims[0]
        shutil.copyfile(prmtop0, ctx.file_path("topology", "system.prmtop"))
        shutil.copyfile(wd0 / "packed.pdb", ctx.file_path("start_pdb", "packed.pdb"))
        for fn in ("packmol.inp", "tleap.in", "tleap.log"):
            if (wd0 / fn).exists():
                shutil.copyfile(wd0 / fn, ctx.file_path(fn.replace(".", "_"), fn))
        for seed, res, prmtop, wd in sims:
            _merge_dcd(prmtop, res.frames, ctx.file_path(f"trajectory_{seed}", f"production_{seed}.dcd"))
        ctx.write_file("rdf", "rdf.csv", rdf_csv(per_seed[0]["rdf"], salt.cation))
        # combine seeds
        row = {}
        for k in _VALUE_KEYS:
            if k.endswith("_err"):
                continue
            if k == "solvent_cn":
                row[k] = float(np.mean([s[k] for s in per_seed]))
                continue
            m, e = _combine(per_seed, k)
            row[k] = m
            if f"{k}_err" in SOLVATION_COLUMNS:
                row[f"{k}_err"] = e
        species_rows = []
        for i, sr in enumerate(per_seed[0]["species"]):
            rows = [s["species"][i] for s in per_seed]
            comb = dict(sr)
            for k in ("cn", "enrichment"):
                m, e = _combine(rows, k)
                comb[k], comb[f"{k}_err"] = m, e
            for k in ("cn_donor_atoms", "shell_mole_fraction"):
                vals = [r[k] for r in rows if r[k] is not None]
                comb[k] = float(np.mean(vals)) if vals else None
            comb["cutoff_A_per_seed"] = [r["cutoff_A"] for r in rows]
            species_rows.append(comb)
        ns_day = [r.ns_per_day for _, r, _, _ in sims if r.ns_per_day]
        platform = sims[0][1].platform
        ctx.provenance(platform=platform, platform_notes=sims[0][1].platform_notes, threads=settings.threads,
                       ns_per_day=float(np.mean(ns_day)) if ns_day else None,
                       cutoffs_A={r["species"]: r["cutoff_A"] for r in species_rows},
                       cutoff_sources={r["species"]: r["cutoff_source"] for r in species_rows})
        ctx.count(md_steps=sum(int((r.production_ps_done + r.equilibration_ps_done) * settings.steps_per_ps)
                               for _, r, _, _ in sims))
        seed_spread = {}
        if len(per_seed) > 1:
            for k in ("anion_cn", "ssip_fraction", "cip_fraction", "agg_fraction", "anion_share_of_shell",
                      "density_g_per_mL"):
                vals = [s[k] for s in per_seed]
                seed_spread[k] = {"values": vals, "std": float(np.std(vals, ddof=1))}
        penalties = {n: {"max_penalty": (p.max_penalty if p else 0.0),
                         "terms": (p.penalties if p else [])} for n, p in params.items()}
        result = {
            "formulation": formulation.id, "preset": settings.preset,
            "seed": ",".join(str(s) for s in settings.seeds),
            "n_atoms": res0.n_atoms, "n_cation": box.count(salt.cation), "n_anion": box.count(salt.anion),
            "ns_production": prod_ps / 1000.0 * len(settings.runs),
            **row,
            "charge_scale": settings.charge_scale, "forcefield": FORCEFIELD, "platform": platform,
            "ns_per_day": float(np.mean(ns_day)) if ns_day else None,
            "composition": box.to_dict(), "composition_error": box.composition_error,
            "composition_assumptions": list(comp.assumptions),
            "species": species_rows,
            "most_common_shells": per_seed[0]["most_common_shells"],
            "cutoff_scan": {s["seed"]: s["cutoff_scan"] for s in per_seed},
            "per_seed": [{k: v for k, v in s.items() if k not in ("rdf", "species", "cutoff_scan")} for s in per_seed],
            "seed_spread": seed_spread,
            "density_plateau": all(r.density_plateau for _, r, _, _ in sims),
            "parameter_penalties": penalties,
            "settings": settings.to_dict(),
            "wall_s": round(time.perf_counter() - t0, 1),
            # MD integration (every phase, every start) x threads; the job's wall time adds packing and analysis
            "cpu_hours": sum(r.wall_s for _, r, _, _ in sims) * settings.threads / 3600.0,
            "job_wall_hours": (time.perf_counter() - t0) / 3600.0,
        }
        if stop is not None:
            result.update(_stop_columns(stop, settings))
        return result

    rec = run_stage("md", formulation.id, out, compute,
                    inputs={"formulation": formulation.to_dict()}, settings=settings.to_dict(),
                    requires=[params_records[n][0] for n in names])
    if rec.ok and work_dir.exists():
        shutil.rmtree(work_dir, ignore_errors=True)
    return rec


def _run_tag(seed: int, kind: str) -> str:
    return f"seed{seed}" if kind == "random" else f"{kind}_seed{seed}"


def _stop_columns(stop: dict, settings: MDSettings) -> dict:
    """The run-until-decided columns of solvation.csv, and the full decision for the record."""
    ref = stop.get("reference") or {}
    return {
        "decision": stop, "starts": ",".join(_run_tag(s, k) for s, k in settings.runs),
        "ns_per_start": stop["production_ps"] / 1000.0, "criterion": stop["criterion"],
        "decision_threshold": stop["threshold"],
        "anion_cn_lo": stop["interval"]["lo"], "anion_cn_hi": stop["interval"]["hi"],
        "reference_formulation": ref.get("formulation"),
        "reference_anion_cn_lo": (ref.get("interval") or {}).get("lo"),
        "reference_anion_cn_hi": (ref.get("interval") or {}).get("hi"),
        "judged_lo": stop["judged_interval"]["lo"], "judged_hi": stop["judged_interval"]["hi"],
        "stop_status": stop["status"], "stop_reason": stop["reason"],
    }


# ----------------------------------------------------------------------------- neat liquid
def run_neat(molecule, params_record: tuple, settings: MDSettings, out: str | Path, *, work_dir: str | Path | None = None):
    """Density of one neat liquid (stage ``md_neat``) against the library's density."""
    out = Path(out)
    work_dir = Path(work_dir) if work_dir else out.parent / f".{molecule.name}.work"

    def compute(ctx):
        ctx.provenance(forcefield=FORCEFIELD, charge_method=CHARGE_METHOD, **_versions())
        p = params_from_record(*params_record)
        box = neat_counts(molecule.name, p.n_atoms, molecule.molar_mass_g_per_mol, molecule.density_g_per_mL,
                          settings.target_atoms)
        check_box_size(box.edge_A, settings.cutoff_nm)
        res, _, _ = _simulate_box([(molecule.name, "liquid", molecule.smiles, p)], box, settings,
                                  settings.seeds[0], work_dir / f"seed_{settings.seeds[0]}")
        from .speciation import block_average

        rho, err = block_average(res.prod_density_g_per_mL, settings.n_blocks)
        ctx.provenance(platform=res.platform, ns_per_day=res.ns_per_day)
        ref = molecule.density_g_per_mL
        return {"molecule": molecule.name, "n_molecules": box.species[0].count, "n_atoms": res.n_atoms,
                "density_g_per_mL": rho, "density_g_per_mL_err": err, "reference_g_per_mL": ref,
                "reference_source": molecule.density_source, "error_percent": 100 * (rho - ref) / ref,
                "density_plateau": res.density_plateau, "plateau": res.plateau, "ns_per_day": res.ns_per_day,
                "equilibration_ps": res.equilibration_ps_done, "production_ps": res.production_ps_done,
                "preset": settings.preset, "settings": settings.to_dict()}

    rec = run_stage("md_neat", molecule.name, out, compute, settings=settings.to_dict(), requires=[params_record[0]])
    if rec.ok and work_dir.exists():
        shutil.rmtree(work_dir, ignore_errors=True)
    return rec


# ----------------------------------------------------------------------------- tables
def aggregate(record_paths: list[str | Path], out_solvation: str | Path, out_coordination: str | Path) -> tuple[list, list]:
    """``solvation.csv`` (one row per formulation, failures with their reason) and ``coordination.csv``."""
    srows, crows = [], []
    for path in record_paths:
        rec = read_record(path, stage="md", name=Path(path).stem)
        if not rec.ok:
            srows.append({"formulation": rec.name, "status": "failed",
                          "failure_reason": (rec.failure or {}).get("reason", "")})
            continue
        r = rec.results
        srows.append({**{c: r.get(c) for c in SOLVATION_COLUMNS}, "status": "ok", "failure_reason": ""})
        for sp in r.get("species", []):
            crows.append({"formulation": r["formulation"], **{c: sp.get(c) for c in COORDINATION_COLUMNS[1:]}})
    write_csv(out_solvation, srows, list(SOLVATION_COLUMNS))
    write_csv(out_coordination, crows, list(COORDINATION_COLUMNS))
    return srows, crows
