"""End-to-end: a real ``snakemake --cores 2`` on the tiny library in tests/workflow/.

Targets ``<results>/descriptors.csv`` only, so the test does not depend on later stages.
Proves: every molecule gets a row (values or a failure reason); a rerun with nothing
changed runs no job and leaves the table byte-identical; a run interrupted mid-way resumes
with the default profile's ``rerun-incomplete`` and gives the same numbers; invalid input
stops at parse time with the file and row named and nothing written.
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

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / "tests" / "workflow"
MOLECULES = {"DME", "DMC", "FSI", "K+"}  # what the tiny library computes (KFSI via its ions)
# columns that measure the run, not the chemistry
VOLATILE = {"structure_wall_s", "properties_wall_s", "xtb_s", "geometry_xyz"}

SNAKEMAKE = shutil.which("snakemake")
if SNAKEMAKE is None:  # pragma: no cover
    pytest.skip("snakemake is not installed", allow_module_level=True)


def _env() -> dict:
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}


def _cmd(results: Path, *extra: str, library: Path = WORKFLOW / "library.csv") -> list[str]:
    # Each run works in its own directory (results' parent), so its .snakemake/ (locks,
    # incomplete-job markers, metadata) is its own and never the repository's. The
    # workflow's default profile (profiles/default, beside the Snakefile) still applies.
    # The target comes first: --config takes every following word as key=value.
    return [SNAKEMAKE, str(results / "descriptors.csv"), "--snakefile", str(ROOT / "Snakefile"),
            "--directory", str(results.parent), "--cores", "2",
            "--configfile", str(WORKFLOW / "config.yaml"), *extra,
            "--config", f"results={results}", f"library={library}",
            f"formulations={WORKFLOW / 'formulations.csv'}"]


def snakemake(results: Path, *extra: str, library: Path = WORKFLOW / "library.csv", timeout: int = 600):
    results.parent.mkdir(parents=True, exist_ok=True)
    return subprocess.run(_cmd(results, *extra, library=library), cwd=results.parent, env=_env(),
                          capture_output=True, text=True, timeout=timeout)


def read_table(path: Path) -> dict[str, dict]:
    with path.open(newline="") as fh:
        return {row["name"]: row for row in csv.DictReader(fh)}


def stable(table: dict[str, dict]) -> dict[str, dict]:
    return {name: {k: v for k, v in row.items() if k not in VOLATILE} for name, row in table.items()}


@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    results = tmp_path_factory.mktemp("wf") / "results"
    proc = snakemake(results)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    return results


def test_descriptor_table_has_every_molecule(first_run):
    table = read_table(first_run / "descriptors.csv")
    assert set(table) == MOLECULES
    for name, row in table.items():
        if row["status"] == "ok":
            assert row["failure_reason"] == ""
            assert row["energy_Eh"] and row["lumo_eV"] and row["method"] == "GFN2-xTB", name
            assert Path(row["geometry_xyz"]).is_file()
        else:
            assert row["status"] == "failed" and row["failure_reason"], name
    assert all(table[n]["status"] == "ok" for n in ("DME", "DMC", "FSI"))
    assert float(table["DME"]["homo_eV"]) < float(table["DME"]["lumo_eV"])
    assert table["FSI"]["charge_e"] == "-1" and table["K+"]["charge_e"] == "1"
    assert table["K+"]["homo_eV"] == ""  # no valence electron: no HOMO
    # every job leaves a log and a record
    for name in MOLECULES:
        assert (first_run / "structures" / f"{name}.json").is_file()
        assert (first_run / "properties" / f"{name}.json").is_file()
        assert (first_run / "logs" / "structure" / f"{name}.log").is_file()


def test_rerun_with_nothing_changed_runs_nothing(first_run):
    table = first_run / "descriptors.csv"
    before, mtime = table.read_bytes(), table.stat().st_mtime_ns
    dry = snakemake(first_run, "-n")
    assert dry.returncode == 0, dry.stderr[-3000:]
    assert "Nothing to be done" in dry.stdout + dry.stderr
    again = snakemake(first_run)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "Nothing to be done" in again.stdout + again.stderr
    assert table.read_bytes() == before and table.stat().st_mtime_ns == mtime


def _interrupt_mid_run(results: Path, how: str) -> str:
    """Start a run and interrupt it as soon as the first molecule's properties record exists:
    other jobs are then still running or waiting, and the table is not written yet."""
    results.parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(_cmd(results), cwd=results.parent, env=_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    deadline = time.monotonic() + 300
    try:
        while not any((results / "properties").glob("*.json")):
            assert proc.poll() is None, "snakemake ended before it could be interrupted:\n" + proc.stdout.read()
            assert time.monotonic() < deadline, "no properties record appeared in 300 s"
            time.sleep(0.05)
        # Ctrl-C at a terminal signals the whole process group: snakemake and its running jobs
        os.killpg(proc.pid, signal.SIGINT if how == "ctrl-c" else signal.SIGKILL)
        out, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode != 0, out[-3000:]
    return out


@pytest.mark.parametrize("how", ["ctrl-c", "kill-9"])
def test_interrupted_run_resumes(first_run, tmp_path, how):
    results = tmp_path / "results"
    out = _interrupt_mid_run(results, how)
    assert not (results / "descriptors.csv").exists(), "the run finished before the interrupt:\n" + out[-2000:]
    done = {p.stem for p in (results / "properties").glob("*.json")}
    assert done and done < MOLECULES  # interrupted mid-way
    for record in results.rglob("*.json"):  # records are written atomically: none is half-written
        json.loads(record.read_text())
    if how == "ctrl-c":
        assert not list(results.rglob("*.tmp"))
    else:
        # a hard kill leaves snakemake's lock behind; `--unlock` is the documented way out
        locked = snakemake(results)
        assert locked.returncode != 0 and "--unlock" in locked.stdout + locked.stderr
        unlock = snakemake(results, "--unlock")
        assert unlock.returncode == 0, unlock.stderr[-3000:]

    # the default profile (profiles/default: rerun-incomplete, keep-going) resumes the run
    resumed = snakemake(results)
    assert resumed.returncode == 0, resumed.stdout[-3000:] + resumed.stderr[-5000:]
    assert stable(read_table(results / "descriptors.csv")) == stable(read_table(first_run / "descriptors.csv"))
    assert "Nothing to be done" in snakemake(results, "-n").stdout


def test_invalid_smiles_stops_at_parse_time(tmp_path):
    lib = tmp_path / "library.csv"
    rows = (ROOT / "tests" / "workflow" / "library.csv").read_text().splitlines()
    rows.insert(3, "BROKEN,,C1CC(,solvent,a ring that never closes,,")  # data row 3
    lib.write_text("\n".join(rows) + "\n")
    results = tmp_path / "results"
    proc = snakemake(results, library=lib, timeout=300)
    text = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert str(lib) in text or "library.csv" in text, text[-3000:]
    assert "row 3" in text and "C1CC(" in text, text[-3000:]
    assert not results.exists()
