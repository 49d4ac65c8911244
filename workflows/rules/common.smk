# Shared helpers for the stage rules: settings passed to the CLI as JSON so that
# Snakemake's params trigger reruns exactly when a stage's settings change.
import json
import os
import shlex
from pathlib import Path

# The software every rule needs (documented for `--use-conda`; path relative to rules/).
CONDA_ENV = "../envs/solvscreen.yaml"


def settings_json(*sections, **parts):
    """The named config sections, and any ``parts`` given as name=mapping (a section cut down to
    what a rule reads), as one compact JSON string (a CLI --settings value)."""
    return json.dumps({**{s: CONFIG[s] for s in sections}, **parts}, sort_keys=True, separators=(",", ":"))


def molecule(name):
    return LIBRARY.molecules[name]


def stage_shell(cmd, stage, name="{wildcards.name:q}", inputs=""):
    """The shell command of a stage rule: ``cmd`` with its output in the job's log, then
    :func:`died_fallback`. The rule must have the resource ``retries_left=retries_left``."""
    return f"{cmd} > {{log:q}} 2>&1{died_fallback(stage, name, inputs)}"


def died_fallback(stage, name="{wildcards.name:q}", inputs=""):
    """Shell fallback of a stage rule: a job whose calculation is killed from outside (the
    out-of-memory killer, a signal) fails while Snakemake has attempts left (``--retries``), so it is
    resubmitted with the next attempt's resources; on the last attempt it leaves a failure
    record ("no record: job died") instead of none, so the tables are still written. Input
    errors (exit 2, 3) always fail the job."""
    return (f" || solvscreen died --stage {stage} --name {name} --out {{output.record:q}} --exit-code $?"
            f" --retries-left {{resources.retries_left}} --log {{log:q}} --files-dir {{output.dir:q}}"
            + (f" {inputs}" if inputs else ""))


# Attempts per stage rule. The main process knows them (`--retries`, a rule's own `retries`) once
# its execution settings are set, after the Snakefile is read; a job process (SLURM, a group job)
# is started with `--retries 0` (the main process does the retrying) and `--attempt N`, so it
# reads them from this environment variable, which the main process sets before it submits a job
# (SLURM's sbatch exports the environment; it is also a declared envvar, for executors that pass
# only those).
ATTEMPTS_ENV = "SOLVSCREEN_RULE_ATTEMPTS"


def publish_rule_attempts():
    """Declare :data:`ATTEMPTS_ENV` (main process; its value is set by :func:`rule_attempts`)."""
    if workflow.is_main_process:
        os.environ[ATTEMPTS_ENV] = "{}"
        workflow.register_envvars(ATTEMPTS_ENV)


def rule_attempts():
    """{stage rule: its number of attempts}; the main process also publishes it for job processes."""
    if not workflow.is_main_process:
        return json.loads(os.environ.get(ATTEMPTS_ENV) or "{}")
    try:
        attempts = {r.name: r.restart_times + 1 for r in workflow.rules if "record" in r.output.keys()}
    except AttributeError:  # no execution settings: a command that runs no job
        return {}
    os.environ[ATTEMPTS_ENV] = json.dumps(attempts, sort_keys=True)
    return attempts


def retries_left(wildcards, attempt, rulename=None):
    """Resource of every stage rule: the attempts Snakemake makes after this one (0 on the last,
    and whenever the count is unknown: then the job writes its failure record at once)."""
    return max(0, rule_attempts().get(rulename, attempt) - attempt)


# Record names are file-safe by validation (no '.', '/' or spaces): a record X.json and its
# companion directory X/ can never be mistaken for another unit's files.
wildcard_constraints:
    name=r"[^/.]+",
    cation=r"[^/.]+",
    anion=r"[^/.]+",


# ---- dead and unreadable records: set aside before the DAG is built, so this run recomputes them
# Commands that only look at the workflow (or at its lock) never move anything.
_INSPECT_FLAGS = ("--report", "--unlock", "--list", "--lt", "--summary", "--detailed-summary", "--dag",
                  "--rulegraph", "--filegraph", "--d3dag", "--lint", "--cleanup-metadata", "--cm",
                  "--delete-all-output", "--delete-temp-output", "--lc", "--archive", "--export-cwl",
                  "--containerize", "--generate-unit-tests", "--cleanup-shadow", "--touch",
                  "--conda-create-envs-only", "--print-compilation", "-l", "-S", "-D", "-t")


def set_aside_dead_records():
    """A stage record that is unreadable, lacks the record schema or its stage's results, says its
    job died, misses a companion file (solvscreen.stages.harness.record_problem) or its companion
    directory is moved, with its companion directory and the run's final tables, into
    <results>/quarantine/<UTC time>/ (solvscreen.stages.quarantine): Snakemake then recomputes
    exactly those records. An aggregate table that does not match the checksum beside it is moved
    there too (with the final tables), so its rule rebuilds it before any rule reads it. A record
    whose job died in `max_job_deaths` runs in a row is kept as a failure instead
    (quarantine.triage_deaths). Only the main process of a run that will execute jobs moves or
    rewrites anything, and never while another run holds this directory's lock."""
    import re
    import sys

    from snakemake.logging import logger
    from solvscreen.stages.quarantine import (find_bad_tables, find_dead_records, read_deaths, set_aside,
                                              triage_deaths)

    if not workflow.is_main_process:
        return
    patterns = [re.sub(r"\{[^}]*\}", "*", str(r.output.get("record"))) for r in workflow.rules
                if "record" in r.output.keys()]
    # a missing record is recomputed by Snakemake itself unless the tables built from it exist
    dead = find_dead_records(patterns, missing=any(Path(t).exists() for t in TARGETS))
    # the aggregate tables (every .csv output without wildcards) that no longer match their checksum
    tables = sorted({str(f) for r in workflow.rules for f in r.output if str(f).endswith(".csv") and "{" not in str(f)})
    bad_tables = find_bad_tables(tables)
    if not dead and not bad_tables and not read_deaths(RESULTS):
        return
    argv = sys.argv[1:]
    inspect = [a for a in argv if a.split("=")[0] in _INSPECT_FLAGS]
    locked = any(Path(".snakemake/locks").glob("*"))
    look_only = workflow.output_settings.dryrun or inspect or locked
    aside, keep = triage_deaths(dead, RESULTS, CONFIG["max_job_deaths"], write=not look_only)
    listing = lambda records: "\n".join(f"  {d.path}: {d.reason}" for d in records)
    if look_only:
        why = ("a dry run" if workflow.output_settings.dryrun else f"{inspect[0]}" if inspect
               else "another run holds the lock of this directory")
        if aside:
            logger.warning(f"solvscreen: {len(aside)} record(s) are no result and will be recomputed by the next "
                           f"run ({why}: nothing moved now):\n{listing(aside)}")
        if bad_tables:
            logger.warning(f"solvscreen: {len(bad_tables)} table(s) do not match their records and will be rebuilt "
                           f"by the next run ({why}: nothing moved now):\n{listing(bad_tables)}")
        if keep:
            logger.warning(f"solvscreen: {len(keep)} died record(s) will be kept as failures by the next run, "
                           f"not recomputed ({why}: nothing changed now):\n{listing(keep)}")
        return
    if keep:
        logger.warning(f"solvscreen: {len(keep)} record(s) kept as failures, not recomputed: their job died in "
                       f"at least max_job_deaths = {CONFIG['max_job_deaths']} runs in a row (to compute one once more, "
                       f"delete it and run again):\n{listing(keep)}")
    if aside or bad_tables:
        folder = set_aside(aside, RESULTS, TARGETS, bad_tables=bad_tables)
    if aside:
        logger.warning(f"solvscreen: {len(aside)} record(s) are no result; moved with their files and the final "
                       f"tables to {folder} and recomputed in this run:\n{listing(aside)}")
    if bad_tables:
        logger.warning(f"solvscreen: {len(bad_tables)} table(s) do not match their records; moved with the final "
                       f"tables to {folder} and rebuilt in this run:\n{listing(bad_tables)}")
