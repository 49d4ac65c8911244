"""Records and tables that lie are no result (issue 26, holes 3-5).

A record that is valid JSON but lacks what its stage stores, a record whose companion
geometry is gone, and an aggregate table that no longer matches what its rule wrote are
found before anything reads them: the workflow sets them aside and recomputes / rebuilds them
(:mod:`solvscreen.stages.quarantine`), and the readers refuse them. Real records of a real
(tiny) structure calculation; the workflow runs are in tests/test_recovery.py (slow).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from solvscreen.core.errors import InputError, SolvscreenError
from solvscreen.core.records import (Record, checksum_path, result_schema, schema_problem, table_problem,
                                     write_csv)
from solvscreen.core.result_tables import read_rows
from solvscreen.stages.harness import load_result_schemas, read_record, record_problem
from solvscreen.stages.quarantine import NO_DIRECTORY, find_bad_tables, find_dead_records, set_aside
from solvscreen.stages.structure import run_structure
from solvscreen.xtb.structures import ConformerSettings


@pytest.fixture(scope="module")
def structure(tmp_path_factory) -> Path:
    """A real structure record of water (GFN2-xTB), with its companion files."""
    out = tmp_path_factory.mktemp("structures") / "W.json"
    rec = run_structure("W", "O", "solvent", out, conformer_settings=ConformerSettings(n_embed=1, n_optimize=1))
    assert rec.ok, rec.failure
    return out


def _copy(structure: Path, folder: Path, edit=None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copytree(structure.with_suffix(""), folder / "W")
    data = json.loads(structure.read_text())
    if edit:
        edit(data)
    (folder / "W.json").write_text(json.dumps(data))
    return folder / "W.json"


def test_every_stage_of_the_registry_has_its_result_schema():
    load_result_schemas()
    for stage in ("structure", "properties", "binding", "ion_pair", "shell", "solvation", "dft", "dft_orbitals"):
        assert result_schema(stage), stage
    assert result_schema("structure") == {"charge": "integer", "uhf": "integer", "n_atoms": "integer",
                                          "energy_Eh": "number"}
    assert result_schema("binding")["E_bind_kcal_per_mol"] == "number"


@pytest.mark.parametrize("edit, reason", [
    (lambda d: d.pop("results"), "record without results"),
    (lambda d: d["results"].pop("energy_Eh"), "structure record results without energy_Eh"),
    (lambda d: d.update(results={}), "structure record results without charge, uhf, n_atoms, energy_Eh"),
    (lambda d: d["results"].update(energy_Eh="-5.07"), "structure record results.energy_Eh is a JSON string, "
                                                       "not a number"),
    (lambda d: d["results"].update(n_atoms=True), "structure record results.n_atoms is a JSON boolean, not an integer"),
    (lambda d: d.update(results=[1]), "record results is a JSON array, not an object"),
    (lambda d: d.update(files="geometry.xyz"), "record files is a JSON string, not an object"),
    (lambda d: d.update(status="failed"), "failed record without a failure object"),
])
def test_a_record_without_what_its_stage_stores_is_no_result(structure, tmp_path, edit, reason):
    """Before: a record of valid JSON without its ``results`` was used (binding.csv showed it ok
    with an empty energy; the solvation job failed with KeyError 'cation' on every later run)."""
    assert record_problem(structure) is None and schema_problem(json.loads(structure.read_text())) is None
    path = _copy(structure, tmp_path, edit)
    assert record_problem(path) == reason
    assert [(d.path, d.reason) for d in find_dead_records([str(tmp_path / "*.json")])] == [(path, reason)]
    with pytest.raises(SolvscreenError, match="rerun the stage"):
        Record.read(path)
    stand_in = read_record(path)
    assert stand_in.status == "failed" and reason in stand_in.failure["reason"]


def test_a_null_value_passes_the_type_check(structure, tmp_path):
    """A NaN is stored as null: the key is there, the record is a result (no endless recompute)."""
    path = _copy(structure, tmp_path, lambda d: d["results"].update(energy_Eh=None))
    assert record_problem(path) is None


def test_a_lost_geometry_or_companion_directory_makes_the_record_no_result(structure, tmp_path):
    """Before: ``rm -r results/structures/<name>/`` left "Nothing to be done" and descriptors.csv
    pointing at the missing geometry."""
    path = _copy(structure, tmp_path / "a")
    (path.parent / "W" / "geometry.xyz").unlink()
    assert record_problem(path) == "companion file missing: W/geometry.xyz"
    path = _copy(structure, tmp_path / "b")
    shutil.rmtree(path.parent / "W")
    assert record_problem(path).startswith("companion file missing: W/ensemble.xyz, W/geometry.sdf")
    # a failed record names no file, but its directory is a declared output of its rule too
    failed = tmp_path / "c" / "F.json"
    failed.parent.mkdir()
    Record(stage="structure", name="F", status="failed", failure={"error_type": "scf", "reason": "x"}).write(failed)
    (dead,) = find_dead_records([str(failed.parent / "*.json")])
    assert dead.path == failed and dead.reason == NO_DIRECTORY
    failed.with_suffix("").mkdir()
    assert find_dead_records([str(failed.parent / "*.json")]) == []


def test_a_table_that_does_not_match_its_checksum_is_refused_and_set_aside(tmp_path):
    """Before: a truncated binding.csv fed classify, rank and report (the formulation became
    "failed: no K+ binding") and stayed truncated."""
    results = tmp_path / "results"
    table = results / "binding.csv"
    rows = [{"name": n, "E_bind_kcal_per_mol": -10.0 - i} for i, n in enumerate(("DME", "DMC", "FSI"))]
    write_csv(table, rows)
    assert checksum_path(table).read_text().split()[1] == "binding.csv"
    assert table_problem(table) is None and len(read_rows(table)) == 3
    text = table.read_text()
    table.write_text(text[: len(text) // 2])  # truncated mid-row
    reason = "table binding.csv does not match its checksum (binding.csv.sha256): truncated or changed after it was written"
    assert table_problem(table) == reason
    with pytest.raises(InputError, match="does not match its checksum.*rebuild it"):
        read_rows(table)
    # a table written before checksums were kept (no sidecar) is read as it is
    other = results / "descriptors.csv"
    other.write_text("name\nDME\n")
    assert table_problem(other) is None and read_rows(other) == [{"name": "DME"}]
    bad = find_bad_tables([table, other, results / "absent.csv"])
    assert [(b.path, b.reason) for b in bad] == [(table, reason)]
    (results / "binding").mkdir()  # the records' folder next to the table is not touched
    folder = set_aside([], results, [other], stamp="T", bad_tables=bad)
    assert sorted(p.name for p in folder.iterdir()) == ["binding.csv", "binding.csv.sha256", "descriptors.csv",
                                                          "why.tsv"]
    assert (folder / "binding.csv").read_text() == text[: len(text) // 2]  # nothing lost
    assert (folder / "why.tsv").read_text().splitlines()[1] == f"binding.csv\t{reason}"
    assert sorted(p.name for p in results.iterdir()) == ["binding", "quarantine"]
    # rewritten: read again
    write_csv(table, rows)
    assert len(read_rows(table)) == 3
