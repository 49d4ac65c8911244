"""The stage harness: records, failure capture, engine counters, declared files, dead jobs."""

from dataclasses import dataclass

import numpy as np
import pytest

from solvscreen.interface.cli import main
from solvscreen.core.errors import InputError
from solvscreen.core.records import Record
from solvscreen.stages import StageResult, read_record, run_stage, write_died_record
from solvscreen.stages.harness import NO_RECORD


@dataclass
class _Energy(StageResult):
    energy_Eh: float
    n_atoms: int
    COLUMNS = ("energy_Eh", "n_atoms")


def test_ok_record_has_results_files_counters_and_provenance(tmp_path):
    def compute(ctx):
        engine = ctx.engine()
        sp = engine.singlepoint(np.array([8, 1, 1]), np.array([[0, 0, 0], [0.96, 0, 0], [-0.24, 0.93, 0]]))
        ctx.write_file("xyz", "water.xyz", "3\n\nO 0 0 0\nH 0.96 0 0\nH -0.24 0.93 0\n")
        ctx.count(widgets=2)
        return _Energy(energy_Eh=sp.energy_Eh, n_atoms=3)

    out = tmp_path / "st" / "water.json"
    rec = run_stage("test", "water", out, compute, inputs={"smiles": "O"})
    assert rec.ok and out.exists()
    back = Record.read(out)
    assert back.results["energy_Eh"] < -5.0  # GFN2-xTB water is about -5.07 Eh
    assert back.files["xyz"] == "water/water.xyz" and (tmp_path / "st" / "water" / "water.xyz").exists()
    assert back.timings["engine"]["singlepoints"] >= 1
    assert back.timings["counters"] == {"widgets": 2}
    assert back.provenance["engine"] == "tblite"
    assert _Energy(energy_Eh=1.0, n_atoms=3).row() == {"energy_Eh": 1.0, "n_atoms": 3}


def test_calculation_failure_is_a_record_and_input_error_raises(tmp_path):
    def bad(ctx):
        ctx.fail("SCF did not converge", "scf")

    rec = run_stage("test", "x", tmp_path / "x.json", bad)
    assert not rec.ok and rec.failure == {"error_type": "scf", "reason": "SCF did not converge"}
    assert Record.read(tmp_path / "x.json").status == "failed"

    def user_error(ctx):
        raise InputError("bad row")

    with pytest.raises(InputError):
        run_stage("test", "y", tmp_path / "y.json", user_error)
    assert not (tmp_path / "y.json").exists()


def test_failed_upstream_stops_the_stage_with_its_reason(tmp_path):
    up = Record(stage="structure", name="m", status="failed", failure={"error_type": "embedding", "reason": "no 3D"})
    called = []
    rec = run_stage("properties", "m", tmp_path / "m.json", lambda ctx: called.append(1), requires=[up])
    assert not called
    assert (tmp_path / "m").is_dir() and not any((tmp_path / "m").iterdir())  # empty, but there
    assert rec.failure["error_type"] == "structure:embedding" and "no 3D" in rec.failure["reason"]


def test_file_keys_and_names_are_checked(tmp_path):
    def twice(ctx):
        ctx.write_file("xyz", "a.xyz", "")
        ctx.write_file("xyz", "b.xyz", "")

    rec = run_stage("test", "t", tmp_path / "t.json", twice)
    assert not rec.ok and "declared twice" in rec.failure["reason"]
    assert (tmp_path / "t").is_dir()  # the record's directory (a declared workflow output) exists


def test_missing_record_reads_as_failure_and_died_job_writes_one(tmp_path):
    rec = read_record(tmp_path / "structures" / "DME.json")
    assert not rec.ok and rec.failure["error_type"] == NO_RECORD and rec.name == "DME"
    log = tmp_path / "job.log"
    log.write_text("starting\nKilled\n")
    out = tmp_path / "structures" / "DME.json"
    assert main(["died", "--stage", "structure", "--name", "DME", "--out", str(out),
                 "--exit-code", "137", "--log", str(log)]) == 0
    back = Record.read(out)
    assert back.failure["error_type"] == NO_RECORD
    assert "exit code 137, signal 9" in back.failure["reason"] and "Killed" in back.failure["reason"]
    assert (tmp_path / "structures" / "DME").is_dir()
    # an existing record is never overwritten by the fallback
    assert write_died_record("structure", "DME", out, exit_code=1) is None
