"""Records: atomic writes, failures as data, schema versioning."""

from __future__ import annotations

import csv
import json
import os

import pytest

from solvscreen import SCHEMA_VERSION
from solvscreen.core import records as records_mod
from solvscreen.stages.properties import aggregate_descriptors, run_properties
from solvscreen.stages.structure import run_structure
from solvscreen.xtb.engine import EngineSettings
from solvscreen.core.errors import InputError, SolvscreenError
from solvscreen.core.records import Record, write_text_atomic
from solvscreen.xtb.structures import ConformerSettings


def _leftovers(directory) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


def test_atomic_write_interrupted_mid_write_leaves_old_file_and_no_partial(tmp_path, monkeypatch):
    target = tmp_path / "rec.json"
    write_text_atomic(target, "old complete content\n")

    real_fdopen = os.fdopen

    class HalfWriter:
        """A file that writes half of what it is given, then the process is interrupted."""

        def __init__(self, fh):
            self.fh = fh

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.fh.close()
            return False

        def write(self, text):
            self.fh.write(text[: len(text) // 2])
            self.fh.flush()
            raise KeyboardInterrupt

    monkeypatch.setattr(records_mod.os, "fdopen", lambda fd, mode: HalfWriter(real_fdopen(fd, mode)))
    with pytest.raises(KeyboardInterrupt):
        write_text_atomic(target, "new content " * 1000)
    monkeypatch.undo()

    assert target.read_text() == "old complete content\n"
    assert _leftovers(tmp_path) == []


def test_atomic_write_failed_rename_leaves_no_file(tmp_path, monkeypatch):
    target = tmp_path / "sub" / "new.json"

    def failing_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(records_mod.os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        write_text_atomic(target, "x" * 100)
    monkeypatch.undo()
    assert not target.exists()
    assert _leftovers(target.parent) == []


def test_failed_calculation_becomes_a_failed_record(tmp_path):
    """An SCF that cannot converge (1 iteration allowed, every rung of the retry ladder fails)
    is a molecule's fate, not a crash: the structure record says failed and why, the
    properties stage passes the failure on, and the descriptor table has a row with the reason."""
    hopeless = EngineSettings(max_iterations=1)
    s_path, p_path = tmp_path / "structures" / "DME.json", tmp_path / "properties" / "DME.json"
    rec = run_structure("DME", "COCCOC", "solvent", s_path, hopeless, ConformerSettings(n_embed=2))
    assert rec.status == "failed"
    assert rec.failure["error_type"] == "scf"
    assert "SCF" in rec.failure["reason"]
    assert not (tmp_path / "structures" / "DME" / "geometry.xyz").exists()  # no geometry for a failed search

    on_disk = Record.read(s_path)
    assert on_disk.status == "failed" and on_disk.failure == rec.failure
    assert on_disk.timings["wall_s"] >= 0
    assert on_disk.settings["engine"]["max_iterations"] == 1  # how it was run is kept

    props = run_properties(s_path, p_path)
    assert props.status == "failed"
    assert props.failure["error_type"] == "structure:scf"

    # a good molecule next to it still finishes; the table has both rows
    ok_s, ok_p = tmp_path / "structures" / "DMC.json", tmp_path / "properties" / "DMC.json"
    assert run_structure("DMC", "COC(=O)OC", "solvent", ok_s, conformer_settings=ConformerSettings(n_embed=2)).ok
    assert run_properties(ok_s, ok_p).ok
    table = tmp_path / "descriptors.csv"
    aggregate_descriptors([(str(s_path), str(p_path)), (str(ok_s), str(ok_p))], table)
    rows = {r["name"]: r for r in csv.DictReader(table.open())}
    assert rows["DME"]["status"] == "failed" and "SCF" in rows["DME"]["failure_reason"]
    assert rows["DME"]["homo_eV"] == ""
    assert rows["DMC"]["status"] == "ok" and rows["DMC"]["failure_reason"] == ""
    assert float(rows["DMC"]["homo_eV"]) < float(rows["DMC"]["lumo_eV"])


def test_input_error_writes_no_record(tmp_path):
    """Bad input is the user's to fix: it raises and leaves nothing behind."""
    out = tmp_path / "bad.json"
    with pytest.raises(InputError, match="SMILES"):
        run_structure("bad", "C1CC(", "solvent", out)
    assert list(tmp_path.iterdir()) == []


def test_schema_version_mismatch_raises(tmp_path):
    path = tmp_path / "r.json"
    results = {"charge": 0, "uhf": 0, "n_atoms": 3, "energy_Eh": -1.0}  # what a structure record holds
    Record(stage="structure", name="X", results=results).write(path)
    assert Record.read(path).results == results
    data = json.loads(path.read_text())
    assert data["schema_version"] == SCHEMA_VERSION
    data["schema_version"] = SCHEMA_VERSION + 1
    path.write_text(json.dumps(data))
    with pytest.raises(SolvscreenError, match="schema version"):
        Record.read(path)
    del data["schema_version"]
    path.write_text(json.dumps(data))
    with pytest.raises(SolvscreenError, match="schema version"):
        Record.read(path)


def test_records_are_strict_json(tmp_path):
    """NaN is not JSON: a failed IP (NaN) must be written as null, and provenance is complete."""
    path = tmp_path / "r.json"
    Record(stage="properties", name="K", results={"ip_vertical_eV": float("nan")},
           provenance={"engine": "tblite"}).write(path)
    text = path.read_text()
    assert "NaN" not in text
    data = json.loads(text, parse_constant=lambda c: pytest.fail(f"non-JSON constant {c}"))
    assert data["results"]["ip_vertical_eV"] is None
    for key in ("solvscreen_version", "rdkit_version", "python", "engine", "created"):
        assert key in data["provenance"]
