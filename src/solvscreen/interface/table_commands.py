"""``classify``, ``rank`` and ``report``: the cheap commands on the stage tables. Each optional
stage's table (MD, DFT) is read only when it is given.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from .commands import SETTINGS_HELP as settings_help, _settings, command, log


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
    for key in ("descriptors", "binding"):  # the tables every run writes: named before anything is read
        given = getattr(ns, key, None)
        if given and not Path(given).is_file():
            raise InputError(f"--{key}: {given} does not exist")
        if not given and not results.is_dir():
            raise InputError(f"results directory {results} does not exist: give --results with the results "
                             "directory of a run (or --descriptors and --binding)")
        if not given and not (results / f"{key}.csv").is_file():
            raise InputError(f"{results / f'{key}.csv'} does not exist: is {results} the results directory of a "
                             "finished run? (or give --descriptors and --binding)")
    library = load_library(ns.library or [config["library"], *config["extra_libraries"]])
    paths = {key: getattr(ns, key, None) or str(results / f"{key}.csv")
             for key in ("descriptors", "binding", "shells", "solvating_power")}
    for key in ("dft_binding", "solvation", "coordination", "pmf", "prefsolv"):  # optional: only when given, and then it must exist
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
                             solvating_power=paths["solvating_power"], pmf=paths["pmf"],
                             prefsolv=paths["prefsolv"])
    res = paths["results"]

    def output(given, name):  # a question (--print) writes nothing it was not asked to write
        return given or (None if ns.print else res / name)

    out = run_classification(library, formulations, evidence, settings, grid,
                             out_csv=output(ns.out, "classification.csv"),
                             out_records=output(ns.records, "classification.json"),
                             out_calibration=output(ns.calibration, "calibration.json"))
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
    table = [c for c in done if c.origin == "table"]
    if table and not any(c.ok for c in table):
        log.warning("none of the %d formulations of the table could be classified from the tables in %s: "
                    "were they computed with another library or config? Give that run's --configfile",
                    len(table), res)
    if ns.print:
        print_classifications([c.row() for c in done if c.origin == "table" or ns.print == "all"])
    return 0


def print_classifications(rows: list[dict]) -> None:
    """One line per formulation, cut to the terminal's width: id, label, confidence, evidence, the
    literature class, then the one-line verdict where the table has one, else what would decide (or
    why it failed)."""
    from .commands import _terminal_width

    width = _terminal_width()
    id_width = min(max([len(r["id"]) for r in rows] + [2]), 40)
    head = f"{'id':<{id_width}} {'label':<14} {'conf.':<5} {'evidence':<11} {'lit.':<5} "
    print(head + ("verdict" if any(r.get("verdict") for r in rows) else "would decide / why failed"))
    for r in rows:
        text = r.get("verdict") or (r["decide_by"] if r["status"] == "ok" else r["failure_reason"])
        line = (f"{r['id']:<{id_width}} {r['label'] or 'failed':<14} {r['confidence'] or '-':<5} "
                f"{r['evidence'] or '-':<11} {r['reported_class'] or '-':<5} {' '.join(str(text or '').split())}")
        print(line if len(line) <= width else line[:width - 1] + "…")


@command("rank")
def cmd_rank(ns) -> int:
    from ..classify import ClassificationSettings
    from ..classify.rank import RankingSettings, candidates_from, rank_candidates, write_ranking
    from ..classify.pmf_evidence import read_pmf
    from ..core.result_tables import ResultTables, read_rows

    config, library, paths = _stage_inputs(ns)
    settings = RankingSettings.from_dict(config.get("ranking"))
    cs = ClassificationSettings.from_dict(config.get("classification"))
    tables = ResultTables.load(paths["descriptors"], paths["binding"], paths["shells"], paths["solvating_power"])
    _, cation, anion = _salt_ions(library, settings.salt)
    cands = rank_candidates(tables, candidates_from(tables, library), cation=cation, anion=anion,
                            settings=settings, classification=cs, dft_binding=read_rows(paths["dft_binding"]),
                            pmf=read_pmf(paths["pmf"]))
    out = ns.out or paths["results"] / "ranking.csv"
    write_ranking(out, cands)
    log.info("ranked %d candidates (%d not ranked) -> %s", len(cands), sum(c.status != "ok" for c in cands), out)
    return 0


@command("report")
def cmd_report(ns) -> int:
    from ..classify.rank import RankingSettings
    from ..report.page import ReportSettings, write_report

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
                 solvation=paths["solvation"], coordination=paths["coordination"], pmf=paths["pmf"])
    log.info("report -> %s", out)
    return 0


def add_parsers(sub, command) -> None:
    del command  # the handlers above register themselves with commands.command
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
        p.add_argument("--pmf", help="pmf.csv of the md_pmf stage (optional: K+-anion free energy vs DME decides "
                                     "the weak-solvent predicate where its interval clears 0)")

    p = sub.add_parser("classify", help="classify formulations (table + screening grid) as LCE/HCE/LHCE/WSE; calibrate")
    stage_inputs(p)
    p.add_argument("--formulations", nargs="+", help="formulation tables (default: config formulations + extra)")
    p.add_argument("--prefsolv", help="prefsolv.csv (bench/bench_prefsolv.py --csv; optional: a blend "
                                      "component's K+-shell share against its partner decides its diluent "
                                      "role where its interval clears md_diluent_shell_share_ratio_max)")
    p.add_argument("--out", help="classification.csv (default: <results>/classification.csv)")
    p.add_argument("--records", help="per-formulation records, JSON (default: <results>/classification.json)")
    p.add_argument("--calibration", help="calibration summary, JSON (default: <results>/calibration.json)")
    p.add_argument("--print", nargs="?", const="table", choices=["table", "all"],
                   help="print label, confidence, evidence, literature class and what would decide (table "
                        "formulations, or all) and write nothing, unless --out, --records or --calibration ask")

    p = sub.add_parser("rank", help="rank candidate solvents and diluents: score and Pareto front")
    stage_inputs(p)
    p.add_argument("--out", help="ranking.csv (default: <results>/ranking.csv)")

    p = sub.add_parser("report", help="the self-contained HTML report")
    stage_inputs(p)
    p.add_argument("--classification", help="classification.csv (default: <results>/classification.csv)")
    p.add_argument("--calibration", help="calibration.json (default: <results>/calibration.json)")
    p.add_argument("--ranking", help="ranking.csv (default: <results>/ranking.csv)")
    p.add_argument("--out", help="report.html (default: <results>/report.html)")
