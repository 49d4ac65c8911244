"""Every name of the config is checked before anything is computed, ids cannot collide with the
screening grid's, and the name rule's message states the rule the schema enforces.

Fast: validate_all on the tiny library of tests/workflow/. The same configs through a real
``snakemake`` (stops at parse time, nothing written) are in tests/test_recovery.py (slow).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from solvscreen.core.errors import ValidationErrors
from solvscreen.inputs.schema import load_schema
from solvscreen.inputs.config import load_config
from solvscreen.interface.inputs import validate_all

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / "tests" / "workflow"

# (config override, formulation rows added, the message expected); the runs of the issue
BAD_INPUTS = {
    "grid-salt": ({"grid": {"salts": ["KTFSI"]}}, [], "grid.salts[0]: unknown molecule 'KTFSI'"),
    "grid-solvent": ({"grid": {"solvents": ["NOPE"]}}, [], "grid.solvents[0]: unknown molecule 'NOPE'"),
    "grid-diluent-kind": ({"grid": {"diluents": ["FSI"]}}, [],
                          "grid.diluents[0]: 'FSI' is an anion, not a solvent or diluent"),
    "stable-reference": ({"ranking": {"k_metal_stable_references": ["DMEE"]}}, [],
                         "ranking.k_metal_stable_references[0]: unknown molecule 'DMEE'"),
    "reduced-reference": ({"ranking": {"k_metal_reduced_references": ["FSI"]}}, [],
                          "ranking.k_metal_reduced_references[0]: 'FSI' is an anion, not a solvent or diluent"),
    "solvating-reference": ({"classification": {"solvating_power_references": "DME,NOPE"}}, [],
                            "classification.solvating_power_references[1]: unknown molecule 'NOPE'"),
    "solvating-reference-kind": ({"classification": {"solvating_power_references": "DME|FSI"}}, [],
                                 "classification.solvating_power_references[1]: 'FSI' is an anion, "
                                 "not a solvent or diluent"),
    "grid-id": ({}, ["grid-KFSI-DME-2M,KFSI,2.0,DME,volume,,yes,test"],
                "id 'grid-KFSI-DME-2M' starts with 'grid-'"),
}


def tiny_config(tmp_path: Path, override: dict, rows: list[str]) -> dict:
    forms = tmp_path / "formulations.csv"
    forms.write_text((WORKFLOW / "formulations.csv").read_text() + "".join(r + "\n" for r in rows))
    return {"library": str(WORKFLOW / "library.csv"), "formulations": str(forms), **override}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_name_or_id_is_rejected_before_compute(tmp_path, case):
    override, rows, message = BAD_INPUTS[case]
    with pytest.raises(ValidationErrors) as info:
        validate_all(load_config(tiny_config(tmp_path, override, rows)))
    errors = [str(e) for e in info.value.errors]
    assert any(message in e for e in errors), errors


def test_misspelt_reference_gets_a_suggestion(tmp_path):
    with pytest.raises(ValidationErrors, match="did you mean DME"):
        validate_all(load_config(tiny_config(tmp_path, {"ranking": {"k_metal_stable_references": ["DMEE"]}}, [])))


def test_misspelt_solvating_power_reference_gets_a_suggestion(tmp_path):
    """The classification's references get the ranking references' check (issue 26, hole 2):
    before, 'W,NOPE' passed validate and the run, and NOPE was dropped without a word."""
    with pytest.raises(ValidationErrors, match="did you mean DME"):
        validate_all(load_config(tiny_config(tmp_path, {"classification": {"solvating_power_references": "DMEE"}}, [])))


def test_default_references_absent_from_a_small_library_pass(tmp_path):
    """The default reference lists name default-library molecules (DGM, EC, AN): a smaller library
    without them validates (the verdict is then undecided, said in the ranking reasons); the same
    names set explicitly in a different list do not."""
    library, _ = validate_all(load_config(tiny_config(tmp_path, {}, [])))
    assert "DGM" not in library and "EC" not in library
    with pytest.raises(ValidationErrors, match="unknown molecule 'EC'"):
        validate_all(load_config(tiny_config(tmp_path, {"ranking": {"k_metal_reduced_references": ["EC", "DMC"]}}, [])))
    with pytest.raises(ValidationErrors, match="unknown molecule 'EC'"):
        validate_all(load_config(tiny_config(tmp_path, {"classification": {"solvating_power_references": "DME,EC"}},
                                             [])))


def test_good_grid_and_reference_names_pass(tmp_path):
    cfg = tiny_config(tmp_path, {"grid": {"salts": ["KFSI"], "solvents": ["G1"], "diluents": ["DMC"]},
                                 "ranking": {"k_metal_stable_references": ["DME"],
                                             "k_metal_reduced_references": ["DMC"]}}, [])
    assert len(validate_all(load_config(cfg))[1]) == 2


@pytest.mark.parametrize("schema,key,limit", [("molecule", "name", 40), ("formulation", "id", 80)])
def test_name_rule_message_states_the_schema_rule(schema, key, limit):
    prop = load_schema(schema)["properties"][key]
    assert prop["maxLength"] == limit and prop["pattern"] == "^[A-Za-z0-9][A-Za-z0-9_+-]*$"
    assert "starts with a letter or digit" in prop["x-message"]
    assert f"at most {limit} characters" in prop["x-message"]


@pytest.mark.parametrize("name", ["_DME", "-DME", "D" * 41])
def test_names_breaking_the_rule_get_the_rule(tmp_path, name):
    lib = tmp_path / "library.csv"
    lib.write_text((WORKFLOW / "library.csv").read_text() + f"{name},,CCOCC,solvent,,0.71,handbook\n")
    with pytest.raises(ValidationErrors) as info:
        validate_all(load_config({"library": str(lib), "formulations": str(WORKFLOW / "formulations.csv")}))
    (err,) = [str(e) for e in info.value.errors]
    assert "row 6" in err and "starts with a letter or digit" in err and "at most 40 characters" in err
