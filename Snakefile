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

from solvscreen.errors import InputError
from solvscreen.library import load_config, validate_all
from solvscreen.plan import make_plan

min_version("9.0")


configfile: "workflows/config.yaml"


try:
    CONFIG = load_config(config)
    LIBRARY, FORMULATIONS = validate_all(CONFIG)
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
include: "workflows/rules/solvation.smk"
include: "workflows/rules/classify.smk"
include: "workflows/rules/md.smk"
include: "workflows/rules/dft.smk"


rule all:
    default_target: True
    input:
        TARGETS,
