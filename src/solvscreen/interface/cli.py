"""The ``solvscreen`` command line: single questions and the workflow's stage commands.

Snakemake rules call the stage commands (``structure``, ``properties``,
``aggregate-descriptors``, ...); people ask single questions (``props``, ``bind``).
Both go through the same functions.

Exit codes: 0 success (a molecule whose calculation failed is still a success of
the command: its record says why), 2 invalid input, 3 missing backend.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path
from typing import Callable

log = logging.getLogger("solvscreen")

_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {}


def command(name: str):
    def deco(fn):
        _COMMANDS[name] = fn
        return fn

    return deco


def _settings(ns: argparse.Namespace) -> dict:
    from ..core.errors import InputError

    text = getattr(ns, "settings", None)
    if not text:
        return {}
    try:
        settings = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"--settings is not valid JSON: {exc}") from exc
    if not isinstance(settings, dict):
        raise InputError("--settings must be a JSON object of config sections")
    return settings


def engine_settings_from(d: dict | None):
    from ..xtb.engine import EngineSettings

    return EngineSettings(**(d or {}))


def conformer_settings_from(d: dict | None):
    from ..xtb.structures import ConformerSettings

    return ConformerSettings(**(d or {}))


def _add_engine_flags(p: argparse.ArgumentParser) -> None:
    from ..xtb.engine import BACKENDS

    p.add_argument("--method", default="GFN2-xTB", choices=["GFN2-xTB", "GFN1-xTB"])
    p.add_argument("--backend", default="tblite", choices=BACKENDS)
    p.add_argument("--solvent", default=None, help="ALPB implicit solvent name, e.g. thf (default: gas phase)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--max-atoms", type=int, default=None, help="size guard, atoms with H (default: config's, 150)")


def _engine_from_flags(ns):
    from ..xtb.engine import EngineSettings

    return EngineSettings(backend=ns.backend, method=ns.method, solvent=ns.solvent)


def print_table(rows: list[tuple[str, object]]) -> None:
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        if isinstance(value, float):
            value = f"{value:.4f}"
        print(f"{key:<{width}}  {value}")


# ----------------------------------------------------------------------------- validation
@command("validate")
def cmd_validate(ns) -> int:
    from ..inputs.config import load_config, read_config_files, summary
    from .inputs import validate_all

    config = load_config(read_config_files(ns.configfile), base_dir=ns.directory)
    library, formulations = validate_all(config)
    print(summary(library, formulations))
    return 0


# ----------------------------------------------------------------------------- stage commands
def _run_structure(ns, s: dict):
    from ..stages.structure import run_structure

    return run_structure(ns.name, ns.smiles, ns.kind, ns.out, engine_settings_from(s.get("engine")),
                         conformer_settings_from(s.get("conformers")))


def _run_properties(ns, s: dict):
    from ..stages.properties import run_properties

    return run_properties(ns.structure, ns.out, engine_settings_from(s.get("engine")),
                          orbital_solvent=s.get("properties", {}).get("orbital_solvent", "thf"))


def _run_binding(ns, s: dict):
    from ..stages.binding import run_binding

    return run_binding(ns.ligand_structure, ns.cation_structure, ns.out, engine_settings_from(s.get("engine")),
                       binding_settings_from(s.get("binding")))


def _run_ion_pair(ns, s: dict):
    from ..stages.binding import run_ion_pair

    return run_ion_pair(ns.anion_structure, ns.cation_structure, ns.out, engine_settings_from(s.get("engine")),
                        binding_settings_from(s.get("binding")))


def _run_shell(ns, s: dict):
    from ..stages.shell import run_shell

    return run_shell(ns.binding, ns.ion_pairs or [], ns.out, engine_settings_from(s.get("engine")),
                     binding_settings_from(s.get("binding")))


# subcommand -> runner(ns, settings) -> Record: every stage command is the same body
_STAGE_COMMANDS: dict[str, Callable] = {
    "structure": _run_structure,
    "properties": _run_properties,
    "binding": _run_binding,
    "ion-pair": _run_ion_pair,
    "shell": _run_shell,
}


def cmd_stage(ns) -> int:
    """Run one stage unit through its runner; a failed calculation is still exit 0 (its record says why)."""
    rec = _STAGE_COMMANDS[ns.command](ns, _settings(ns))
    log.info("%s: %s %s%s", rec.name, rec.stage, rec.status, f" ({rec.failure['reason']})" if rec.failure else "")
    return 0


for _name in _STAGE_COMMANDS:
    command(_name)(cmd_stage)


def binding_settings_from(d: dict | None):
    from ..complexes import BindingSettings

    return BindingSettings.from_dict(d)


@command("aggregate-descriptors")
def cmd_aggregate_descriptors(ns) -> int:
    from ..core.errors import InputError
    from ..stages.properties import aggregate_descriptors

    if len(ns.structures) != len(ns.properties):
        raise InputError("aggregate-descriptors: --structures and --properties must pair up")
    rows = aggregate_descriptors(list(zip(ns.structures, ns.properties)), ns.out)
    failed = [r for r in rows if r["status"] != "ok"]
    log.info("descriptors: %d molecules, %d failed -> %s", len(rows), len(failed), ns.out)
    return 0


@command("aggregate-binding")
def cmd_aggregate_binding(ns) -> int:
    from ..stages.binding import aggregate_binding
    from ..stages.shell import aggregate_shells

    rows = aggregate_binding([*(ns.binding or []), *(ns.ion_pairs or [])], ns.out_binding)
    log.info("binding: %d rows, %d failed -> %s", len(rows), sum(r["status"] != "ok" for r in rows), ns.out_binding)
    if ns.out_shells:
        srows = aggregate_shells(ns.shells or [], ns.out_shells)
        log.info("shells: %d rows, %d failed -> %s", len(srows), sum(r["status"] != "ok" for r in srows), ns.out_shells)
    return 0


# ----------------------------------------------------------------------------- single questions
@command("props")
def cmd_props(ns) -> int:
    """Single question: the electronic descriptors of one SMILES."""
    from .query import query_properties
    from ..xtb.structures import ConformerSettings

    p, out = query_properties(ns.smiles, _engine_from_flags(ns), ConformerSettings(n_embed=ns.n_embed), ns.max_atoms)
    if ns.json:
        print(json.dumps(out, indent=2, default=str))
    else:
        print_table([(k, v) for k, v in out.items() if v is not None and k != "redox_conversion"])
        if out.get("redox_conversion"):
            print(f"\nnote: {out['redox_conversion']}")
    return 0 if p.ok else 1


def exchange_anions_from(names: list[str], library_paths: list[str] | None) -> dict[str, str]:
    """``--anion`` values -> {name: SMILES}: NAME=SMILES as given, a bare name from the library."""
    from ..core.errors import InputError

    anions: dict[str, str] = {}
    library = None
    for a in names:
        if "=" in a:
            name, smi = a.split("=", 1)
            anions[name] = smi
            continue
        if library is None:
            library = _query_library(library_paths)
        mol = library.get(a)
        if mol is None or mol.kind != "anion":
            raise InputError(f"--anion {a!r}: give an anion of the library ({', '.join(library.names('anion'))}) "
                             "or NAME=SMILES")
        anions[mol.name] = mol.smiles
    return anions


def _query_library(paths: list[str] | None):
    """The candidate library for name look-ups of single questions (default: the repository's)."""
    from ..core.errors import InputError
    from ..inputs.library import load_library

    if not paths:
        default = Path(__file__).resolve().parents[3] / "molecules" / "library.csv"
        if not default.is_file():
            raise InputError("no default library here to look anion names up in; give --library or NAME=SMILES")
        paths = [str(default)]
    return load_library(paths)


@command("bind")
def cmd_bind(ns) -> int:
    """Single question: the cation binding (or, for an anion, ion-pair binding) of one SMILES."""
    from .query import query_binding
    from ..xtb.structures import ConformerSettings

    anions = exchange_anions_from(ns.anion or (["FSI"] if ns.shell else []), ns.library)
    out = query_binding(ns.smiles, ns.cation, _engine_from_flags(ns), binding_settings_from(_settings(ns).get("binding")),
                        ConformerSettings(n_embed=ns.n_embed), workdir=ns.keep, shell=ns.shell or bool(ns.anion),
                        exchange_anions=anions, max_atoms=ns.max_atoms)
    if ns.json:
        print(json.dumps(out, indent=2, default=str))
    else:
        geometry = out.pop("geometry_xyz", None)
        print_table([(k, ", ".join(map(str, v)) if isinstance(v, list) else v)
                     for k, v in out.items() if v is not None])
        if geometry:
            print("\n" + geometry, end="")
    return 0 if out["status"] == "ok" else 1


# ----------------------------------------------------------------------------- classification commands
def _stage_config(ns) -> dict:
    """Config for classify/rank/report: --configfile files (merged like Snakemake's), then the
    sections of --settings on top; validated and completed with the schema's defaults."""
    from ..inputs.config import deep_update, load_config, read_config_files

    return load_config(deep_update(read_config_files(ns.configfile or []), _settings(ns)))


def _stage_inputs(ns) -> tuple[dict, object, dict]:
    """(config, library, table paths) from explicit paths, else the config and its results dir."""
    from ..core.errors import InputError
    from ..inputs.library import load_library

    config = _stage_config(ns)
    results = Path(ns.results or config["results"])
    library = load_library(ns.library or [config["library"], *config["extra_libraries"]])
    paths = {key: getattr(ns, key, None) or str(results / f"{key}.csv")
             for key in ("descriptors", "binding", "shells", "solvating_power")}
    for key in ("dft_binding", "solvation", "coordination"):  # optional: only when given, and then it must exist
        given = getattr(ns, key, None)
        if given and not Path(given).is_file():
            raise InputError(f"--{key.replace('_', '-')}: {given} does not exist")
        paths[key] = given or None
    paths["results"] = results
    return config, library, paths


def _salt_ions(library, salt_name: str) -> tuple[str, str | None, str | None]:
    salt = library.resolve(salt_name)
    return salt.name, salt.cation, salt.anion


@command("classify")
def cmd_classify(ns) -> int:
    from ..classify import ClassificationSettings, read_evidence, run_classification
    from ..inputs.grid import GridSettings
    from ..inputs.formulations import load_formulations

    config, library, paths = _stage_inputs(ns)
    formulations = load_formulations(ns.formulations or [config["formulations"], *config["extra_formulations"]],
                                     library)
    settings = ClassificationSettings.from_dict(config.get("classification"))
    grid = GridSettings.from_dict(config.get("grid"))
    evidence = read_evidence(paths["descriptors"], paths["binding"], paths["shells"], dft=paths["dft_binding"],
                             solvation=paths["solvation"], coordination=paths["coordination"],
                             solvating_power=paths["solvating_power"])
    res = paths["results"]
    out = run_classification(library, formulations, evidence, settings, grid,
                             out_csv=ns.out or res / "classification.csv",
                             out_records=ns.records or res / "classification.json",
                             out_calibration=ns.calibration or res / "calibration.json")
    done = out["classifications"]
    cal = out["calibration"]
    failed = [c for c in done if not c.ok]
    log.info("classified %d formulations (%d from the table, %d grid), %d without evidence; MD evidence for %d",
             len(done), sum(c.origin == "table" for c in done), sum(c.origin == "grid" for c in done), len(failed),
             sum(c.evidence == "md" for c in done))
    fit = cal.get("fit")
    log.info("diluent threshold -E_bind %.2f kcal/mol (%s; binding evidence: %s)", out["diluent_bind_max"],
             f"fitted on {fit['n_right']}/{fit['n_roles']} calibration roles" if fit else "set in the config",
             ", ".join(cal["binding_sources"]) or "none")
    for title, summ in (("descriptors only", cal["summary"]), ("with MD evidence", cal.get("summary_with_md"))):
        if not summ:
            continue
        for key in ("calibration", "leave_one_out", "generalization", "other"):
            a = summ[key]
            if a.get("n"):
                log.info("%s, %s accuracy: %d/%d right, %d two-class with the literature class, %d wrong "
                         "(%d confidently)", title, key.replace("_", "-"), a["n_right"], a["n"], a["n_two_class"],
                         a["n_wrong"], a["n_confidently_wrong"])
    if ns.print:
        for c in done:
            if c.origin == "table" or ns.print == "all":
                print(f"{c.id:<26} {c.label or 'failed':<14} {c.confidence:<5} {c.evidence:<11} " + (
                    c.decide_by if c.ok else c.failure_reason))
    return 0


@command("rank")
def cmd_rank(ns) -> int:
    from ..classify import ClassificationSettings
    from ..classify.rank import RANKING_COLUMNS, RankingSettings, candidates_from, rank_candidates
    from ..core.records import write_csv
    from ..core.result_tables import ResultTables, read_rows

    config, library, paths = _stage_inputs(ns)
    settings = RankingSettings.from_dict(config.get("ranking"))
    cs = ClassificationSettings.from_dict(config.get("classification"))
    tables = ResultTables.load(paths["descriptors"], paths["binding"], paths["shells"], paths["solvating_power"])
    _, cation, anion = _salt_ions(library, settings.salt)
    cands = rank_candidates(tables, candidates_from(tables, library), cation=cation, anion=anion,
                            settings=settings, classification=cs, dft_binding=read_rows(paths["dft_binding"]))
    out = ns.out or paths["results"] / "ranking.csv"
    write_csv(out, [c.row() for c in cands], RANKING_COLUMNS)
    log.info("ranked %d candidates (%d not ranked) -> %s", len(cands), sum(c.status != "ok" for c in cands), out)
    return 0


@command("report")
def cmd_report(ns) -> int:
    from ..classify.rank import RankingSettings
    from ..report import ReportSettings, write_report

    config, library, paths = _stage_inputs(ns)
    res = paths["results"]
    settings = ReportSettings.from_dict(config.get("report"))
    ranking = RankingSettings.from_dict(config.get("ranking"))
    _, cation, anion = _salt_ions(library, ranking.salt)
    out = ns.out or res / "report.html"
    write_report(out, descriptors=paths["descriptors"], binding=paths["binding"], shells=paths["shells"],
                 solvating_power=paths["solvating_power"],
                 classification=ns.classification or res / "classification.csv",
                 calibration=ns.calibration or res / "calibration.json",
                 ranking=ns.ranking or res / "ranking.csv", settings=settings, cation=cation, anion=anion,
                 orbital_levels=ranking.orbital_levels, dft_binding=paths["dft_binding"],
                 solvation=paths["solvation"], coordination=paths["coordination"])
    log.info("report -> %s", out)
    return 0


# ----------------------------------------------------------------------------- parser
# Stage packages that bring their own subcommands: each module has
# ``add_parsers(sub, command)`` (``command`` is the registering decorator above).
_SUBCOMMAND_MODULES = ("solvscreen.md.cli", "solvscreen.dft.cli", "solvscreen.solvation.cli")


def _add_module_parsers(sub) -> None:
    import importlib

    for modname in _SUBCOMMAND_MODULES:
        try:
            mod = importlib.import_module(modname)
        except ModuleNotFoundError as exc:  # that stage package is not part of this build
            if exc.name is not None and modname.startswith(exc.name):
                continue
            raise
        mod.add_parsers(sub, command)


# Exit codes of a stage command that mean "fix the input", not "the job died": `died` passes
# them on (the job fails, as it should) instead of turning them into a failure record.
_INPUT_EXIT_CODES = (2, 3)


@command("died")
def cmd_died(ns) -> int:
    """A rule's shell fallback: a failure record for a job that died without one."""
    from ..core.errors import InputError
    from ..stages.harness import write_died_record

    if ns.exit_code in _INPUT_EXIT_CODES:
        log.error("%s %s: the stage command stopped on an input error (exit code %d; see %s)",
                  ns.stage, ns.name, ns.exit_code, ns.log)
        return ns.exit_code
    if ns.retries_left > 0 and not Path(ns.out).exists():
        # not the last attempt: fail the job, so that Snakemake resubmits it with the next
        # attempt's (larger) resources; the last attempt writes the failure record
        log.warning("%s %s: job died (exit code %s); %d attempt(s) left: failing this attempt so that "
                    "Snakemake resubmits it with the next attempt's resources", ns.stage, ns.name,
                    ns.exit_code, ns.retries_left)
        return ns.exit_code if ns.exit_code and 0 < ns.exit_code < 256 else 1
    inputs = {}
    for item in ns.input or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise InputError(f"--input {item!r}: expected KEY=VALUE")
        inputs[key] = value
    rec = write_died_record(ns.stage, ns.name, ns.out, exit_code=ns.exit_code, log=ns.log,
                            files_dir=ns.files_dir, inputs=inputs)
    if rec is not None:
        log.warning("%s %s: %s", ns.stage, ns.name, rec.failure["reason"])
    return 0


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__

    parser = argparse.ArgumentParser(prog="solvscreen", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"solvscreen {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0)
    parser.add_argument("--threads", type=int, default=None,
                        help="OpenMP threads for xTB (default: $OMP_NUM_THREADS or 1)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("validate", help="validate config, library and formulations; compute nothing")
    p.add_argument("--configfile", nargs="*", default=["workflows/config.yaml"])
    p.add_argument("--directory", default=".", help="base directory for relative paths in the config")

    settings_help = "stage settings as JSON (the workflow passes them; defaults otherwise)"
    p = sub.add_parser("structure", help="reference geometry of one molecule (conformer search)")
    p.add_argument("--name", required=True)
    p.add_argument("--smiles", required=True)
    p.add_argument("--kind", default="")
    p.add_argument("--out", required=True, help="record path (.json); geometry files go in its directory (out without .json)")
    p.add_argument("--settings", help=settings_help)

    p = sub.add_parser("properties", help="HOMO/LUMO, dipole, IP/EA, redox estimates at a reference geometry")
    p.add_argument("--structure", required=True, help="structure record (.json)")
    p.add_argument("--out", required=True)
    p.add_argument("--settings", help=settings_help)

    p = sub.add_parser("aggregate-descriptors", help="collect per-molecule records into descriptors.csv")
    p.add_argument("--structures", nargs="+", required=True)
    p.add_argument("--properties", nargs="+", required=True)
    p.add_argument("--out", required=True)

    p = sub.add_parser("props", help="electronic descriptors of one SMILES, e.g. solvscreen props 'COCCOC'")
    p.add_argument("smiles")
    p.add_argument("--n-embed", type=int, default=12, help="conformers to embed")
    _add_engine_flags(p)

    # --- binding stage parsers (issue: cation binding) ---
    p = sub.add_parser("binding", help="cation binding of one molecule (complex search, E_bind, binding mode)")
    p.add_argument("--ligand-structure", required=True, help="structure record of the ligand (.json)")
    p.add_argument("--cation-structure", required=True, help="structure record of the cation (.json)")
    p.add_argument("--out", required=True, help="record path (.json); complex.xyz goes in its directory")
    p.add_argument("--settings", help=settings_help)

    p = sub.add_parser("ion-pair", help="ion-pair binding E(M+A-) - E(M+) - E(A-) of one anion with one cation")
    p.add_argument("--anion-structure", required=True, help="structure record of the anion (.json)")
    p.add_argument("--cation-structure", required=True, help="structure record of the cation (.json)")
    p.add_argument("--out", required=True, help="record path (.json); complex.xyz goes in its directory")
    p.add_argument("--settings", help=settings_help)

    p = sub.add_parser("shell", help="filled first shell M+(L)n and anion exchange M+(L)n + A- -> M+(L)(n-1)A- + L")
    p.add_argument("--binding", required=True, help="1:1 binding record of the ligand (.json)")
    p.add_argument("--ion-pairs", nargs="*", default=[], help="ion-pair records of the exchange anions (.json)")
    p.add_argument("--out", required=True, help="record path (.json); shell .xyz files go in its directory")
    p.add_argument("--settings", help=settings_help)

    p = sub.add_parser("aggregate-binding", help="collect binding, ion-pair and shell records into binding.csv/shells.csv")
    p.add_argument("--binding", nargs="*", default=[], help="binding records")
    p.add_argument("--ion-pairs", nargs="*", default=[], help="ion-pair records (rows with kind = anion)")
    p.add_argument("--shells", nargs="*", default=[], help="shell records")
    p.add_argument("--out-binding", required=True, help="binding.csv")
    p.add_argument("--out-shells", help="shells.csv")

    p = sub.add_parser("bind", help="cation binding of one SMILES, e.g. solvscreen bind 'COCCOC' --cation K")
    p.add_argument("smiles")
    p.add_argument("--cation", default="K", help="K (default), Na or Li")
    p.add_argument("--shell", action="store_true", help="also the filled shell and the exchange with --anion (FSI)")
    p.add_argument("--anion", action="append",
                   help="exchange anion for --shell: an anion of the library (FSI, TFSI, PF6, ...) or NAME=SMILES "
                        "(repeatable)")
    p.add_argument("--library", nargs="+", help="candidate tables for --anion names (default: molecules/library.csv)")
    p.add_argument("--n-embed", type=int, default=12, help="conformers to embed for the reference structure")
    p.add_argument("--keep", metavar="DIR", help="keep the records and geometries in DIR")
    p.add_argument("--settings", help="JSON with a 'binding' section overriding BindingSettings defaults")
    _add_engine_flags(p)

    # --- classification / ranking / report parsers ---
    def stage_inputs(p: argparse.ArgumentParser) -> None:
        p.add_argument("--configfile", nargs="*", default=[], help="config files (default: the schema's defaults)")
        p.add_argument("--settings", help=settings_help + "; its sections override the config's")
        p.add_argument("--results", help="results directory holding the stage tables (default: config 'results')")
        p.add_argument("--library", nargs="+", help="candidate tables (default: config library + extra_libraries)")
        for key in ("descriptors", "binding", "shells", "solvating_power"):
            p.add_argument(f"--{key.replace('_', '-')}", dest=key, help=f"{key}.csv (default: <results>/{key}.csv)")
        # the optional stages' tables: read only when given (no default path: a table left over from
        # an earlier run with the stage on is never picked up by accident)
        p.add_argument("--dft-binding", help="dft_binding.csv of the DFT stage (optional: DFT E_bind preferred)")
        p.add_argument("--solvation", help="solvation.csv of the MD stage (optional: MD evidence)")
        p.add_argument("--coordination", help="coordination.csv of the MD stage (optional: per-species enrichment)")

    p = sub.add_parser("classify", help="classify formulations (table + screening grid) as LCE/HCE/LHCE/WSE; calibrate")
    stage_inputs(p)
    p.add_argument("--formulations", nargs="+", help="formulation tables (default: config formulations + extra)")
    p.add_argument("--out", help="classification.csv (default: <results>/classification.csv)")
    p.add_argument("--records", help="per-formulation records, JSON (default: <results>/classification.json)")
    p.add_argument("--calibration", help="calibration summary, JSON (default: <results>/calibration.json)")
    p.add_argument("--print", nargs="?", const="table", choices=["table", "all"],
                   help="also print label, confidence, evidence and what would decide (table formulations, or all)")

    p = sub.add_parser("rank", help="rank candidate solvents and diluents: score and Pareto front")
    stage_inputs(p)
    p.add_argument("--out", help="ranking.csv (default: <results>/ranking.csv)")

    p = sub.add_parser("report", help="the self-contained HTML report")
    stage_inputs(p)
    p.add_argument("--classification", help="classification.csv (default: <results>/classification.csv)")
    p.add_argument("--calibration", help="calibration.json (default: <results>/calibration.json)")
    p.add_argument("--ranking", help="ranking.csv (default: <results>/ranking.csv)")
    p.add_argument("--out", help="report.html (default: <results>/report.html)")

    p = sub.add_parser("died", help="(workflow) failure record for a job that died without writing one")
    p.add_argument("--stage", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--out", required=True, help="the record path the job should have written")
    p.add_argument("--exit-code", type=int, default=None)
    p.add_argument("--log", default=None, help="the job's log (its last line goes into the reason)")
    p.add_argument("--files-dir", default=None, help="the record's companion directory (created empty)")
    p.add_argument("--input", action="append", metavar="KEY=VALUE",
                   help="an input of the unit (e.g. cation=K+, kind=solvent) kept in the record; repeatable")
    p.add_argument("--retries-left", type=int, default=0, metavar="N",
                   help="attempts Snakemake still makes after this one: with N > 0 no record is written and "
                        "the job fails (so it is resubmitted); 0 (default): the failure record")

    _add_module_parsers(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    ns = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if ns.verbose > 1 else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    from ..xtb.engine import set_threads

    set_threads(ns.threads or int(os.environ.get("OMP_NUM_THREADS", "1") or 1))
    from ..core.errors import EngineUnavailable, InputError

    try:
        return _COMMANDS[ns.command](ns)
    except InputError as exc:
        print(f"solvscreen: error: {exc}", file=sys.stderr)
        return 2
    except EngineUnavailable as exc:
        print(f"solvscreen: error: {exc}", file=sys.stderr)
        return 3


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
