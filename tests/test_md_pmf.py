"""K+-anion PMF: WHAM against an analytic PMF (fast), and a real umbrella run (slow)."""

import json
from dataclasses import replace
import math

import numpy as np
import pytest

from solvscreen.core.errors import InputError
from solvscreen.md.pmf import analyse_windows, pair_observables, paired_fraction, pmf_settings
from solvscreen.md.wham import KB_KCAL_PER_MOL_K, Window, wham

T = 298.15
KT = KB_KCAL_PER_MOL_K * T


def _w_true(r):
    """A contact well at 3.6 A (-3 kcal/mol), a barrier at 5 A, flat beyond ~6.5 A."""
    return -3.0 * np.exp(-((r - 3.6) / 0.35) ** 2) + 1.0 * np.exp(-((r - 5.0) / 0.4) ** 2)


GRID = np.linspace(1.5, 11.0, 20001)
WALL = np.where(GRID < 3.0, 50 * (3.0 - GRID) ** 2, 0.0)  # the ions' repulsive core


def _windows(settings, n, seed=0):
    """Exact samples of r (inverse CDF) from P_i(r) ~ r^2 exp(-(w + U_i)/kT) of every window."""
    rng = np.random.default_rng(seed)
    out = []
    for r0 in settings.centers_A:
        logp = 2 * np.log(GRID) - (_w_true(GRID) + WALL + 0.5 * settings.k_kcal_per_mol_A2 * (GRID - r0) ** 2) / KT
        c = np.cumsum(np.exp(logp - logp.max()))
        out.append(Window(r0, settings.k_kcal_per_mol_A2, np.interp(rng.random(n), c / c[-1], GRID)))
    return out


def test_wham_recovers_an_analytic_pmf_and_its_association_constant():
    s = pmf_settings("screening", n_bootstrap=30)
    res = analyse_windows(_windows(s, 1500), s)
    r = np.array(res.r_A)
    w = np.array([np.nan if x is None else x for x in res.w_kcal_per_mol])
    ref = (r >= s.r_max_A - s.reference_width_A) & (r <= s.r_max_A)
    truth = _w_true(r) - _w_true(r[ref]).mean()
    inner = (r > 3.1) & (r < s.r_max_A - 0.2)
    assert np.nanmax(np.abs(w[inner] - truth[inner])) < 0.35  # kcal/mol
    o = res.observables
    assert abs(o["r_cip_A"] - 3.6) < 0.1 and abs(o["r_barrier_A"] - 5.0) < 0.15
    # K_a by direct quadrature of the analytic PMF up to the same barrier
    rr = GRID[GRID <= o["r_barrier_A"]]
    wa = _w_true(rr) + WALL[GRID <= o["r_barrier_A"]] - _w_true(r[ref]).mean()
    ka = 4 * math.pi * 6.02214076e23 * 1e-27 * np.trapezoid(rr ** 2 * np.exp(-wa / KT), rr)
    lo, hi = res.intervals["dg_assoc_kcal_per_mol"]
    assert lo - 0.1 <= -KT * math.log(ka) <= hi + 0.1
    assert abs(o["dg_assoc_kcal_per_mol"] + KT * math.log(ka)) < 0.25


def test_short_windows_are_not_called_converged():
    s = pmf_settings("screening", n_bootstrap=30)
    res = analyse_windows(_windows(s, 40, seed=3), s)
    assert not res.converged
    assert "kcal/mol" in res.convergence_reason


def test_wham_window_free_energies_match_the_exact_partition_functions():
    s = pmf_settings("screening")
    ws = _windows(s, 4000, seed=1)
    edges = np.arange(2.0, 10.5, 0.05)
    res = wham(ws, edges, T)
    assert res.converged
    # exact f_i = -kT ln Z_i/Z_0 with Z_i = int r^2 exp(-(w + U_i)/kT)
    z = [np.trapezoid(np.exp(2 * np.log(GRID) - (_w_true(GRID) + WALL + x.bias(GRID)) / KT), GRID) for x in ws]
    exact = -KT * np.log(np.array(z) / z[0])
    assert np.max(np.abs(res.f_kcal_per_mol - exact)) < 0.15


def test_mass_action_paired_fraction():
    assert paired_fraction(0.0, 1.0) == 0.0
    a = paired_fraction(10.0, 1.0)
    assert abs(10.0 * 1.0 * (1 - a) ** 2 - a) < 1e-12
    assert paired_fraction(1e6, 1.0) > 0.99


def test_observables_need_a_sampled_contact_region():
    r = np.arange(5.0, 9.0, 0.05)
    with pytest.raises(Exception, match="no sampled PMF point"):
        pair_observables(r, np.zeros_like(r), T, 4.6)


def test_settings_refuse_a_window_beyond_the_minimum_image():
    with pytest.raises(InputError, match="half the box edge"):
        pmf_settings("screening", r_max_A=11.5)
    with pytest.raises(InputError, match="unknown preset"):
        pmf_settings("nope")


@pytest.mark.slow
def test_a_real_umbrella_run_samples_its_windows_and_resumes(tmp_path):
    """GAFF2/AM1-BCC KFSI in DME, three short windows (minutes on one core)."""
    pytest.importorskip("openmm")
    from solvscreen.md.pmf import Component, run_pair

    s = pmf_settings("smoke", r_max_A=6.0, window_spacing_A=1.5, round_ps=4.0, max_production_ps=4.0,
                     platform="CPU", n_bootstrap=20)
    dme = Component("DME", "COCCOC", 0.867)
    fsi = Component("FSI", "O=S(=O)(F)[N-]S(=O)(=O)F")
    k = Component("K+", "[K+]")
    rec = run_pair(dme, fsi, k, s, tmp_path / "w", cache_dir=tmp_path / "cache")
    assert rec["n_windows"] == 3 and rec["stop"] in ("cap", "converged")
    assert rec["box"]["n_solvent"] > 50
    pmf = rec["pmf"]
    assert pmf["samples_per_window"] == 20
    means = []
    for i, r0 in enumerate(s.centers_A):  # the restraint holds each window near its centre (the
        samples = np.load(tmp_path / "w" / "windows" / f"window_{i:02d}.samples.npy")  # ions' core
        means.append(samples.mean())  # pushes the 3.0 A window out by up to ~0.9 A at k = 3)
        assert abs(samples.mean() - r0) < 1.0
    assert means == sorted(means)
    assert math.isfinite(pmf["observables"]["dg_assoc_kcal_per_mol"])
    json.dumps(rec)
    assert rec["cost_complete"] and rec["ns_total"] > 3 * 4e-3  # the pull, equilibration and 3 x 4 ps
    again = run_pair(dme, fsi, k, s, tmp_path / "w", cache_dir=tmp_path / "cache")
    assert again["rounds"][-1]["ns_this_call"] < 1e-9  # everything resumed from the saved windows
    assert again["ns_total"] == rec["ns_total"]  # and the record still counts what was sampled
    assert again["pmf"]["observables"] == pmf["observables"]
    # a resumed run that samples more counts every call's sampling (the work directory's ledger)
    more = run_pair(dme, fsi, k, replace(s, round_ps=8.0, max_production_ps=8.0), tmp_path / "w", cache_dir=tmp_path / "cache")
    assert more["pmf"]["samples_per_window"] == 40
    assert more["ns_total"] == pytest.approx(rec["ns_total"] + 3 * 4e-3, abs=1e-6)
    assert more["rounds"][-1]["ns_this_call"] == pytest.approx(3 * 4e-3, abs=1e-6)
    (tmp_path / "w" / "windows" / "cost.json").unlink()  # windows sampled before any ledger: cost unknown
    assert run_pair(dme, fsi, k, replace(s, round_ps=8.0, max_production_ps=8.0), tmp_path / "w",
                    cache_dir=tmp_path / "cache")["cost_complete"] is False
    other = run_pair(dme, fsi, k, pmf_settings("smoke", r_max_A=6.0, window_spacing_A=1.5, round_ps=4.0,
                                                  max_production_ps=4.0, platform="CPU", n_bootstrap=20,
                                                  k_kcal_per_mol_A2=2.0), tmp_path / "w", cache_dir=tmp_path / "cache")
    assert other["ns_total"] > 0  # other sampling settings: the saved windows are not reused


def test_pmf_pairs_add_the_reference_and_take_the_undecided_components(tmp_path):
    from solvscreen.inputs.formulations import Formulation
    from solvscreen.md.pmf_stage import pmf_pairs, undecided_components

    md = {"pmf": {"solvents": ["DEE"], "salts": ["KFSI", "KTFSI"]}}
    assert pmf_pairs(md) == [("DEE", "KFSI"), ("DME", "KFSI"), ("DEE", "KTFSI"), ("DME", "KTFSI")]
    assert pmf_pairs({}) == []
    csv = tmp_path / "classification.csv"
    csv.write_text("id,label,origin\nA,LCE|WSE,table\nB,HCE,table\nC,LCE|LHCE,table\n")
    forms = [Formulation(id="A", salt="KFSI", concentration_mol_per_L=1.0, components=(("DEE", 1.0),)),
             Formulation(id="B", salt="KFSI", concentration_mol_per_L=4.0, components=(("DMC", 1.0),)),
             Formulation(id="C", salt="KFSI", concentration_mol_per_L=1.0, components=(("DME", 1.0), ("TTE", 1.0)))]
    comps = undecided_components(csv, forms)
    assert comps == ["DEE", "DME", "TTE"]
    assert pmf_pairs({"pmf": {"solvents": "undecided"}}, comps) == [("DEE", "KFSI"), ("DME", "KFSI"), ("TTE", "KFSI")]


def test_the_sampling_stamp_covers_what_changes_the_samples():
    a = pmf_settings("screening")
    assert a.sampling_stamp() == pmf_settings("screening", round_ps=20.0, threads=2, n_bootstrap=5).sampling_stamp()
    assert a.sampling_stamp() != pmf_settings("screening", k_kcal_per_mol_A2=5.0).sampling_stamp()
    assert a.sampling_stamp() != pmf_settings("screening", charge_scale=1.0).sampling_stamp()


def test_the_difference_from_the_reference_carries_both_intervals_and_both_drifts():
    from solvscreen.md.pmf_stage import difference

    own = {"dg_assoc_kcal_per_mol": -1.5, "dg_assoc_lo_kcal_per_mol": -2.1, "dg_assoc_hi_kcal_per_mol": -0.9,
           "dg_assoc_first_half_kcal_per_mol": -1.6, "dg_assoc_second_half_kcal_per_mol": -1.4}
    ref = {"dg_assoc_kcal_per_mol": 0.3, "dg_assoc_lo_kcal_per_mol": -0.5, "dg_assoc_hi_kcal_per_mol": 1.1,
           "dg_assoc_first_half_kcal_per_mol": -0.1, "dg_assoc_second_half_kcal_per_mol": 0.7}
    d, lo, hi = difference(own, ref)
    h = math.sqrt(0.6 ** 2 + 0.8 ** 2 + 0.1 ** 2 + 0.4 ** 2)  # half-widths 0.6, 0.8; half-drifts 0.1, 0.4
    assert d == pytest.approx(-1.8) and hi - d == pytest.approx(h) and d - lo == pytest.approx(h)
    no_halves = {k: v for k, v in ref.items() if "half" not in k}
    assert difference(own, no_halves)[2] - d == pytest.approx(math.sqrt(0.6 ** 2 + 0.8 ** 2 + 0.1 ** 2))


def test_pmf_orderings_table_names_each_pair_and_its_verdict(tmp_path, capsys):
    """CONSTRUCTED pmf.csv: DEE below DME beyond the interval, TTE not resolved, DMSO above."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location("pmf_orderings", Path(__file__).parents[1] / "bench" / "pmf_orderings.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    rows = [("DME", 0.3, 0.4, ""), ("DEE", -1.5, 0.4, "DME"), ("TTE", 0.0, 0.9, "DME"), ("DMSO", 2.0, 0.4, "DME"),
            ("EC", 1.0, 0.4, "DME")]
    lines = ["solvent,salt,status,dg_assoc_kcal_per_mol,dg_assoc_lo_kcal_per_mol,dg_assoc_hi_kcal_per_mol,"
             "reference_solvent,ddg_vs_reference_kcal_per_mol"]
    for n, dg, h, ref in rows:
        lines.append(f"{n},KFSI,ok,{dg},{dg - h},{dg + h},{ref},{'' if not ref else dg - 0.3}")
    (tmp_path / "pmf.csv").write_text("\n".join(lines) + "\n")
    assert mod.main([str(tmp_path / "pmf.csv")]) == 0
    out = capsys.readouterr().out
    h = math.hypot(0.4, 0.4)
    assert f"| DEE | DME | -1.80 [{-1.8 - h:+.2f}, {-1.8 + h:+.2f}] | as expected |" in out
    assert "| TTE | DME | -0.30" in out and "not resolved" in out.split("| TTE |")[1].split("\n")[0]
    assert "| DME | DMSO | -1.70" in out and "| DMM | DGM | – | not measured (DMM, DGM) |" in out
    # DN: DME 20, DMSO 29.8, EC 16.4; dG 0.3, 2.0, 1.0 -> ranks (1, 3, 2) vs (2, 3, 1): rho = 0.5
    assert "over 3 solvents (DME, DMSO, EC): +0.50" in out
    assert mod.spearman([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0) and mod.spearman([1, 2], [1, 2]) is None
