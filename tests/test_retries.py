"""A killed job is retried with more resources before it leaves a "job died" record, and a job
that dies run after run is kept as a failure instead of being recomputed forever.

Fast: the `died` fallback per attempt, and the count of deaths in a row
(stages.quarantine.triage_deaths) on constructed records. Slow: real ``snakemake`` runs of the
tiny library in tests/workflow/ with the structure job of DMC killed from outside.
"""

from __future__ import annotations

import csv
import re
import subprocess
from pathlib import Path

import pytest

from solvscreen.interface import cli
from solvscreen.inputs.config import load_config
from solvscreen.core.records import Record
from solvscreen.stages.harness import DIED_REPEATEDLY, NO_RECORD, record_problem, write_died_record
from solvscreen.stages.quarantine import DEATHS, find_dead_records, read_deaths, triage_deaths
from test_recovery import _cmd, _env, _run, needs_snakemake
from test_reliability import kill_job_when_running, started

ROOT = Path(__file__).resolve().parents[1]


# ----------------------------------------------------------------------------- the fallback per attempt
def _died(out: Path, *extra: str) -> int:
    return cli.main(["died", "--stage", "structure", "--name", out.stem, "--out", str(out), "--exit-code", "137",
                     *extra])


# what an ok structure record holds (core.records.result_schema("structure"))
STRUCTURE_RESULTS = {"charge": 0, "uhf": 0, "n_atoms": 3, "energy_Eh": -5.07}

def test_died_fails_the_attempt_while_retries_are_left_and_writes_the_record_on_the_last(tmp_path, caplog):
    out = tmp_path / "structures" / "X.json"
    assert _died(out, "--retries-left", "1") == 137  # Snakemake resubmits it
    assert not out.exists()
    assert "1 attempt(s) left" in caplog.text
    assert _died(out, "--retries-left", "0") == 0
    rec = Record.read(out)
    assert rec.failure == {"error_type": NO_RECORD, "reason": "no record: job died (exit code 137, signal 9)"}
    assert _died(out) == 0  # default: the last attempt (as before retries were known)
    # a record the job wrote before it was killed stands, whatever attempt it is
    ok = tmp_path / "structures" / "Y.json"
    Record(stage="structure", name="Y", status="ok", results=STRUCTURE_RESULTS).write(ok)
    assert _died(ok, "--retries-left", "2") == 0 and Record.read(ok).ok
    # input errors fail the job on every attempt, without a record
    assert cli.main(["died", "--stage", "structure", "--name", "Z", "--out", str(tmp_path / "Z.json"),
                     "--exit-code", "2", "--retries-left", "1"]) == 2


def test_every_stage_rule_tells_its_fallback_the_attempts_left():
    """stage_shell's fallback reads {resources.retries_left}: a stage rule without that resource
    would fail at job time."""
    rules = set()
    for smk in (ROOT / "workflows" / "rules").glob("*.smk"):
        for block in re.split(r"(?m)^(?=rule )", smk.read_text()):
            if "stage_shell(" in block and block.startswith("rule "):
                rules.add(block.split()[1].rstrip(":"))
                assert "retries_left=retries_left," in block, block.splitlines()[0]
    # the scan found the stage rules (a broken split would find none and pass vacuously)
    assert {"structure", "properties", "binding", "ion_pair", "md_params", "md_run", "md_reference",
            "dft"} <= rules


# ----------------------------------------------------------------------------- deaths in a row
def _died_record(path: Path) -> Path:
    write_died_record("structure", path.stem, path, exit_code=137)
    return path


def test_a_job_that_dies_run_after_run_is_kept_as_a_failure_at_max_job_deaths(tmp_path):
    results = tmp_path / "results"
    s = results / "structures"
    pattern = [str(s / "*.json")]
    assert load_config({})["max_job_deaths"] == 3  # the schema's default

    for n in (1, 2):  # runs 1 and 2: set aside (and recomputed), the count grows
        _died_record(s / "A.json")
        aside, keep = triage_deaths(find_dead_records(pattern), results, 3)
        assert [d.path.name for d in aside] == ["A.json"] and keep == []
        assert f"died in {n} run(s) in a row, kept as a failure at 3" in aside[0].reason
        assert read_deaths(results) == {"structures/A.json": n}
        (s / "A.json").unlink()  # what set_aside does

    _died_record(s / "A.json")
    dead = find_dead_records(pattern)
    assert triage_deaths(dead, results, 3, write=False)[1] and read_deaths(results)["structures/A.json"] == 2
    assert record_problem(s / "A.json").startswith("its job died")  # a dry look changed nothing
    aside, keep = triage_deaths(dead, results, 3)
    assert aside == [] and [d.path.name for d in keep] == ["A.json"]
    rec = Record.read(s / "A.json")  # kept in place, rewritten as a failure that says why
    assert rec.status == "failed" and rec.failure["error_type"] == DIED_REPEATEDLY
    reason = rec.failure["reason"]
    assert "died in 3 runs in a row (max_job_deaths = 3)" in reason and "not recomputed again" in reason
    assert "last: job died (exit code 137, signal 9)" in reason and "delete structures/A.json" in reason
    assert record_problem(s / "A.json") is None and find_dead_records(pattern) == []  # a result now
    assert triage_deaths([], results, 3) == ([], [])
    assert read_deaths(results) == {"structures/A.json": 3}  # a kept record keeps its count

    # deleted by hand: one more try; dying again keeps it at once, computing it resets the count
    _died_record(s / "A.json").unlink()
    _died_record(s / "A.json")
    assert [d.path.name for d in triage_deaths(find_dead_records(pattern), results, 3)[1]] == ["A.json"]
    Record(stage="structure", name="A", status="ok", results=STRUCTURE_RESULTS).write(s / "A.json")
    triage_deaths(find_dead_records(pattern), results, 3)
    assert read_deaths(results) == {} and not (results / "quarantine" / DEATHS).exists()


def test_deaths_are_counted_per_record_and_other_dead_records_never_count(tmp_path):
    results = tmp_path / "results"
    s = results / "structures"
    _died_record(s / "A.json")
    _died_record(s / "B.json")
    (s / "C.json").write_text("{")  # unreadable: always set aside, not a death
    aside, keep = triage_deaths(find_dead_records([str(s / "*.json")]), results, 1)
    assert [d.path.name for d in aside] == ["C.json"] and [d.path.name for d in keep] == ["A.json", "B.json"]
    assert read_deaths(results) == {"structures/A.json": 1, "structures/B.json": 1}
    # a failed calculation is computed: it resets the count like an ok record
    Record(stage="structure", name="B", status="failed", failure={"error_type": "scf", "reason": "SCF"}).write(
        s / "B.json")
    triage_deaths([], results, 1)
    assert read_deaths(results) == {"structures/A.json": 1}


# ----------------------------------------------------------------------------- real runs (slow)
def _rows(results: Path, table: str = "descriptors.csv") -> dict[str, dict]:
    return {r["name"]: r for r in csv.DictReader((results / table).open())}


@pytest.mark.slow
@needs_snakemake
def test_the_fallback_knows_the_attempts_left_in_the_main_and_in_a_job_process(tmp_path):
    """Main process: --retries 2 -> the first attempt has 2 left. A job process (as the SLURM
    executor starts it: --mode remote --attempt N --retries 0) takes the count from the main
    process's environment; without it, every attempt writes its record (the old behaviour)."""
    def shells(*extra, env=None):
        proc = subprocess.run(_cmd(tmp_path, "-n", "-p", *extra), cwd=tmp_path, capture_output=True, text=True,
                              timeout=300, env={**_env(), **(env or {})})
        return sorted(set(re.findall(r"--retries-left (\d+)", proc.stdout + proc.stderr))), proc

    assert shells("--retries", "2")[0] == ["2"]
    assert shells()[0] == ["0"]
    job = ("--mode", "remote", "--attempt", "2", "--retries", "0", "--target-jobs", "structure:name=DME")
    found, proc = shells(*job, env={"SOLVSCREEN_RULE_ATTEMPTS": '{"structure": 3}'})
    assert found == ["1"], proc.stdout[-2000:] + proc.stderr[-2000:]
    assert shells(*job, env={"SOLVSCREEN_RULE_ATTEMPTS": ""})[0] == ["0"]


@pytest.mark.slow
@needs_snakemake
def test_a_job_killed_on_its_first_attempt_is_retried_and_computed(tmp_path):
    """--retries 1: the DMC structure job is SIGKILLed on attempt 1; its fallback fails the job,
    Snakemake resubmits it (attempt 2, the profile's larger resources) and it is computed. With no
    retries the same kill leaves the died record (tests/test_reliability.py, tests/test_recovery.py)."""
    workdir = tmp_path / "run"
    workdir.mkdir()
    results = workdir / "results"
    with started(_cmd(workdir, "--retries", "1"), workdir) as proc:
        killed = kill_job_when_running(proc, "structure", "DMC")
        out, _ = proc.communicate(timeout=1500)
    assert killed, "the DMC structure job was never seen running:\n" + out[-3000:]
    assert proc.returncode == 0, out[-5000:]
    assert "structure DMC: job died (exit code 137); 1 attempt(s) left" in out
    desc = _rows(results)
    assert desc["DMC"]["status"] == "ok" and desc["DMC"]["failure_reason"] == "", desc["DMC"]
    assert Record.read(results / "structures" / "DMC.json").ok
    assert _rows(results, "binding.csv")["DMC"]["status"] == "ok"
    assert not (results / "quarantine").exists()


@pytest.mark.slow
@needs_snakemake
def test_a_job_that_dies_in_every_run_is_kept_as_a_failure_after_max_job_deaths(tmp_path):
    """max_job_deaths=2, no retries: DMC's structure job is killed in runs 1 and 2; run 2 set it aside
    and recomputed it, run 3 keeps the died record as a failure that says so and computes nothing
    for DMC; deleting the record gives it one more run, which computes it and clears the count."""
    workdir = tmp_path / "run"
    workdir.mkdir()
    results = workdir / "results"
    config = ("max_job_deaths=2",)
    for run in (1, 2):
        with started(_cmd(workdir, config=config), workdir) as proc:
            killed = kill_job_when_running(proc, "structure", "DMC")
            out, _ = proc.communicate(timeout=1500)
        assert killed and proc.returncode == 0, out[-5000:]
        assert "job died (exit code 137, signal 9)" in _rows(results)["DMC"]["failure_reason"]
    assert "died in 1 run(s) in a row, kept as a failure at 2" in out  # run 2 set it aside
    assert read_deaths(results) == {"structures/DMC.json": 1}

    third = _run(workdir, config=config)
    log = third.stdout + third.stderr
    assert third.returncode == 0, log[-5000:]
    assert "1 record(s) kept as failures, not recomputed: their job died in at least max_job_deaths = 2 runs" in log
    assert "structure DMC" not in log and "rule structure:" not in log  # no structure job ran
    reason = _rows(results)["DMC"]["failure_reason"]
    assert "its job died in 2 runs in a row (max_job_deaths = 2)" in reason
    assert "delete structures/DMC.json" in reason
    assert _rows(results, "binding.csv")["DMC"]["status"] == "failed"
    assert read_deaths(results) == {"structures/DMC.json": 2}
    assert "Nothing to be done" in (lambda p: p.stdout + p.stderr)(_run(workdir, "-n", config=config))

    (results / "structures" / "DMC.json").unlink()
    fourth = _run(workdir, config=config)
    assert fourth.returncode == 0, (fourth.stdout + fourth.stderr)[-5000:]
    assert _rows(results)["DMC"]["status"] == "ok"
    assert read_deaths(results) == {"structures/DMC.json": 2}  # a dry run changes nothing...
    _run(workdir, "-n", config=config)
    assert read_deaths(results) == {"structures/DMC.json": 2}
    fifth = _run(workdir, config=config)  # ...the next run finds it computed and clears the count
    assert fifth.returncode == 0 and "Nothing to be done" in fifth.stdout + fifth.stderr
    assert read_deaths(results) == {} and not (results / "quarantine" / DEATHS).exists()
