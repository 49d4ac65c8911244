# Shared helpers for the stage rules: settings passed to the CLI as JSON so that
# Snakemake's params trigger reruns exactly when a stage's settings change.
import json

# The software every rule needs (documented for `--use-conda`; path relative to rules/).
CONDA_ENV = "../envs/solvscreen.yaml"


def settings_json(*sections):
    """The named config sections as one compact JSON string (a CLI --settings value)."""
    return json.dumps({s: CONFIG[s] for s in sections}, sort_keys=True, separators=(",", ":"))


def molecule(name):
    return LIBRARY.molecules[name]


wildcard_constraints:
    name=r"[^/]+",
    cation=r"[^/]+",
