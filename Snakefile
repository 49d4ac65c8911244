# solvscreen: screen electrolyte components for potassium-metal batteries.
#
#   snakemake --cores all                         # default library, default profile
#   snakemake --cores all --configfile my.yaml     # a custom library / formulations / settings
#   snakemake --profile profiles/slurm             # on a SLURM cluster
#
# Everything is validated here, at parse time, before any job runs: a bad SMILES,
# an unknown component or a malformed config stops the workflow with the file,
# row and reason, and nothing is written.

from snakemake.exceptions import WorkflowError
from snakemake.utils import min_version

from solvscreen.core.errors import InputError
from solvscreen.core.registry import STAGES
from solvscreen.inputs.config import load_config, read_config_files
from solvscreen.interface.inputs import validate_all
from solvscreen.inputs.plan import make_plan
from solvscreen.design.library import design_for_run

min_version("9.0")


try:
    # `configfile: "workflows/config.yaml"`, with solvscreen's reading of a file Snakemake cannot
    # parse: its file, line and column. (Files given with --configfile are read by Snakemake before
    # this file runs; `solvscreen validate --configfile FILE` locates their errors.)
    try:
        workflow.configfile("workflows/config.yaml")
    except WorkflowError:
        read_config_files(["workflows/config.yaml"])
        raise
    CONFIG = load_config(config)
    LIBRARY, FORMULATIONS = validate_all(CONFIG)
    # config `design`: a parent's new derivatives that pass the filters join the library (None: off)
    DESIGN = design_for_run(CONFIG, LIBRARY)
    if DESIGN is not None:
        CONFIG, LIBRARY = DESIGN.config, DESIGN.library
    PLAN = make_plan(CONFIG, LIBRARY, FORMULATIONS)
except InputError as exc:
    raise WorkflowError(f"solvscreen: invalid input, nothing was run.\n{exc}")

RESULTS = CONFIG["results"]
THREADS = CONFIG["threads"]

# Each stage file appends its final products; `rule all` asks for all of them.
TARGETS = []


include: "workflows/rules/common.smk"
include: "workflows/rules/descriptors.smk"
include: "workflows/rules/binding.smk"
include: "workflows/rules/classify.smk"
include: "workflows/rules/design.smk"
# the stage packages' rule files, from the stage registry (solvscreen.core.registry.STAGES)
for _stage in STAGES:
    include: _stage.rules


publish_rule_attempts()
set_aside_dead_records()


rule all:
    default_target: True
    input:
        TARGETS,
