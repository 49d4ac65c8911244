"""DFT stage (solvscreen.dft): real PySCF on K+-H2O, the retry ladder, D4 vs D3(BJ) for K+,
the calibration fit on constructed data, backend choice and the config checks.

References: K+-H2O binding energy -17.8 kcal/mol, CCSD(T)/CBS, GMTKN55 CHB6 subset
(Goerigk, Hansen, Bauer, Ehrlich, Najibi, Grimme, PCCP 19, 32184 (2017)); DFT K-O minimum
2.63-2.65 A vs GFN2-xTB 2.30-2.40 A (issue 11). Quick tests use def2-SVP and a coarse grid;
the reference level runs in the slow suite.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

pytest.importorskip("pyscf")
pytest.importorskip("pyscf.dispersion")
pytest.importorskip("geometric")

from solvscreen.stages.binding import run_binding  # noqa: E402
from solvscreen.stages.structure import run_structure  # noqa: E402
from solvscreen.dft.calibrate import fit_calibration, spearman  # noqa: E402
from solvscreen.dft.level import DFTLevel, choose_backend, level_from_preset  # noqa: E402
from solvscreen.dft.relax import _constraints_text, moving_atoms  # noqa: E402
from solvscreen.dft.settings import DFTSettings, check_config, select_molecules  # noqa: E402
from solvscreen.dft.stage import DFT_COLUMNS, aggregate_dft, run_dft  # noqa: E402
from solvscreen.core.errors import InputError  # noqa: E402
from solvscreen.core.records import Record  # noqa: E402

CHB6_K_H2O_KCAL = -17.8   # CCSD(T), GMTKN55 CHB6 (Goerigk et al. 2017)
QUICK = {"preset": "quick", "grids_level": 1, "conv_tol_Eh": 1e-7}


@pytest.fixture(scope="module")
def gfn2_water(tmp_path_factory):
    """GFN2-xTB structure and binding records of K+ and H2O, as the workflow writes them."""
    d = tmp_path_factory.mktemp("gfn2")
    run_structure("K", "[K+]", "cation", d / "structures" / "K.json")
    s = run_structure("H2O", "O", "solvent", d / "structures" / "H2O.json")
    b = run_binding(d / "structures" / "H2O.json", d / "structures" / "K.json", d / "binding" / "K" / "H2O.json")
    assert s.ok and b.ok, (s.failure, b.failure)
    return d


def test_k_water_end_to_end_relaxation_moves_cation_out(gfn2_water, tmp_path):
    out = tmp_path / "dft" / "K" / "H2O.json"
    rec = run_dft(gfn2_water / "binding" / "K" / "H2O.json", gfn2_water / "structures" / "H2O.json", out,
                  DFTSettings.from_dict(QUICK))
    assert rec.ok, rec.failure
    r = rec.results
    # GFN2-xTB puts K+ too close (2.30-2.40 A); DFT's minimum is near 2.63-2.65 A
    assert 2.25 < r["d_K_donor_gfn2_A"] < 2.45
    assert r["d_K_donor_dft_A"] > r["d_K_donor_gfn2_A"] + 0.1
    assert 2.5 < r["d_K_donor_dft_A"] < 2.8
    assert r["moved_atoms"] == [3] and r["relax"] == "cation" and r["ligand_geometry"] == "gfn2"
    # only the cation moved: the water atoms keep their GFN2 positions
    from solvscreen.xtb.structures import read_xyz
    brec = gfn2_water / "binding" / "K" / "H2O.json"
    _, x0, _ = read_xyz(brec.parent / Record.read(brec).files["xyz"])
    back = Record.read(out)
    _, x1, _ = read_xyz(out.parent / back.files["xyz"])
    assert np.abs(x1[:3] - x0[:3]).max() < 1e-3
    # bound (at def2-SVP the basis-set superposition error adds ~4 kcal/mol, so no closer check here)
    assert r["E_bind_dft_kcal_per_mol"] < -10
    assert back.provenance["dft_backend"] in ("pyscf", "gpu4pyscf")
    assert back.provenance["dft_dispersion"] == "d4:wb97x"
    assert r["n_basis_functions"] == 24 + 24  # K+ 24 (def2-SVP, all-electron) + H2O 24
    # aggregation: the computed row is "dft"; a row without a record falls back to GFN2
    csv_in = tmp_path / "binding.csv"
    csv_in.write_text("name,kind,cation,status,E_bind_kcal_per_mol,M_donor_distances_A\n"
                      f"H2O,solvent,K,ok,{r['E_bind_gfn2_kcal_per_mol']},{r['d_K_donor_gfn2_A']}\n"
                      "XYZ,solvent,K,ok,-30.0,2.3\n")
    rows, cal = aggregate_dft(csv_in, [out], tmp_path / "dft_binding.csv", tmp_path / "dft_calibration.json")
    by = {row["name"]: row for row in rows}
    assert by["H2O"]["E_bind_best_source"] == "dft" and by["H2O"]["status"] == "ok"
    assert by["XYZ"]["E_bind_best_source"] == "gfn2" and by["XYZ"]["status"] == "not_computed"
    assert "at least 3" in cal["cations"]["K"]["note"]
    header = (tmp_path / "dft_binding.csv").read_text().splitlines()[0].split(",")
    assert header == DFT_COLUMNS
    # the orbitals-only runner gives the free ligand's levels of the binding record (same level, geometry)
    from solvscreen.dft.stage import run_dft_orbitals
    orb = run_dft_orbitals(gfn2_water / "structures" / "H2O.json", tmp_path / "orb" / "H2O.json",
                           DFTSettings.from_dict(QUICK))
    assert orb.ok and orb.results["homo_dft_eV"] == pytest.approx(r["homo_dft_eV"], abs=1e-4)
    assert orb.results["homo_dft_eV"] < -9 and orb.results["lumo_dft_eV"] > orb.results["homo_dft_eV"]


def test_forced_scf_failure_becomes_failure_record(gfn2_water, tmp_path):
    out = tmp_path / "H2O.json"
    rec = run_dft(gfn2_water / "binding" / "K" / "H2O.json", gfn2_water / "structures" / "H2O.json", out,
                  DFTSettings.from_dict({**QUICK, "max_cycle": 1, "retries": False}))
    assert not rec.ok
    assert rec.failure["error_type"] == "scf"
    assert "not converged" in rec.failure["reason"]
    assert Record.read(out).status == "failed"


def test_upstream_failure_and_missing_record(gfn2_water, tmp_path):
    rec = run_dft(tmp_path / "missing.json", gfn2_water / "structures" / "H2O.json", tmp_path / "x.json",
                  DFTSettings.from_dict(QUICK))
    assert not rec.ok and "job died" in rec.failure["reason"]


def test_d4_dispersion_for_k_is_smaller_than_d3bj():
    """D3(BJ) gives K+ neutral-atom C6 and overbinds; D4's charge-dependent C6 is smaller."""
    from pyscf import dft, gto

    water = "O 0 0 0; H 0.757 0.586 0; H -0.757 0.586 0"
    parts = {"complex": (water + "; K 0 -2.65 0", 1), "ligand": (water, 0), "cation": ("K 0 0 0", 1)}
    e = {}
    for disp in ("d4:wb97x", "d3bj:wb97x"):
        for key, (atoms, q) in parts.items():
            mf = dft.RKS(gto.M(atom=atoms, basis="sto-3g", charge=q, verbose=0), xc="wb97x-v")
            mf.nlc, mf.disp = False, disp
            e[disp, key] = float(np.asarray(mf.get_dispersion()))
    bind = {d: e[d, "complex"] - e[d, "ligand"] - e[d, "cation"] for d in ("d4:wb97x", "d3bj:wb97x")}
    assert bind["d3bj:wb97x"] < 0 and bind["d4:wb97x"] < 0
    assert abs(bind["d4:wb97x"]) < abs(bind["d3bj:wb97x"])


def test_calibration_recovers_constructed_line_and_loo():
    rng = np.random.default_rng(7)
    x = np.linspace(-60, -20, 9)
    noise = rng.normal(0, 0.5, size=x.size)
    y = 0.65 * x + 2.0 + noise
    cal = fit_calibration([f"m{i}" for i in range(x.size)], x, y)
    assert cal.slope == pytest.approx(0.65, abs=0.05) and cal.intercept == pytest.approx(2.0, abs=2.0)
    # independent LOO: numpy.polyfit without each point
    loo = [y[i] - np.polyval(np.polyfit(np.delete(x, i), np.delete(y, i), 1), x[i]) for i in range(x.size)]
    assert cal.loo_residuals == pytest.approx(loo, abs=1e-9)
    assert cal.loo_rmse == pytest.approx(float(np.sqrt(np.mean(np.square(loo)))))
    assert cal.loo_rmse > cal.rmse  # out-of-sample is worse than in-sample
    # an exact line: zero errors, R^2 = 1, Spearman 1
    exact = fit_calibration(["a", "b", "c", "d"], [-40, -30, -25, -10], [-30.0, -23.0, -19.5, -9.0])
    assert exact.slope == pytest.approx(0.7) and exact.intercept == pytest.approx(-2.0)
    assert exact.loo_max == pytest.approx(0, abs=1e-9) and exact.r2 == pytest.approx(1.0)
    v, err = exact.predict(-20.0)
    assert v == pytest.approx(-16.0) and err == pytest.approx(0, abs=1e-9)
    with pytest.raises(ValueError):
        fit_calibration(["a"], [1.0], [2.0])


def test_spearman_matches_scipy():
    stats = pytest.importorskip("scipy.stats")
    x, y = [3, 1, 4, 1, 5, 9, 2, 6], [2, 7, 1, 8, 2, 8, 1, 8]
    assert spearman(x, y) == pytest.approx(stats.spearmanr(x, y).statistic)


def test_backend_choice():
    assert choose_backend("auto", n_gpus=1, has_gpu4pyscf=True).name == "gpu4pyscf"
    assert choose_backend("auto", n_gpus=0, has_gpu4pyscf=True).name == "pyscf"
    c = choose_backend("auto", n_gpus=2, has_gpu4pyscf=False)
    assert c.name == "pyscf" and "not installed" in c.reason
    assert choose_backend("pyscf", n_gpus=1, has_gpu4pyscf=True).name == "pyscf"
    with pytest.raises(InputError, match="no CUDA device"):
        choose_backend("gpu4pyscf", n_gpus=0, has_gpu4pyscf=True)


def test_levels_and_moving_atoms():
    ref = level_from_preset("reference")
    assert (ref.method, ref.basis, ref.dispersion) == ("wb97x-d4", "def2-TZVPD", "D4")
    assert level_from_preset("calibration", method="wb97x-d3bj").dispersion == "D3BJ"
    with pytest.raises(InputError, match="basis"):
        DFTLevel(basis="6-31G")
    assert moving_atoms(5, "cation", 4) == [4]
    assert moving_atoms(5, "donors", 4, [1, 2]) == [1, 2, 4]
    assert moving_atoms(5, "full") == [0, 1, 2, 3, 4]
    assert _constraints_text(6, [2, 5]) == "$freeze\nxyz 1-2,4-5\n"
    assert _constraints_text(3, [0, 1, 2]) is None


@pytest.fixture(scope="module")
def default_run():
    from solvscreen.inputs.config import load_config
    from solvscreen.interface.inputs import validate_all

    config = load_config({})
    library, formulations = validate_all(config)
    return config, library, formulations


def test_check_config_names_key_paths(default_run):
    config, library, formulations = default_run
    bad = dict(config, dft={"molecules": ["DME", "NOPE", "FSI"], "basis": "def2-XYZ", "level": "b3lyp",
                            "relax": "some", "solvent": {"eps": 0.5}, "colour": 1})
    msgs = [str(e) for e in check_config(bad, library, formulations)]
    for path in ("dft.molecules[1]", "dft.molecules[2]", "dft.basis", "dft.level", "dft.relax", "dft.solvent",
                 "dft.colour"):
        assert any(path in m for m in msgs), (path, msgs)
    assert not any("dft.molecules[0]" in m for m in msgs)
    good = dict(config, dft={"molecules": {"top": 3}, "basis": "def2-tzvpd", "solvent": {"name": "tetrahydrofuran"}})
    assert check_config(good, library, formulations) == []


def test_select_molecules(default_run):
    config, library, formulations = default_run
    assert select_molecules(dict(config, dft={"molecules": []}), library, formulations) == []
    cal = select_molecules(dict(config, dft={"molecules": "calibration"}), library, formulations)
    assert {"DME", "EC", "TMP", "DX", "TTE", "MME", "DEE"} <= set(cal)
    assert "FSI" not in cal and "DMSO" not in cal
    top = select_molecules(dict(config, dft={"molecules": {"top": 2}}), library, formulations)
    assert len(top) == 2 and "AN" in top  # acetonitrile (6 atoms) is the smallest liquid
    assert select_molecules(dict(config, dft={"molecules": ["G1"]}), library, formulations) == ["DME"]


@pytest.mark.slow
def test_k_water_reference_level_matches_ccsdt(gfn2_water, tmp_path):
    """omegaB97X-D4/def2-TZVPD, K+ relaxed: within 1.5 kcal/mol of CCSD(T) (GMTKN55 CHB6)."""
    rec = run_dft(gfn2_water / "binding" / "K" / "H2O.json", gfn2_water / "structures" / "H2O.json",
                  tmp_path / "H2O.json", DFTSettings.from_dict({"preset": "reference"}))
    assert rec.ok, rec.failure
    e = rec.results["E_bind_dft_kcal_per_mol"]
    assert math.isfinite(e) and abs(e - CHB6_K_H2O_KCAL) < 1.5, e
    assert json.loads(json.dumps(rec.provenance))["level_of_theory"] == "wB97X-D4/def2-TZVPD"


def _fake_dft_record(path, name, cation, e_gfn2, e_dft):
    """A constructed DFT record (known numbers) as the stage writes it."""
    Record(stage="dft", name=name, inputs={"cation": cation, "kind": "solvent"},
           results={"cation": cation, "E_bind_dft_kcal_per_mol": e_dft, "E_bind_gfn2_kcal_per_mol": e_gfn2,
                    "level": "wB97X-D4", "basis": "def2-TZVP", "dispersion": "D4", "relax": "cation",
                    "n_basis_functions": 100, "d_K_donor_gfn2_A": 2.3, "d_K_donor_dft_A": 2.65},
           timings={"wall_s": 1.0}).write(path)
    return path


def test_aggregate_calibrates_every_row_and_report_flags_flips(tmp_path):
    from solvscreen.dft.report import dft_section, flipped_pairs, orderings

    data = {"DME": (-44.0, -32.0), "DEE": (-52.0, -31.0), "EC": (-30.0, -20.0), "TMP": (-35.0, -26.0)}
    recs = [_fake_dft_record(tmp_path / "dft" / f"{n}.json", n, "K+", g, d) for n, (g, d) in data.items()]
    lines = ["name,kind,cation,status,E_bind_kcal_per_mol,M_donor_distances_A"]
    lines += [f"{n},solvent,K+,ok,{g},2.3;2.4" for n, (g, _) in data.items()]
    lines += ["DGM,solvent,K+,ok,-58.0,2.3", "FSI,anion,K+,ok,-110.0,2.6"]
    (tmp_path / "binding.csv").write_text("\n".join(lines) + "\n")
    rows, cal = aggregate_dft(tmp_path / "binding.csv", recs, tmp_path / "dft_binding.csv",
                              tmp_path / "dft_calibration.json")
    g = np.array([v[0] for v in data.values()])
    d = np.array([v[1] for v in data.values()])
    slope, intercept = np.polyfit(g, d, 1)
    c = cal["cations"]["K+"]
    assert c["slope"] == pytest.approx(slope) and c["intercept"] == pytest.approx(intercept)
    by = {r["name"]: r for r in rows}
    assert by["DGM"]["E_bind_best_source"] == "calibrated_gfn2"
    assert by["DGM"]["E_bind_calibrated_kcal_per_mol"] == pytest.approx(slope * -58.0 + intercept)
    assert by["DGM"]["E_bind_calibrated_err_kcal_per_mol"] >= c["loo_rmse"] > 0
    assert by["FSI"]["E_bind_best_source"] == "gfn2"  # an ion pair is not on the neutral-ligand map
    assert by["FSI"].get("E_bind_calibrated_kcal_per_mol") is None
    assert by["DME"]["E_bind_best_source"] == "dft" and by["DME"]["d_K_donor_gfn2_A"] == pytest.approx(2.3)
    # donor numbers (Gutmann): DME 20.0, EC 16.4, TMP 23.0 -> three molecules with one
    assert c["donor_number_correlation"]["n"] == 3
    flips = {(a, b) for a, b, _, _ in flipped_pairs(orderings(rows))}
    assert ("DME", "DEE") in flips and ("DME", "TMP") not in flips
    html = dft_section(tmp_path / "dft_binding.csv")
    assert "order changes" in html and "<svg" in html


@pytest.mark.slow
def test_pcm_weakens_cation_binding():
    """In a high dielectric (water, eps 78.4) the bare K+ is solvated far better than the
    complex, so binding one water is much weaker than in the gas phase (single points)."""
    from solvscreen.dft.singlepoint import singlepoint

    water = np.array([[0, 0, 0], [0.757, 0.586, 0], [-0.757, 0.586, 0]], float)
    cx = np.vstack([water, [[0, -2.65, 0]]])
    e = {}
    for eps in (None, 78.36):
        lv = level_from_preset("quick", grids_level=1, solvent_eps=eps)
        e[eps] = (singlepoint([8, 1, 1, 19], cx, 1, lv)[0].energy_Eh - singlepoint([8, 1, 1], water, 0, lv)[0].energy_Eh
                  - singlepoint([19], np.zeros((1, 3)), 1, lv)[0].energy_Eh) * 627.5095
    assert e[None] < -10
    assert e[78.36] > e[None] + 5
