# Shared helpers for the stage rules: settings passed to the CLI as JSON so that
# Snakemake's params trigger reruns exactly when a stage's settings change.
import json
import shlex

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
