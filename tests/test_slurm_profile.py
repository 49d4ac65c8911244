"""profiles/slurm against the workflow's rules, without a cluster (fast; default test run).

A rule added to the workflow must get cluster resources and a group in the profile, or it
would be submitted ungrouped with the fallback resources; the real-cluster behaviour is in
tests/test_slurm_workflow.py (marked slurm).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
PROFILE = yaml.safe_load((ROOT / "profiles" / "slurm" / "config.yaml").read_text())
CI_PROFILE = yaml.safe_load((ROOT / "profiles" / "slurm-ci" / "config.yaml").read_text())


def _rules() -> dict[str, str]:
    """Rule name -> its text, from the Snakefile and workflows/rules/*.smk."""
    rules = {}
    for path in [ROOT / "Snakefile", *sorted((ROOT / "workflows" / "rules").glob("*.smk"))]:
        parts = re.split(r"^(?:local)?rule (\w+):", path.read_text(), flags=re.M)
        for name, body in zip(parts[1::2], parts[2::2]):
            rules[name] = re.split(r"^\S", body, maxsplit=1, flags=re.M)[0]
    return rules


RULES = _rules()
# rules that run on the submit node: `localrule: True`, or no command at all (e.g. `all`)
LOCAL = {n for n, body in RULES.items()
         if re.search(r"^\s+localrule:\s*True", body, re.M) or not re.search(r"^\s+(shell|run|script):", body, re.M)}
REMOTE = sorted(set(RULES) - LOCAL)
# rules whose memory and runtime are sized per molecule inside the rule (a profile entry
# would override that): rule -> the sizing function its resources call. They run minutes to
# hours each, so they are not grouped either (a group asks for the sum of its runtimes).
SIZED_IN_RULE = {"dft": "dft_job_resources"}


def _value(expr, attempt: int) -> float:
    return eval(str(expr), {"__builtins__": {}}, {"attempt": attempt})


def test_profile_runs_through_the_slurm_executor_and_resumes():
    assert PROFILE["executor"] == "slurm"
    assert PROFILE["keep-going"] is True and PROFILE["rerun-incomplete"] is True
    assert PROFILE["retries"] >= 1
    assert PROFILE["slurm-logdir"]
    # partition and account are site settings, never in the shared profile
    assert "slurm_account" not in PROFILE["default-resources"]
    assert "slurm_partition" not in PROFILE["default-resources"]


def test_the_workflow_has_the_rules_the_profile_knows():
    assert {"structure", "properties"} <= set(REMOTE), REMOTE
    assert "descriptors" in LOCAL and "all" in LOCAL
    unknown = set(PROFILE["set-resources"]) - set(RULES)
    assert not unknown, f"profiles/slurm set-resources for rules that do not exist: {unknown}"


# rules whose runtime comes from the rule itself (the MD preset), not from the profile
RUNTIME_FROM_RULE = {"md_run", "md_reference", "md_pmf", "md_prefsolv"}
# rules that are one long (GPU) job each: never packed into a group
UNGROUPED = {"md_run", "md_reference", "md_pmf", "md_prefsolv"}


@pytest.mark.parametrize("rule", [r for r in REMOTE if r not in SIZED_IN_RULE])
def test_every_submitted_rule_has_resources_that_grow_per_attempt(rule):
    res = PROFILE["set-resources"].get(rule)
    assert res, f"rule {rule} runs on the cluster: give it mem_mb/runtime in profiles/slurm set-resources"
    for key in ("mem_mb", "runtime"):
        if key == "runtime" and rule in RUNTIME_FROM_RULE:
            assert key not in res, f"{rule}: the profile would override the preset's runtime"
            continue
        first, second = _value(res[key], 1), _value(res[key], 2)
        assert 0 < first < second, (rule, key, res[key])


def test_md_jobs_take_runtime_and_gpu_from_the_preset():
    from solvscreen.md.settings import PRESETS, runtime_minutes, slurm_resources

    for rule in ("md_run", "md_reference"):
        body = RULES[rule]
        assert re.search(r"runtime=lambda wc, attempt: MD_RESOURCES\[\"runtime\"\] \* attempt", body), body
        assert 'gpu=MD_RESOURCES["gpu"]' in body, body
        assert "gpu" not in PROFILE["set-resources"][rule]  # the profile must not override the preset
    assert "MD_RESOURCES = slurm_resources(MD_SETTINGS)" in (ROOT / "workflows/rules/md.smk").read_text()
    minutes = [runtime_minutes(p) for p in PRESETS]
    assert minutes == sorted(minutes) and minutes[0] >= 30  # longer presets ask for more time
    assert [slurm_resources(p)["gpu"] for p in PRESETS] == [0, 0, 1]  # production is the GPU preset


def test_md_rules_are_never_grouped_with_xtb_jobs():
    groups = PROFILE["groups"]
    xtb_groups = {groups[r] for r in ("structure", "properties", "ion_pair", "binding", "solvation") if r in groups}
    assert "md_run" not in groups
    assert groups.get("md_params") not in xtb_groups


@pytest.mark.parametrize("rule", [r for r in REMOTE if r not in UNGROUPED | set(SIZED_IN_RULE)])
def test_every_submitted_rule_is_grouped(rule):
    group = PROFILE["groups"].get(rule)
    assert group, f"rule {rule} runs on the cluster: put it in a group in profiles/slurm"
    assert PROFILE["group-components"][group] > 1


def test_groups_do_not_chain_the_whole_library_into_one_job():
    """A group's jobs that depend on each other are one component. Binding needs the cation's
    structure and a shell needs all ion pairs of its cation: in the group of those, every
    molecule would hang together through K+ and the library would become one SLURM job."""
    groups = PROFILE["groups"]
    if "binding" in groups:
        assert groups["binding"] != groups["structure"]
    if "solvation" in groups and "ion_pair" in groups:
        assert groups["solvation"] != groups["ion_pair"]


def test_group_jobs_ask_for_the_cpus_they_use():
    # the job step runs a group's members one at a time: one member's threads are enough
    assert PROFILE["cores"] == 1


def test_ci_profile_fits_the_ci_cluster():
    slurm_up = (ROOT / ".ci" / "slurm-up").read_text()
    min_job_age = int(re.search(r"^MinJobAge=(\d+)", slurm_up, re.M).group(1))
    assert CI_PROFILE["slurm-status-command"] == "squeue"  # no accounting database: no sacct
    # else the plugin falls back to sacct, which fails silently without the database
    assert min_job_age >= 3 * CI_PROFILE["slurm-init-seconds-before-status-checks"]
    assert CI_PROFILE["default-resources"]["slurm_partition"] == "debug"
    assert "slurm_account" not in CI_PROFILE["default-resources"]
    # a workflow profile's default-resources replace the profile's as a whole
    assert {"mem_mb", "runtime"} <= set(CI_PROFILE["default-resources"])


def test_dft_rule_is_sized_per_molecule_and_attempt():
    """The DFT rule asks for memory and runtime by molecule size (and a GPU only when
    `dft.gpu` is set); the profile must not override that with one fixed value."""
    from solvscreen.dft.resources import basis_functions, dft_job_resources

    for rule, fn in SIZED_IN_RULE.items():
        assert rule in REMOTE, f"{rule} should be submitted to the cluster"
        assert rule not in PROFILE["set-resources"], f"{rule}: set-resources would override the per-molecule sizing"
        assert rule not in PROFILE["groups"]
        body = RULES[rule]
        assert "mem_mb=lambda wc, attempt" in body and "runtime=lambda wc, attempt" in body
        assert '"gpu": 1} if DFT.gpu' in body
        assert fn in (ROOT / "workflows" / "rules" / f"{rule}.smk").read_text()
    # measured basis sizes (PySCF 2.14): K+.H2O 76 and K+.DME 279 functions at def2-TZVP
    assert basis_functions("O") == 76 and basis_functions("COCCOC") == 279
    small, big = dft_job_resources("O"), dft_job_resources("COCCOCCOCCOCCOC")
    assert small["runtime"] < big["runtime"] and small["mem_mb"] < big["mem_mb"]
    again = dft_job_resources("COCCOCCOCCOCCOC", attempt=2)
    assert again["runtime"] > big["runtime"] and again["mem_mb"] > big["mem_mb"]
    assert dft_job_resources("COCCOC", relax="full")["runtime"] > dft_job_resources("COCCOC")["runtime"]
