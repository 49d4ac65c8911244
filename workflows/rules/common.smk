# Shared helpers for the stage rules: settings passed to the CLI as JSON so that
# Snakemake's params trigger reruns exactly when a stage's settings change.
import json
import shlex
from pathlib import Path

# The software every rule needs (documented for `--use-conda`; path relative to rules/).
CONDA_ENV = "../envs/solvscreen.yaml"


def settings_json(*sections):
    """The named config sections as one compact JSON string (a CLI --settings value)."""
    return json.dumps({s: CONFIG[s] for s in sections}, sort_keys=True, separators=(",", ":"))


def molecule(name):
    return LIBRARY.molecules[name]


def stage_shell(cmd, stage, name="{wildcards.name:q}", inputs=""):
    """The shell command of a stage rule: ``cmd`` with its output in the job's log, then
    :func:`died_fallback`."""
    return f"{cmd} > {{log:q}} 2>&1{died_fallback(stage, name, inputs)}"


def died_fallback(stage, name="{wildcards.name:q}", inputs=""):
    """Shell fallback of a stage rule: a job killed from outside (out of memory, a signal, a
    cluster time limit) leaves a failure record ("no record: job died") instead of none, so
    the tables are still written. Input errors (exit 2, 3) still fail the job."""
    return (f" || solvscreen died --stage {stage} --name {name} --out {{output.record:q}} --exit-code $?"
            f" --log {{log:q}} --files-dir {{output.dir:q}}" + (f" {inputs}" if inputs else ""))


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
    """A stage record that is unreadable, lacks the record schema or says its job died
    (solvscreen.stages.harness.record_problem) is moved, with its companion directory and the
    run's final tables, into <results>/quarantine/<UTC time>/ (solvscreen.stages.quarantine):
    Snakemake then recomputes exactly those records. Only the main process of a run that will
    execute jobs moves anything, and never while another run holds this directory's lock."""
    import re
    import sys

    from snakemake.logging import logger
    from solvscreen.stages.quarantine import find_dead_records, set_aside

    if not workflow.is_main_process:
        return
    patterns = [re.sub(r"\{[^}]*\}", "*", str(r.output.get("record"))) for r in workflow.rules
                if "record" in r.output.keys()]
    # a missing record is recomputed by Snakemake itself unless the tables built from it exist
    dead = find_dead_records(patterns, missing=any(Path(t).exists() for t in TARGETS))
    if not dead:
        return
    listing = "\n".join(f"  {d.path}: {d.reason}" for d in dead)
    argv = sys.argv[1:]
    inspect = [a for a in argv if a.split("=")[0] in _INSPECT_FLAGS]
    if workflow.output_settings.dryrun or inspect or any(Path(".snakemake/locks").glob("*")):
        why = ("a dry run" if workflow.output_settings.dryrun else f"{inspect[0]}" if inspect
               else "another run holds the lock of this directory")
        logger.warning(f"solvscreen: {len(dead)} record(s) are no result and will be recomputed by the next "
                       f"run ({why}: nothing moved now):\n{listing}")
        return
    folder = set_aside(dead, RESULTS, TARGETS)
    logger.warning(f"solvscreen: {len(dead)} record(s) are no result; moved with their files and the final "
                   f"tables to {folder} and recomputed in this run:\n{listing}")


# ---- helpers of the stage files (they read the globals those files define) ----------------
def classify_evidence_args(wildcards, input):
    """--solvation/--coordination/--dft-binding for the optional inputs this run has."""
    return " ".join(f"--{key.replace('_', '-')} {shlex.quote(str(input[key]))}"
                    for key in ("solvation", "coordination", "dft_binding") if key in input.keys())


def md_species(fid):
    """Library names of a formulation's cation, anion and liquid components."""
    f = _MD_BY_ID[fid]
    salt = LIBRARY.resolve(f.salt)
    return [salt.cation, salt.anion, *(LIBRARY.resolve(n).name for n in f.component_names)]


def dft_resources(wildcards, attempt):
    return dft_job_resources(molecule(wildcards.name).smiles, DFT_LEVEL.basis, DFT.relax, attempt,
                             DFT_THREADS, DFT.gpu)
