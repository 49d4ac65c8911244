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
    "ranking": ("solvscreen.classify.rank", "RankingSettings"),
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


def test_md_settings_are_a_config_section_whose_schema_defaults_are_the_smoke_preset():
    """The ``md`` section is a preset and overrides of MDSettings: the schema's defaults for the
    keys that are MDSettings fields (charge_scale, platform, threads) are the dataclass's, and the
    schema's default section builds the smoke preset, which is the dataclass's defaults."""
    from solvscreen.md.settings import MDSettings

    assert issubclass(MDSettings, ConfigSection) and MDSettings.SECTION == "md.overrides"
    md = load_config({})["md"]
    names = {f.name for f in dataclasses.fields(MDSettings)}
    shared = {k: v for k, v in md.items() if k in names}
    assert set(shared) == {"preset", "charge_scale", "platform", "threads"}
    assert MDSettings.from_dict(shared) == MDSettings() == MDSettings.from_config(md)
    assert MDSettings.from_preset(md["preset"]) == MDSettings()
    # presets, coercion and checks live in the class
    s = MDSettings.from_config({"preset": "screening", "threads": 2, "overrides": {"seeds": "[1, 2]", "gpu": "true"}})
    assert (s.preset, s.threads, s.seeds, s.gpu, s.timestep_fs) == ("screening", 2, (1, 2), True, 4.0)
    with pytest.raises(InputError, match="md.overrides: unknown setting"):
        MDSettings.from_config({"overrides": {"no_such_key": 1}})
    with pytest.raises(InputError, match="md.overrides.threads: 'two' is not a int"):
        MDSettings.from_dict({"threads": "two"})
    with pytest.raises(InputError, match="md.charge_scale"):
        MDSettings.from_dict({"charge_scale": 1.5})


def test_ranking_settings_merge_weights_and_resolution_key_by_key():
    from solvscreen.classify.rank import RankingSettings

    s = RankingSettings.from_dict({"weights": {"non_coordination": 0}, "k_metal_stable_references": ["DME"]})
    assert dict(s.weights) == {"reductive_stability": 1.0, "oxidative_stability": 1.0, "anion_rich_shell": 1.0,
                               "non_coordination": 0.0}
    assert s.k_metal_stable_references == ("DME",) and s.to_dict()["weights"]["non_coordination"] == 0.0
    with pytest.raises(InputError, match="ranking.weights: unknown objective"):
        RankingSettings.from_dict({"weights": {"speed": 1}})


def test_interface_builds_settings_only_through_their_sections():
    """interface/ never calls a settings class's constructor: every settings object comes from
    ``from_dict``/``from_config`` (the class's own presets, coercion and checks)."""
    import re
    from pathlib import Path

    src = Path(__file__).resolve().parents[1] / "src" / "solvscreen" / "interface"
    by_hand = [f"{p.name}: {m.group(0)}" for p in sorted(src.glob("*.py"))
               for m in re.finditer(r"\b[A-Z][A-Za-z]*Settings\((?!\))[^)]", p.read_text())]
    assert by_hand == []


def test_pmf_settings_are_a_config_section_with_their_presets_inside():
    from solvscreen.md.pmf_settings import PMF_PRESETS, PMFSettings

    assert issubclass(PMFSettings, ConfigSection) and PMFSettings.SECTION == "md.pmf.overrides"
    assert PMFSettings.from_preset("screening") == PMFSettings() == PMFSettings.from_dict({})
    smoke = PMFSettings.from_preset("smoke", {"n_bootstrap": "30", "threads": 2})
    assert smoke.n_bootstrap == 30 and smoke.threads == 2 and smoke.r_max_A == PMF_PRESETS["smoke"]["r_max_A"]
    with pytest.raises(InputError, match="md.pmf.overrides: unknown setting"):
        PMFSettings.from_preset("screening", {"no_such_key": 1})
    with pytest.raises(InputError, match="md.pmf.overrides.seed: '1.5' is not a int"):
        PMFSettings.from_dict({"seed": "1.5"})
    with pytest.raises(InputError, match="md.pmf.preset: unknown preset"):
        PMFSettings.from_preset("production")
