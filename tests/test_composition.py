"""Composition (moles from molarity, ratios, densities) and the screening grid.

Reference numbers are worked out by hand here from the library's densities and molar masses
(C4H10O2 = 90.12 g/mol for DME, KFSI = K + N + 2 S + 2 F + 4 O = 219.23 g/mol), not taken
from the code's output.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from solvscreen.inputs.composition import CompositionSettings, compose, ratio_label, salt_to_solvent_ratio
from solvscreen.core.errors import ValidationError
from solvscreen.inputs.grid import GridFormulation, GridSettings, make_grid
from solvscreen.inputs.library import load_library
from solvscreen.inputs.formulations import load_formulations

ROOT = Path(__file__).resolve().parents[1]
NEGLECT = CompositionSettings(salt_volume="neglect")


@pytest.fixture(scope="module")
def lib():
    return load_library(ROOT / "molecules" / "library.csv")


def form(salt, c, comps, basis="volume", **kw):
    return GridFormulation("t", salt, c, tuple(comps), ratio_basis=basis, **kw)


def test_neat_dme_by_hand(lib):
    # 1 M KFSI in DME, salt volume neglected: 1000 mL x 0.867 g/mL / 90.12 g/mol = 9.62 mol/L
    comp = compose(form("KFSI", 1.0, [("DME", 1)]), lib.resolve, NEGLECT)
    assert comp.component("DME").mol_per_L == pytest.approx(1000 * 0.867 / 90.12, rel=1e-3)
    assert comp.salt_to_all_solvent == pytest.approx(1 / 9.62, rel=2e-3)
    assert ratio_label(comp.salt_to_all_solvent) == "1:9.62"


def test_salt_volume_estimate_by_hand(lib):
    # 4 M KFSI at the default 2.0 g/mL: 4 x 219.23 / 2.0 = 438 mL of salt, 562 mL of DGM left
    comp = compose(form("KFSI", 4.0, [("DGM", 1)]), lib.resolve)
    v_salt = 4 * 219.23 / 2.0
    assert comp.salt_volume_fraction == pytest.approx(v_salt / 1000, rel=1e-3)
    assert comp.component("DGM").mol_per_L == pytest.approx((1000 - v_salt) * 0.943 / 134.17, rel=1e-3)
    assert any("occupies" in a and "2 g/mL" in a for a in comp.assumptions)
    # neglecting it overcounts the solvent by 1000/562 = 1.78x at 4 M
    neglect = compose(form("KFSI", 4.0, [("DGM", 1)]), lib.resolve, NEGLECT)
    ratio = neglect.component("DGM").mol_per_L / comp.component("DGM").mol_per_L
    assert ratio == pytest.approx(1000 / (1000 - v_salt), rel=1e-4)


def test_two_component_volume_blend_by_hand(lib):
    # 1.6 M KFSI in DME:TTE 1:1 v/v, salt neglected: 500 mL of each neat liquid
    comp = compose(form("KFSI", 1.6, [("DME", 1), ("TTE", 1)]), lib.resolve, NEGLECT)
    n_dme, n_tte = 500 * 0.867 / 90.12, 500 * 1.53 / 232.07  # TTE C5H4F8O = 232.07 g/mol
    assert comp.component("DME").mol_per_L == pytest.approx(n_dme, rel=1e-3)
    assert comp.component("TTE").mol_per_L == pytest.approx(n_tte, rel=1e-3)
    assert comp.component("DME").mole_fraction == pytest.approx(n_dme / (n_dme + n_tte), rel=1e-3)
    assert comp.component("DME").solvent_per_salt == pytest.approx(n_dme / 1.6, rel=1e-3)


def test_every_literature_formulation_composes(lib):
    for f in load_formulations(ROOT / "molecules" / "formulations.csv", lib):
        comp = compose(f, lib.resolve)
        assert 0 < comp.salt_volume_fraction < 0.6, f.id
        assert comp.names == [n for n, _ in f.components]


def test_volume_and_molar_bases(lib):
    vol = compose(form("KFSI", 1.0, [("DME", 1), ("TTE", 1)]), lib.resolve)
    assert sum(c.volume_fraction for c in vol.components) == pytest.approx(1.0)
    assert sum(c.mole_fraction for c in vol.components) == pytest.approx(1.0)
    assert vol.component("DME").volume_fraction == pytest.approx(0.5)
    mol = compose(form("KFSI", 1.0, [("DME", 1), ("TTE", 1)], basis="molar"), lib.resolve)
    assert mol.component("DME").mol_per_L == pytest.approx(mol.component("TTE").mol_per_L)
    # the liquids fill what the salt leaves: sum n_i V_i = (1 - salt fraction) L
    filled = sum(c.mol_per_L * c.molar_mass_g_per_mol / c.density_g_per_mL for c in mol.components)
    assert filled == pytest.approx(1000 * (1 - mol.salt_volume_fraction))
    # local ratio counts the named components only
    assert salt_to_solvent_ratio(vol, ["DME"]) > vol.salt_to_all_solvent
    assert salt_to_solvent_ratio(vol, ["DME"]) == pytest.approx(1 / vol.component("DME").solvent_per_salt)


def test_assumptions_are_stated(lib):
    comp = compose(form("KFSI", 1.0, [("DME", 1), ("TTE", 1)], ratio_reported=False), lib.resolve)
    text = " ".join(comp.assumptions)
    assert "ideal mixing" in text
    assert "density of TTE" in text and "estimate" in text  # library: TTE density is an estimate
    assert "density of DME" not in text  # a measured density is not flagged
    assert "equal parts assumed" in text


@pytest.mark.parametrize("c, comps, message", [
    (7.9, [("DME", 1)], "no room for the solvent"),  # with a salt density of 1 g/mL
    (1.0, [("DME", 0)], "must all be positive"),
    (0.0, [("DME", 1)], "not a positive number"),
    (1.0, [("FSI", 1)], "no density"),
])
def test_impossible_compositions_name_the_row(lib, c, comps, message):
    f = GridFormulation("BAD-1", "KFSI", c, tuple(comps), row=7, file="my.csv")
    with pytest.raises(ValidationError, match=message) as err:
        compose(f, lib.resolve, CompositionSettings(default_salt_density_g_per_mL=1.0))
    assert "my.csv" in str(err.value) and "row 7" in str(err.value)


# ----------------------------------------------------------------------------- grid
def test_grid_every_solvent_and_pair(lib):
    gs = GridSettings(solvents=("DME", "TMP"), diluents=("TTE", "MME"), concentrations_mol_per_L=(1.0, 4.0),
                      pair_concentrations_mol_per_L=(1.5,), pair_ratios=((1.0, 1.0), (1.0, 2.0)))
    grid = make_grid(gs, lib)
    singles = [g for g in grid if g.family == "single"]
    pairs = [g for g in grid if g.family == "pair"]
    assert len(singles) == 2 * 2 and len(pairs) == 2 * 2 * 2
    ids = {g.id for g in grid}
    assert len(ids) == len(grid)
    assert "grid-KFSI-DME-4M" in ids and "grid-KFSI-TMP+MME-1:2v-1p5M" in ids
    assert all("." not in i for i in ids)  # record names are file-safe
    g = next(g for g in grid if g.id == "grid-KFSI-TMP+MME-1:2v-1p5M")
    assert g.components == (("TMP", 1.0), ("MME", 2.0)) and g.ratio_basis == "volume"
    for g in grid:  # every grid formulation composes
        compose(g, lib.resolve)


def test_grid_defaults_cover_the_computed_library(lib):
    grid = make_grid(GridSettings(), lib, available={"DME", "DEE", "TTE"})
    assert {n for g in grid for n, _ in g.components} == {"DME", "DEE", "TTE"}
    assert make_grid(GridSettings(enabled=False), lib) == []
    full = make_grid(GridSettings(), lib)
    n_solv, n_dil = len(lib.names("solvent")), len(lib.names("diluent"))
    assert len(full) == n_solv * 3 + n_solv * n_dil * 2


def test_grid_settings_validation():
    from solvscreen.core.errors import InputError

    with pytest.raises(InputError):
        GridSettings.from_dict({"concentrations_mol_per_L": [0]})
    with pytest.raises(InputError):
        GridSettings.from_dict({"pair_ratios": [[1, 0]]})
    with pytest.raises(InputError, match="unknown"):
        GridSettings.from_dict({"salt": ["KFSI"]})
