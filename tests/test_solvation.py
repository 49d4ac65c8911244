"""Solvation stage: thermochemistry, standard states, the cluster search and the solvating-power
predicate, with real GFN2-xTB calculations on small systems.

Independent references: the ``xtb`` program's own quasi-RRHO thermochemistry (same Grimme
interpolation) on its own frequencies; the ideal-gas molar volume (24.465 L/mol at 298.15 K);
the neat-liquid term of DME reported in shared/reference/measured_facts.md (-1.34 kcal/mol);
textbook coordination chemistry (the second water binds K+ less strongly than the first).
"""

from __future__ import annotations

import math
import shutil
import subprocess

import numpy as np
import pytest

from solvscreen.classify.solvating import anion_options, reference_band, solvating_decision
from solvscreen.xtb.engine import Engine, EngineSettings
from solvscreen.core.errors import InputError
from solvscreen.xtb.optimize import optimize
from solvscreen.core.result_tables import ResultTables
from solvscreen.solvation.settings import SolvationSettings
from solvscreen.solvation.stepwise import masses_of, nearest_alpb_solvent, onsager_dielectric
from solvscreen.solvation.thermo import (
    R_KCAL,
    atm_to_molar_kcal,
    frequencies_cm,
    neat_liquid_term,
    numerical_hessian,
    qrrho_free_energy,
)
from solvscreen.stages.binding import run_binding, run_ion_pair
from solvscreen.solvation.stage import SOLVATION_COLUMNS, aggregate_solvation, run_solvation
from solvscreen.stages.structure import run_structure
from solvscreen.xtb.structures import ConformerSettings, read_xyz

WATER = np.array([[0.0, 0.0, 0.1173], [0.0, 0.7572, -0.4692], [0.0, -0.7572, -0.4692]])


def test_standard_state_terms_against_independent_values():
    # RT ln(V_m / 1 L) with the ideal-gas molar volume 24.465 L/mol at 298.15 K and 1 atm
    assert atm_to_molar_kcal() == pytest.approx(R_KCAL * 298.15 * math.log(24.465), abs=2e-3)
    assert atm_to_molar_kcal() == pytest.approx(1.894, abs=2e-3)
    # DME neat: 0.867 g/mL, 90.12 g/mol -> 9.62 M, RT ln[L] 1.34 kcal/mol (measured_facts.md)
    term, conc = neat_liquid_term(0.867, 90.122)
    assert conc == pytest.approx(9.62, abs=0.01) and term == pytest.approx(1.34, abs=0.01)


@pytest.mark.skipif(shutil.which("xtb") is None, reason="the xtb program is not installed")
def test_qrrho_matches_the_xtb_program(tmp_path):
    """Our quasi-RRHO on the xtb program's frequencies and geometry reproduces its G(RRHO)
    (its rotor cutoff 50 cm^-1 and its rotational symmetry number set the same way)."""
    lines = ["9", "dimethyl ether", *dimethyl_ether_lines()]
    (tmp_path / "m.xyz").write_text("\n".join(lines) + "\n")
    out = subprocess.run(["xtb", "m.xyz", "--ohess"], cwd=tmp_path, capture_output=True, text=True,
                         env={"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"}, timeout=120).stdout
    g_xtb = float(next(l for l in out.splitlines() if "G(RRHO) contrib." in l).split()[-3])
    sigma = int(next(l for l in out.splitlines() if "rotational number" in l).split()[-2])
    freqs = [float(l.split()[-4]) for l in (tmp_path / "vibspectrum").read_text().splitlines()
             if l.strip() and l.split()[0].isdigit()]
    freqs = np.array([f for f in freqs if abs(f) > 1e-3])
    numbers, xyz, _ = read_xyz(tmp_path / "xtbopt.xyz")
    th = qrrho_free_energy(freqs, xyz, masses_of(numbers), nu0_cm=50.0)
    ours = th.G_qrrho + R_KCAL * 298.15 * math.log(sigma)  # we use sigma = 1
    assert ours == pytest.approx(g_xtb * 627.5095, abs=0.02)
    # and our finite-difference Hessian (tblite) gives the xtb program's frequencies
    eng = Engine(EngineSettings())
    ours_f = frequencies_cm(numerical_hessian(eng.system(numbers), xyz, central=True), xyz, masses_of(numbers))
    ref = np.sort(freqs)
    assert len(ours_f) == len(ref)
    assert np.max(np.abs(np.sort(ours_f)[ref > 300] - ref[ref > 300])) < 15


def dimethyl_ether_lines() -> list[str]:
    """Dimethyl ether (a small monodentate ether) as XYZ lines."""
    return ["C 0.000 1.165 -0.197", "O 0.000 0.000 0.587", "C 0.000 -1.165 -0.197",
            "H 0.000 2.030 0.467", "H 0.890 1.219 -0.840", "H -0.890 1.219 -0.840",
            "H 0.000 -2.030 0.467", "H 0.890 -1.219 -0.840", "H -0.890 -1.219 -0.840"]


def test_water_frequencies_forward_and_central_agree():
    eng = Engine(EngineSettings())
    opt = optimize(eng.system([8, 1, 1]), WATER, fmax_eV_per_A=0.001)
    f_c = frequencies_cm(numerical_hessian(eng.system([8, 1, 1]), opt.positions_A, central=True), opt.positions_A,
                         masses_of([8, 1, 1]))
    f_f = frequencies_cm(numerical_hessian(eng.system([8, 1, 1]), opt.positions_A), opt.positions_A,
                         masses_of([8, 1, 1]))
    assert len(f_c) == 3 and np.all(f_c > 1000)  # bend ~1600, stretches ~3600 cm^-1
    assert np.max(np.abs(f_c - f_f) / f_c) < 0.01  # forward differences: error O(step), < 1 %
    g_c = qrrho_free_energy(f_c, opt.positions_A, masses_of([8, 1, 1])).G_qrrho
    g_f = qrrho_free_energy(f_f, opt.positions_A, masses_of([8, 1, 1])).G_qrrho
    assert abs(g_c - g_f) < 0.05  # kcal/mol


def test_continuum_choice_and_onsager_estimate():
    assert nearest_alpb_solvent(7.2) == "thf"  # DME
    assert nearest_alpb_solvent(89.8) == "dmso"  # EC: every high-eps candidate ends at the most polar one
    assert nearest_alpb_solvent(2.2) == "dioxane"
    # acetonitrile: mu 3.92 D, 52.9 mL/mol; Onsager's estimate is of the order of the measured 35.9
    assert 20 < onsager_dielectric(3.92, 52.9) < 50
    assert onsager_dielectric(0.0, 100.0) == pytest.approx(2.0)  # nonpolar: n^2
    with pytest.raises(InputError):
        SolvationSettings(n_hessian=3, n_tight=2)


def test_composition_alone_never_makes_a_weak_solvent():
    # too few donors, moderate concentration, no diluent: WSE only when the solvent is weak
    assert anion_options(True, False, False, None) == ([False, True], True)
    assert anion_options(True, False, False, False) == ([False, True], True)
    assert anion_options(True, False, False, True) == ([True], False)
    # HCE or LHCE core: composition forces the anion in
    assert anion_options(True, True, False, None) == ([True], False)
    assert anion_options(True, False, True, False) == ([True], False)
    # enough donors: the solvating power decides, or leaves it open
    assert anion_options(False, False, False, True) == ([True], False)
    assert anion_options(False, False, False, False) == ([False], False)
    assert anion_options(False, False, False, None) == ([False, True], True)


def test_relative_criterion_on_a_table():
    rows = [{"name": n, "cation": "K+", "status": "ok", "solvating_power_kcal_per_mol": str(v),
             "solvating_power_err_kcal_per_mol": "2.0"} for n, v in
            (("DME", 6.0), ("DGM", 15.0), ("EC", 8.0), ("PC", 9.0), ("DEE", -1.7), ("X", 4.0))]
    t = ResultTables(solvating_power=rows)
    band = reference_band(t, "K", "DME,DGM,EC,PC")
    assert band.low.name == "DME" and not band.missing
    assert solvating_decision(t, ["DEE"], "K", band)[0] is True  # -1.7 + 2.8 < 6.0
    assert solvating_decision(t, ["X"], "K", band)[0] is None  # 4.0 + 2.8 >= 6.0
    assert solvating_decision(t, ["PC"], "K", band)[0] is False
    assert solvating_decision(t, ["DEE", "PC"], "K", band)[0] is False  # the strongest component decides
    assert solvating_decision(t, ["MISSING"], "K", band)[0] is None


@pytest.fixture(scope="module")
def water_records(tmp_path_factory):
    root = tmp_path_factory.mktemp("solvation")
    s = {}
    fast = ConformerSettings(n_embed=2, n_optimize=1)
    for name, smi, kind in (("W", "O", "solvent"), ("K+", "[K+]", "cation"), ("BF4", "F[B-](F)(F)F", "anion")):
        s[name] = root / "structures" / f"{name}.json"
        assert run_structure(name, smi, kind, s[name], EngineSettings(), fast).ok
    s["bind"] = root / "binding" / "W.json"
    assert run_binding(s["W"], s["K+"], s["bind"]).ok
    s["ip"] = root / "ion_pairs" / "BF4.json"
    assert run_ion_pair(s["BF4"], s["K+"], s["ip"]).ok
    s["root"] = root
    return s


def test_stepwise_water_on_k(water_records):
    """K+(H2O)n, n <= 2, in ALPB: a real search, quasi-RRHO, standard states; the second water
    binds less strongly than the first; the record and table carry every column."""
    s = water_records
    out = s["root"] / "solvation" / "W.json"
    rec = run_solvation(s["W"], s["bind"], s["K+"], s["BF4"], s["ip"], out,
                        {"density_g_per_mL": 0.997, "molar_mass_g_per_mol": 18.015, "dielectric_constant": 78.4,
                         "dielectric_source": "CRC Handbook"}, settings=SolvationSettings(max_n=2))
    assert rec.ok, rec.failure
    r = rec.results
    dg = [st["dG_kcal_per_mol"] for st in r["steps"]]
    assert r["continuum"].startswith("ALPB(dmso")
    assert dg[0] < 0 and dg[1] > dg[0]
    assert r["n_last"] == len(dg) and r["solvating_power_kcal_per_mol"] == pytest.approx(-dg[-1])
    assert r["RT_ln_L_kcal_per_mol"] == pytest.approx(R_KCAL * 298.15 * math.log(997 / 18.015), abs=1e-3)
    assert r["anion_step"]["n_solvent"] == r["n_last"] - 1 and r["anion_wins_last_site"] in (True, False)
    assert r["solvating_power_err_kcal_per_mol"] >= 2.0
    first = r["steps"][0]["cluster"]["minima"][0]
    assert first["n_imaginary"] == 0
    rows = aggregate_solvation([out], s["root"] / "solvating_power.csv")
    assert set(SOLVATION_COLUMNS) <= set(rows[0]) and rows[0]["status"] == "ok"
