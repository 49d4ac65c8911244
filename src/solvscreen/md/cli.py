"""Command-line subcommands of the MD stage (registered by ``solvscreen.interface.cli``).

* ``solvscreen md-params --name DME --smiles COCCOC --out results/md_params/DME.json``
* ``solvscreen md-run --formulation LCE-DME --params K+=... FSI=... DME=... --out results/md/LCE-DME.json``
* ``solvscreen md-neat --molecule DME --params DME=... --out results/md_neat/DME.json``
* ``solvscreen md-table --records results/md/*.json --solvation ... --coordination ...``
* ``solvscreen md-presets``: the presets table.
"""

from __future__ import annotations

import logging
from pathlib import Path

from ..core.settings import settings_from_json

log = logging.getLogger("solvscreen")

SETTINGS_HELP = ("JSON with an 'md' section (preset, charge_scale, platform, threads, overrides) and "
                 "optionally 'classification' (its 'composition' settings)")


def _config(ns) -> dict:
    """--configfile files (merged as Snakemake merges them), then the sections of --settings."""
    from ..inputs.config import deep_update, load_config, read_config_files

    return load_config(deep_update(read_config_files(ns.configfile or []), settings_from_json(ns.settings)))


def _library_and_formulations(ns, config):
    from ..inputs.library import load_library
    from ..inputs.formulations import load_formulations

    library = load_library(ns.library or [config["library"], *config["extra_libraries"]])
    forms = load_formulations(ns.formulations or [config["formulations"], *config["extra_formulations"]], library)
    return library, forms


def _params_arg(items: list[str]) -> dict[str, str]:
    from ..core.errors import InputError

    out = {}
    for it in items or []:
        if "=" not in it:
            raise InputError(f"--params {it!r}: give NAME=PATH of an md_params record")
        k, v = it.split("=", 1)
        out[k] = v
    return out


def _run_inputs(ns):
    """(config, library, formulations, loaded parameters) of an md-run / md-neat call."""
    from .runner import load_params

    logging.getLogger("MDAnalysis").setLevel(logging.WARNING)
    config = _config(ns)
    library, forms = _library_and_formulations(ns, config)
    params = load_params({library.resolve(k).name: v for k, v in _params_arg(ns.params).items()})
    return config, library, forms, params


def _md_settings(config: dict, threads: int | None):
    from .settings import settings_from_config

    md = dict(config.get("md") or {})
    if threads:
        md["threads"] = threads
    return settings_from_config(md)


def add_parsers(sub, command) -> None:
    p = sub.add_parser("md-params", help="GAFF2/AM1-BCC parameters of one molecule (cached by canonical SMILES)")
    p.add_argument("--name", required=True)
    p.add_argument("--smiles", required=True)
    p.add_argument("--kind", default="")
    p.add_argument("--out", required=True, help="record path (.json); mol2/frcmod go beside it")
    p.add_argument("--cache", default=None, help="cache directory (default: none)")

    def stage_args(p):
        p.add_argument("--configfile", nargs="*", default=[], help="config files (default: schema defaults)")
        p.add_argument("--settings", help=SETTINGS_HELP)
        p.add_argument("--library", nargs="+", help="candidate tables (default: the config's)")
        p.add_argument("--formulations", nargs="+", help="formulation tables (default: the config's)")
        p.add_argument("--params", nargs="+", required=True, help="NAME=PATH of md_params records")
        p.add_argument("--out", required=True, help="record path (.json); files go into its directory")
        p.add_argument("--work-dir", default=None, help="checkpoint directory (default: beside the record)")

    p = sub.add_parser("md-run", help="MD of one formulation: box, OpenMM run, speciation and coordination")
    p.add_argument("--formulation", required=True)
    p.add_argument("--as-reference", action="store_true",
                   help="run the formulation's reference instead (same salt and concentration in the preset's "
                        "reference solvent)")
    p.add_argument("--reference-record", default=None,
                   help="md record of the formulation's reference run (the decision then uses the difference)")
    stage_args(p)

    p = sub.add_parser("md-neat", help="density of one neat liquid from a short NPT run")
    p.add_argument("--molecule", required=True)
    stage_args(p)

    p = sub.add_parser("md-table", help="collect md records into solvation.csv and coordination.csv")
    p.add_argument("--records", nargs="*", default=[])
    p.add_argument("--solvation", required=True)
    p.add_argument("--coordination", required=True)

    sub.add_parser("md-presets", help="print the MD presets")

    def pair_run_args(p, section: str, work_dir_help: str) -> None:
        """The arguments of a one-ion-pair run (md-pmf, md-prefsolv) after its species."""
        p.add_argument("--salt", required=True)
        p.add_argument("--cache", default=None, help="GAFF2 parameter cache directory (default: none)")
        p.add_argument("--configfile", nargs="*", default=[], help="config files (default: schema defaults)")
        p.add_argument("--settings", help=f"JSON with an 'md' section (its '{section}' subsection, platform, threads)")
        p.add_argument("--library", nargs="+", help="candidate tables (default: the config's)")
        p.add_argument("--formulations", nargs="+", help="formulation tables (default: the config's)")
        p.add_argument("--out", required=True, help="record path (.json)")
        p.add_argument("--work-dir", default=None, help=f"{work_dir_help} (default: beside the record)")

    p = sub.add_parser("md-pmf", help="K+-anion PMF of one salt in one neat solvent (umbrella sampling + WHAM)")
    p.add_argument("--solvent", required=True)
    pair_run_args(p, "pmf", "window checkpoints")

    p = sub.add_parser("md-pmf-table", help="collect md_pmf records into pmf.csv")
    p.add_argument("--records", nargs="*", default=[])
    p.add_argument("--reference", default="DME")
    p.add_argument("--out", required=True)

    p = sub.add_parser("md-prefsolv", help="preferential solvation of K+ in an equimolar A:B blend (one ion pair)")
    p.add_argument("--a", required=True, help="the solvating partner (e.g. DME)")
    p.add_argument("--b", required=True, help="the candidate whose share of the K+ shell is measured")
    pair_run_args(p, "prefsolv", "the run's files")

    p = sub.add_parser("md-prefsolv-table", help="collect md_prefsolv records into prefsolv.csv")
    p.add_argument("--records", nargs="*", default=[])
    p.add_argument("--out", required=True)

    @command("md-params")
    def cmd_md_params(ns) -> int:
        from .runner import run_params

        rec = run_params(ns.name, ns.smiles, ns.kind, ns.out, cache_dir=ns.cache)
        log.info("%s: md_params %s%s", ns.name, rec.status, f" ({rec.failure['reason']})" if rec.failure else "")
        return 0

    @command("md-run")
    def cmd_md_run(ns) -> int:
        from ..classify import ClassificationSettings
        from ..core.errors import InputError
        from ..stages.harness import read_record
        from .adaptive import reference_formulation
        from .runner import decision_setup, run_md

        config, library, forms, params = _run_inputs(ns)
        f = next((x for x in forms if x.id == ns.formulation), None)
        if f is None:
            raise InputError(f"--formulation {ns.formulation!r}: no such formulation id")
        settings = _md_settings(config, ns.threads)
        cls = ClassificationSettings.from_dict(config.get("classification"))
        if ns.as_reference:
            if not settings.reference_solvent:
                raise InputError(f"md-run --as-reference: preset {settings.preset} has no reference_solvent")
            f = reference_formulation(f, library, settings.reference_solvent)
        salt = library.resolve(f.salt)
        missing = [n for n in (salt.cation, salt.anion, *f.component_names) if n not in params]
        if missing:
            raise InputError(f"md-run {f.id}: no --params for {', '.join(missing)}")
        ref = read_record(ns.reference_record, stage="md", name=Path(ns.reference_record).stem) \
            if ns.reference_record else None
        decision = decision_setup(cls.thresholds(), as_reference=ns.as_reference, reference_record=ref)
        rec = run_md(f, library, params, settings, ns.out, work_dir=ns.work_dir, composition_settings=cls.composition,
                     decision=decision)
        log.info("%s: md %s%s", f.id, rec.status, f" ({rec.failure['reason']})" if rec.failure else "")
        return 0

    @command("md-pmf")
    def cmd_md_pmf(ns) -> int:
        from .pmf_stage import run_pmf

        library, md = _pair_run_inputs(ns)
        rec = run_pmf(library.resolve(ns.solvent), library.resolve(ns.salt), library, md, ns.out,
                      work_dir=ns.work_dir, cache_dir=ns.cache)
        return _said(rec, "md_pmf")

    @command("md-pmf-table")
    def cmd_md_pmf_table(ns) -> int:
        from .pmf_stage import aggregate_pmf

        rows = aggregate_pmf(ns.records, ns.out, reference=ns.reference or None)
        log.info("pmf.csv: %d pairs", len(rows))
        return 0

    @command("md-prefsolv")
    def cmd_md_prefsolv(ns) -> int:
        from .prefsolv_stage import run_prefsolv_stage

        library, md = _pair_run_inputs(ns)
        rec = run_prefsolv_stage(library.resolve(ns.a), library.resolve(ns.b), library.resolve(ns.salt), library, md,
                                 ns.out, work_dir=ns.work_dir, cache_dir=ns.cache)
        return _said(rec, "md_prefsolv")

    def _pair_run_inputs(ns):
        """(library, md section with --threads) of a one-ion-pair run (md-pmf, md-prefsolv)."""
        config = _config(ns)
        library, _ = _library_and_formulations(ns, config)
        md = dict(config.get("md") or {})
        if ns.threads:
            md["threads"] = ns.threads
        return library, md

    def _said(rec, stage: str) -> int:
        log.info("%s: %s %s%s", rec.name, stage, rec.status, f" ({rec.failure['reason']})" if rec.failure else "")
        return 0

    @command("md-prefsolv-table")
    def cmd_md_prefsolv_table(ns) -> int:
        from .prefsolv_stage import aggregate_prefsolv

        rows = aggregate_prefsolv(ns.records, ns.out)
        log.info("prefsolv.csv: %d pairs", len(rows))
        return 0

    @command("md-neat")
    def cmd_md_neat(ns) -> int:
        from .runner import run_neat

        config, library, _, params = _run_inputs(ns)
        mol = library.resolve(ns.molecule)
        rec = run_neat(mol, params[mol.name], _md_settings(config, ns.threads), ns.out, work_dir=ns.work_dir)
        r = rec.results
        if rec.ok:
            log.info("%s: density %.3f +- %.3f g/mL (library %.3f, %+.1f %%)", mol.name, r["density_g_per_mL"],
                     r["density_g_per_mL_err"], r["reference_g_per_mL"], r["error_percent"])
        else:
            log.info("%s: md_neat failed (%s)", mol.name, rec.failure["reason"])
        return 0

    @command("md-table")
    def cmd_md_table(ns) -> int:
        from .runner import aggregate

        s, c = aggregate(ns.records, ns.solvation, ns.coordination)
        failed = [r for r in s if r["status"] != "ok"]
        log.info("md: %d formulations, %d failed -> %s, %s", len(s), len(failed), ns.solvation, ns.coordination)
        return 0

    @command("md-presets")
    def cmd_md_presets(ns) -> int:
        from .settings import PRESETS, preset

        print(f"{'preset':<11} {'atoms':>6} {'anneal_ps':>9} {'equil_ps':>9} {'prod_ps':>9} {'seeds':>6} {'frame_ps':>8}")
        for name in PRESETS:
            s = preset(name)
            print(f"{name:<11} {s.target_atoms:>6} {s.anneal_ps:>9g} {s.equilibration_ps:>9g} {s.production_ps:>9g} "
                  f"{len(s.seeds):>6} {s.frame_interval_ps:>8g}")
        return 0
