"""MD presets, the `md` config section and its validation, box counts and rounding."""

from __future__ import annotations

from pathlib import Path

import pytest

from solvscreen.inputs.composition import ComponentAmount, Composition
from solvscreen.core.errors import InputError
from solvscreen.inputs.config import load_config
from solvscreen.interface.inputs import validate_all
from solvscreen.md.box import AVOGADRO, box_counts, neat_counts
from solvscreen.md.settings import (
    HMR_MASS_AMU,
    PRESETS,
    check_config,
    preset,
    runtime_minutes,
    selected_formulations,
    settings_from_config,
    slurm_resources,
    undecided_formulations,
)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def lib_forms():
    cfg = load_config({"library": str(ROOT / "molecules/library.csv"),
                       "formulations": str(ROOT / "molecules/formulations.csv")})
    return validate_all(cfg)


def test_presets_grow_and_the_deciding_ones_bracket_with_two_starts_and_hmr():
    s = [preset(p) for p in PRESETS]
    assert [x.target_atoms for x in s] == sorted(x.target_atoms for x in s)
    assert [x.production_ps for x in s] == sorted(x.production_ps for x in s)
    assert s[0].production_ps < 100 and not s[0].stop_rule and s[0].hydrogen_mass_amu is None
    for x in s[1:]:
        assert x.stop_rule and set(x.starts) == {"aggregated", "dispersed"} and len(x.runs) == 2
        assert x.timestep_fs == 4.0 and x.hydrogen_mass_amu == HMR_MASS_AMU and x.reference_solvent == "DME"
        assert x.min_production_ps < x.production_ps and x.chunk_ps <= x.min_production_ps
    assert s[2].target_atoms >= 6000 and s[2].production_ps >= 20000 and s[2].gpu and not s[1].gpu
    assert s[1].reference_halfwidth is None and s[2].reference_halfwidth == 0.25
    assert all(x.charge_scale == 0.8 for x in s)
    assert [runtime_minutes(p) for p in PRESETS] == sorted(runtime_minutes(p) for p in PRESETS)


def test_slurm_resources_come_from_the_preset():
    assert slurm_resources("production")["gpu"] == 1 and slurm_resources("screening")["gpu"] == 0
    assert slurm_resources("screening")["runtime"] == runtime_minutes("screening")
    # screening: 2 starts x (equilibration with its extensions + the cap) at the planning speed, x 2
    s = preset("screening")
    ns = 2 * (s.equilibration_ps * (1 + 0.5 * s.max_equilibration_extensions) + s.production_ps) / 1000
    assert runtime_minutes("screening") == round(2 * ns / s.expected_ns_per_day * 1440)


def test_bad_deciding_settings_are_refused():
    with pytest.raises(InputError, match="hydrogen mass"):
        preset("smoke", timestep_fs=4.0)
    with pytest.raises(InputError, match="two independent starts"):
        preset("screening", starts=("dispersed",))
    with pytest.raises(InputError, match=r"md\.starts"):
        preset("smoke", starts=("sideways",))
    # a longer production continues a shorter one: the length is not part of the physics hash
    assert preset("screening").physics_hash(1) == preset("screening", production_ps=5000).physics_hash(1)
    assert preset("screening").physics_hash(1) != preset("screening", hydrogen_mass_amu=None,
                                                         timestep_fs=2.0).physics_hash(1)


def test_md_is_off_by_default_and_switched_on_by_the_config():
    cfg = load_config({})
    assert cfg["md"]["formulations"] == [] and cfg["md"]["preset"] == "smoke"
    assert selected_formulations(cfg["md"], ["A", "B"]) == []
    assert selected_formulations({"formulations": "all"}, ["A", "B"]) == ["A", "B"]
    assert selected_formulations({"formulations": ["B"]}, ["A", "B"]) == ["B"]
    s = settings_from_config({"preset": "screening", "charge_scale": 1.0, "overrides": {"production_ps": 500}})
    assert (s.preset, s.charge_scale, s.production_ps, s.target_atoms) == ("screening", 1.0, 500, 1500)
    assert selected_formulations({"formulations": "undecided"}, ["A", "B"]) == []  # known after the checkpoint


def test_overrides_given_as_strings_by_snakemake_config_are_converted():
    # `snakemake --config md={...}` passes nested values as strings
    s = settings_from_config({"preset": "smoke", "overrides": {"target_atoms": "700", "cutoff_nm": "0.8",
                                                               "seeds": "[3, 4]"}})
    assert (s.target_atoms, s.cutoff_nm, s.seeds) == (700, 0.8, (3, 4))
    with pytest.raises(InputError, match=r"md\.overrides\.target_atoms"):
        settings_from_config({"overrides": {"target_atoms": "many"}})


def test_schema_rejects_an_unknown_preset_with_the_key_path():
    with pytest.raises(InputError, match=r"md\.preset"):
        load_config({"md": {"preset": "fast"}})


def test_check_config_names_unknown_formulations_and_bad_overrides(lib_forms):
    lib, forms = lib_forms
    errs = check_config({"md": {"preset": "smoke", "formulations": ["LCE-DME", "NOPE"]}}, lib, forms)
    assert len(errs) == 1 and "md.formulations[1]" in str(errs[0]) and "NOPE" in str(errs[0])
    errs = check_config({"md": {"preset": "turbo", "formulations": []}}, lib, forms)
    assert any("md.preset" in str(e) for e in errs)
    errs = check_config({"md": {"formulations": "all", "overrides": {"warp_factor": 9}}}, lib, forms)
    assert any("warp_factor" in str(e) for e in errs)
    assert check_config({"md": {"preset": "production", "formulations": "all"}}, lib, forms) == []
    assert check_config({"md": {"preset": "screening", "formulations": "undecided"}}, lib, forms) == []
    errs = check_config({"md": {"formulations": "some"}}, lib, forms)
    assert errs and "undecided" in str(errs[0])


def test_undecided_formulations_are_the_multi_class_table_rows(tmp_path):
    p = tmp_path / "c.csv"
    p.write_text("id,origin,label\nA,table,LCE\nB,table,LCE|WSE\nC,grid,LCE|HCE\nD,table,\n")
    assert undecided_formulations(p) == ["B"]


def _comp(salt_mol_per_L=1.0, solvent_mol_per_L=9.0):
    # 1 M salt (100 mL/mol) in a solvent of 100 mL/mol: 100 + 900 mL = one litre
    comp = ComponentAmount(name="S", ratio=1.0, volume_fraction=1.0, mole_fraction=1.0, mol_per_L=solvent_mol_per_L,
                           solvent_per_salt=solvent_mol_per_L / salt_mol_per_L, density_g_per_mL=1.0,
                           density_source="test", molar_mass_g_per_mol=100.0)
    return Composition(formulation="F", salt="MX", concentration_mol_per_L=salt_mol_per_L, ratio_basis="volume",
                       components=(comp,), salt_volume_fraction=0.1, salt_molar_volume_mL_per_mol=100.0)


ATOMS = {"M+": 1, "X-": 9, "S": 10}


def test_box_counts_of_an_exact_composition():
    box = box_counts(_comp(), ATOMS, 1000, "M+", "X-")
    assert [s.count for s in box.species] == [10, 10, 90]
    assert box.n_atoms == 1000 and box.composition_error == 0.0
    # the volume holds 10 salt pairs at 1 mol/L: 10 / N_A litre
    assert box.volume_A3 == pytest.approx(10 / AVOGADRO * 1e27, rel=1e-9)
    assert box.concentration_mol_per_L == pytest.approx(1.0)


def test_rounding_error_is_reported():
    box = box_counts(_comp(), ATOMS, 1050, "M+", "X-")  # 10.5 salt, 94.5 solvent -> rounded
    n_salt, n_s = box.count("M+"), box.count("S")
    assert box.composition_error == pytest.approx(abs(n_s / n_salt - 9.0) / 9.0)
    assert box.composition_error > 0


def test_neat_box_has_the_library_density():
    box = neat_counts("S", 10, 100.0, 0.8, 1000)
    assert box.species[0].count == 100
    assert 100 * 100.0 / AVOGADRO / (box.volume_A3 * 1e-24) == pytest.approx(0.8)


def test_md_settings_are_built_once_per_section(monkeypatch):
    """The config check, the rules and the SLURM resources share one MDSettings per md section:
    the preset is validated once, and the resources follow the run's overrides."""
    from solvscreen.md import settings as md_settings

    calls = []
    real = md_settings.MDSettings.from_preset
    monkeypatch.setattr(md_settings.MDSettings, "from_preset",
                        classmethod(lambda cls, name, o=None: calls.append(name) or real(name, o)))
    md_settings._cached.cache_clear()
    section = {"preset": "screening", "threads": 2, "overrides": {"production_ps": 5000}}
    a = md_settings.settings_from_config(section)
    b = md_settings.settings_from_config(dict(section, formulations=["LCE-DME"]))
    assert a is b and calls == ["screening"] and a.threads == 2
    longer = md_settings.slurm_resources(a)["runtime"]
    assert longer > md_settings.slurm_resources("screening")["runtime"]  # the override's longer cap counts
    md_settings._cached.cache_clear()
