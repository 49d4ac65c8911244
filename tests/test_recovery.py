"""A dead, unreadable or lost record is recomputed by the next plain run, which says so.

Fast: which records are no result (harness.record_problem) and how they are set aside
(stages.quarantine). Slow: real ``snakemake`` runs of the tiny library in tests/workflow/:
fault injection (a job killed from outside, a truncated record, a record of ``{}``, a deleted
record; a second run started in the same directory meanwhile) compared table by table with
an uninterrupted run; bad input stopped at parse time with nothing written.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from solvscreen.core.records import Record
from solvscreen.stages.harness import record_problem, write_died_record
from solvscreen.stages.quarantine import MISSING, find_dead_records, read_deaths, set_aside
from test_reliability import kill_job_when_running, started

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / "tests" / "workflow"


# ----------------------------------------------------------------------------- which records are no result
def _ok(path: Path, status: str = "ok", failure: dict | None = None) -> Path:
    results = {"charge": 0, "uhf": 0, "n_atoms": 3, "energy_Eh": -5.07} if status == "ok" else {}
    Record(stage="structure", name=path.stem, status=status, failure=failure, results=results).write(path)
    return path


def test_record_problem_names_each_kind_of_dead_record(tmp_path):
    ok = _ok(tmp_path / "A.json")
    failed = _ok(tmp_path / "B.json", "failed", {"error_type": "scf", "reason": "SCF did not converge"})
    assert record_problem(ok) is None and record_problem(failed) is None  # a failed calculation is a result
    assert record_problem(tmp_path / "absent.json") is None  # absent: Snakemake computes it anyway
    died = tmp_path / "C.json"
    write_died_record("structure", "C", died, exit_code=137)
    assert record_problem(died) == "its job died (no record: job died (exit code 137, signal 9))"
    truncated = tmp_path / "D.json"
    truncated.write_text(ok.read_text()[:200])
    assert record_problem(truncated).startswith("unreadable record (JSONDecodeError")
    empty = tmp_path / "E.json"
    empty.write_text("{}")
    assert record_problem(empty) == "record schema version None != 1"
    listing = tmp_path / "F.json"
    listing.write_text("[1, 2]")
    assert record_problem(listing) == "not a record: a JSON list, not an object"
    statusless = json.loads(ok.read_text())
    statusless["status"] = "running"
    (tmp_path / "G.json").write_text(json.dumps(statusless))
    assert "neither 'ok' nor 'failed'" in record_problem(tmp_path / "G.json")


def test_dead_records_and_lost_ones_are_found_and_set_aside_with_their_files(tmp_path):
    results = tmp_path / "results"
    s = results / "structures"
    s.mkdir(parents=True)
    for name in ("A", "B", "C"):
        (s / name).mkdir()
        (s / name / "geometry.xyz").write_text(f"{name}\n")
    _ok(s / "A.json")
    (s / "B.json").write_text("{")
    # C.json is gone while C/ remains (deleted by hand)
    table = results / "descriptors.csv"
    table.write_text("name\nA\nB\nC\n")
    assert [d.path.name for d in find_dead_records([str(s / "*.json")])] == ["B.json"]
    dead = find_dead_records([str(s / "*.json")], missing=True)
    assert [(d.path.name, d.reason == MISSING) for d in dead] == [("B.json", False), ("C.json", True)]
    folder = set_aside(dead, results, [table, results / "absent.csv"], stamp="T")
    assert folder == results / "quarantine" / "T"
    assert sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) == [
        "descriptors.csv", "structures", "structures/B", "structures/B.json", "structures/B/geometry.xyz",
        "structures/C", "structures/C/geometry.xyz", "why.tsv"]
    assert (folder / "structures" / "B.json").read_text() == "{"  # moved, not rewritten: nothing lost
    assert sorted(p.name for p in s.iterdir()) == ["A", "A.json"]
    assert not table.exists()
    why = (folder / "why.tsv").read_text().splitlines()
    assert why[0] == "record\treason" and why[2] == f"structures/C.json\t{MISSING}"
    assert set_aside([], results) is None
    # a second batch at the same time gets its own folder; records set aside are never scanned again
    (s / "A.json").write_text("")
    assert set_aside(find_dead_records([str(results / "*" / "*.json")]), results, stamp="T").name == "T-1"
    assert find_dead_records([str(results / "**" / "*.json")]) == []


def test_docs_what_happens_table_names_tests_that_exist():
    text = (ROOT / "docs" / "failures.md").read_text()
    table = text[text.index("## Jobs, runs and records"):text.index("## Bad input")]
    rows = [line for line in table.splitlines() if line.startswith("| ") and "tests/" in line]
    assert len(rows) == 7  # killed, dying run after run, interrupted, corrupt record, bad input, config change, a second run
    for row in rows:
        for name in row.split("`"):
            if name.startswith("tests/"):
                assert (ROOT / name).is_file(), name


# ----------------------------------------------------------------------------- real runs (slow)
SNAKEMAKE = shutil.which("snakemake")
needs_snakemake = pytest.mark.skipif(SNAKEMAKE is None or not Path("/proc/self/cmdline").exists(),
                                     reason="snakemake or /proc is not available")
TABLES = {"descriptors": ("name",), "binding": ("name", "cation", "kind"), "solvating_power": ("name", "cation"),
          "classification": ("id",), "ranking": ("name",)}
VOLATILE = {"structure_wall_s", "properties_wall_s", "wall_s", "xtb_s", "geometry_xyz", "record"}


def _cmd(workdir: Path, *extra: str, config: tuple[str, ...] = ()) -> list[str]:
    return [SNAKEMAKE, "--snakefile", str(ROOT / "Snakefile"), "--directory", str(workdir), "--cores", "2",
            "--configfile", str(WORKFLOW / "config.yaml"), *extra, "--config", f"results={workdir / 'results'}",
            f"library={WORKFLOW / 'library.csv'}", f"formulations={WORKFLOW / 'formulations.csv'}", *config]


def _env() -> dict:
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}


def _run(workdir: Path, *extra: str, config: tuple[str, ...] = (), timeout: int = 900):
    workdir.mkdir(parents=True, exist_ok=True)
    return subprocess.run(_cmd(workdir, *extra, config=config), cwd=workdir, env=_env(), capture_output=True,
                          text=True, timeout=timeout)


def tables(results: Path) -> dict[str, list[dict]]:
    """Every table of a run, rows sorted by their key, without the columns that measure the run."""
    out = {}
    for name, key in TABLES.items():
        with (results / f"{name}.csv").open(newline="") as fh:
            rows = [{k: v.replace(str(results), "<results>") for k, v in row.items() if k not in VOLATILE}
                    for row in csv.DictReader(fh)]
        out[name] = sorted(rows, key=lambda r: tuple(r[k] for k in key))
    return out


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """An uninterrupted run."""
    workdir = tmp_path_factory.mktemp("reference")
    proc = _run(workdir)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    return tables(workdir / "results")


@pytest.mark.slow
@needs_snakemake
def test_killed_job_and_corrupt_records_are_recomputed_to_the_uninterrupted_tables(reference, tmp_path):
    workdir = tmp_path / "run"
    workdir.mkdir()
    results = workdir / "results"
    with started(_cmd(workdir), workdir) as proc:
        killed = kill_job_when_running(proc, "structure", "DMC")
        while proc.poll() is None and not (results / "structures" / "DMC.json").exists():
            time.sleep(0.05)  # the died fallback writes the failure record
        # a second run in the same directory meanwhile: refused by the lock, and it moves nothing.
        # The first run's main process is paused while the second one starts, so that "meanwhile"
        # holds however fast the tiny library's remaining jobs are (they take seconds).
        assert proc.poll() is None, "the first run ended before a second one could be started"
        os.kill(proc.pid, signal.SIGSTOP)
        try:
            second = _run(workdir, timeout=300)
        finally:
            os.kill(proc.pid, signal.SIGCONT)
        out, _ = proc.communicate(timeout=900)
    assert killed, "the DMC structure job was never seen running:\n" + out[-3000:]
    assert second.returncode != 0 and "lock" in (second.stdout + second.stderr).lower(), second.stderr[-3000:]
    assert "another run holds the lock" in second.stderr
    assert proc.returncode == 0, out[-5000:]
    assert not (results / "quarantine").exists()
    first = tables(results)
    desc = {r["name"]: r for r in first["descriptors"]}
    assert desc["DMC"]["status"] == "failed" and "job died (exit code 137, signal 9)" in desc["DMC"]["failure_reason"]

    # damage three more records: truncated, emptied, deleted (its directory stays)
    dme = results / "structures" / "DME.json"
    dme_text = dme.read_text()
    os.truncate(dme, 200)
    (results / "properties" / "FSI.json").write_text("{}")
    (results / "binding" / "K+" / "DME.json").unlink()

    # commands that run no job only list what the next run will set aside
    for extra in (["-n"], ["--unlock"], ["--report", str(tmp_path / "report.zip")]):
        look = _run(workdir, *extra)
        assert "4 record(s) are no result and will be recomputed by the next run" in look.stdout + look.stderr, extra
        assert (results / "properties" / "FSI.json").read_text() == "{}" and not (results / "quarantine").exists()

    rerun = _run(workdir)
    log = rerun.stdout + rerun.stderr
    assert rerun.returncode == 0, log[-5000:]
    assert "solvscreen: 4 record(s) are no result" in log
    for path, why in (("structures/DMC.json", "its job died"), ("structures/DME.json", "unreadable record"),
                      ("properties/FSI.json", "record schema version None != 1"),
                      ("binding/K+/DME.json", "record missing")):
        assert f"{results / path}: {why}" in log
    assert tables(results) == reference  # every table, every row, as if nothing had happened
    (folder,) = (p for p in (results / "quarantine").iterdir() if p.is_dir())
    assert read_deaths(results) == {"structures/DMC.json": 1}  # its first death in a row (max_job_deaths)
    assert (folder / "structures" / "DME.json").read_text() == dme_text[:200]  # nothing lost
    assert {p.name for p in folder.iterdir() if p.is_file()} == ({f"{t}.csv" for t in TABLES} | {"report.html", "why.tsv"}
                                                                 | {f"{t}.csv.sha256" for t in TABLES})
    again = _run(workdir, "-n")
    assert "Nothing to be done" in again.stdout + again.stderr and "no result" not in again.stdout + again.stderr


@pytest.mark.slow
@needs_snakemake
def test_records_without_results_lost_geometry_and_truncated_table_are_redone(reference, tmp_path):
    """Issue 26, holes 3-5. Before: a binding record without its ``results`` was used (binding.csv
    showed it ok with an empty energy, its solvation job failed with KeyError 'cation'); a deleted
    ``structures/<name>/`` was "Nothing to be done"; a truncated binding.csv fed classify, rank and
    report and stayed truncated."""
    workdir = tmp_path / "run"
    results = workdir / "results"
    first = _run(workdir)
    assert first.returncode == 0, first.stderr[-5000:]
    binding = results / "binding" / "K+" / "DMC.json"
    data = json.loads(binding.read_text())
    del data["results"]
    binding.write_text(json.dumps(data))
    shutil.rmtree(results / "structures" / "DME")
    text = (results / "binding.csv").read_text()
    (results / "binding.csv").write_text(text[: len(text) // 2])

    look = _run(workdir, "-n")
    said = look.stdout + look.stderr
    assert "2 record(s) are no result and will be recomputed by the next run" in said, said[-3000:]
    assert "1 table(s) do not match their records and will be rebuilt by the next run" in said
    rerun = _run(workdir)
    log = rerun.stdout + rerun.stderr
    assert rerun.returncode == 0, log[-5000:]
    for path, why in (("binding/K+/DMC.json", "record without results"),
                      ("structures/DME.json", "companion file missing: DME/ensemble.xyz, DME/geometry.sdf, "
                                              "DME/geometry.xyz"),
                      ("binding.csv", "table binding.csv does not match its checksum (binding.csv.sha256)")):
        assert f"{results / path}: {why}" in log, path
    assert tables(results) == reference  # every table, every row, as if nothing had happened
    assert (results / "structures" / "DME" / "geometry.xyz").is_file()
    assert Record.read(binding).ok
    again = _run(workdir, "-n")
    assert "Nothing to be done" in again.stdout + again.stderr and "no result" not in again.stdout + again.stderr


@pytest.mark.slow
@needs_snakemake
@pytest.mark.parametrize("override", ["grid-salt", "grid-solvent", "stable-reference", "reduced-reference"])
def test_snakemake_rejects_an_unknown_name_before_any_job(tmp_path, override):
    from test_validation_rules import BAD_INPUTS

    overrides, _, message = BAD_INPUTS[override]
    (section, value), = overrides.items()
    proc = _run(tmp_path, config=(f"{section}={value!r}",), timeout=300)
    text = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "invalid input, nothing was run" in text and message in text, text[-3000:]
    assert not (tmp_path / "results").exists()


@pytest.mark.slow
@needs_snakemake
def test_malformed_workflow_config_is_reported_with_file_and_line(tmp_path):
    cfg = tmp_path / "workflows" / "config.yaml"
    cfg.parent.mkdir()
    cfg.write_text("threads: 1\nengine: [unclosed\nresults: r\n")
    proc = subprocess.run([SNAKEMAKE, "-n", "--snakefile", str(ROOT / "Snakefile"), "--directory", str(tmp_path),
                           "--cores", "1"], cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=300)
    text = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "workflows/config.yaml: malformed YAML: line 3, column 8" in text, text[-3000:]
