"""One settings pattern: every config section's settings class is a ConfigSection whose defaults
are the schema's (issue 26). A default changed in one place and not the other fails here."""

from __future__ import annotations

import dataclasses

import pytest

from solvscreen.core.errors import InputError
from solvscreen.core.settings import ConfigSection
from solvscreen.inputs.config import load_config

SECTIONS = {
    "engine": ("solvscreen.xtb.engine", "EngineSettings"),
    "conformers": ("solvscreen.xtb.structures", "ConformerSettings"),
    "binding": ("solvscreen.complexes", "BindingSettings"),
    "solvation": ("solvscreen.solvation.settings", "SolvationSettings"),
    "classification": ("solvscreen.classify", "ClassificationSettings"),
    "classification.composition": ("solvscreen.inputs.composition", "CompositionSettings"),
    "report": ("solvscreen.report.page", "ReportSettings"),
    "grid": ("solvscreen.inputs.grid", "GridSettings"),
    "dft": ("solvscreen.dft.settings", "DFTSettings"),
}


def _cls(section):
    import importlib

    module, name = SECTIONS[section]
    return getattr(importlib.import_module(module), name)


def _section(config: dict, path: str) -> dict:
    for key in path.split("."):
        config = config[key]
    return config


@pytest.mark.parametrize("section", sorted(SECTIONS))
def test_schema_defaults_are_the_dataclass_defaults(section):
    cls = _cls(section)
    assert issubclass(cls, ConfigSection) and cls.SECTION == section
    from_schema = _section(load_config({}), section)
    names = {f.name for f in dataclasses.fields(cls)}
    assert set(from_schema) <= names, f"schema keys the class lacks: {sorted(set(from_schema) - names)}"
    assert cls.from_dict(from_schema) == cls(), section
    with pytest.raises(InputError, match=f"{section}: unknown setting"):
        cls.from_dict({"no_such_key": 1})
