"""MD presets, the `md` config section and its validation, box counts and rounding."""

from __future__ import annotations

from pathlib import Path

import pytest

from solvscreen.composition import ComponentAmount, Composition
from solvscreen.errors import InputError
from solvscreen.library import load_config, validate_all
from solvscreen.md.box import AVOGADRO, box_counts, neat_counts
from solvscreen.md.settings import (
    PRESETS,
    check_config,
    preset,
    runtime_minutes,
    selected_formulations,
    settings_from_config,
)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def lib_forms():
    cfg = load_config({"library": str(ROOT / "molecules/library.csv"),
                       "formulations": str(ROOT / "molecules/formulations.csv")})
    return validate_all(cfg)


def test_presets_grow_and_production_has_two_seeds():
    s = [preset(p) for p in PRESETS]
    assert [x.target_atoms for x in s] == sorted(x.target_atoms for x in s)
    assert [x.production_ps for x in s] == sorted(x.production_ps for x in s)
    assert s[0].production_ps < 100 and s[1].production_ps >= 2000 and s[2].production_ps >= 20000
    assert len(s[2].seeds) == 2 and s[2].target_atoms >= 6000
    assert all(x.charge_scale == 0.8 for x in s)
    assert [runtime_minutes(p) for p in PRESETS] == sorted(runtime_minutes(p) for p in PRESETS)


def test_md_is_off_by_default_and_switched_on_by_the_config():
    cfg = load_config({})
    assert cfg["md"]["formulations"] == [] and cfg["md"]["preset"] == "smoke"
    assert selected_formulations(cfg["md"], ["A", "B"]) == []
    assert selected_formulations({"formulations": "all"}, ["A", "B"]) == ["A", "B"]
    assert selected_formulations({"formulations": ["B"]}, ["A", "B"]) == ["B"]
    s = settings_from_config({"preset": "screening", "charge_scale": 1.0, "overrides": {"production_ps": 500}})
    assert (s.preset, s.charge_scale, s.production_ps, s.target_atoms) == ("screening", 1.0, 500, 4000)


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
