"""Preferential solvation of K+ in a blend (md.prefsolv) and the blend pair box (md.pair_box)."""

import math

import numpy as np
import pytest

from solvscreen.core.errors import CalculationFailed, InputError
from solvscreen.md.pair_box import AVOGADRO, Component, molecules_per_solvent
from solvscreen.md.prefsolv import analyse_occupancy, count_exchanges, shell_ddg
from solvscreen.md.wham import KB_KCAL_PER_MOL_K

T = 298.15
KT = KB_KCAL_PER_MOL_K * T


def test_shell_ddg_is_minus_rt_ln_of_the_shell_to_bulk_ratio():
    # 3 A and 1 B in the shell of an equimolar blend: ddG(B - A) = RT ln 3 (the shell prefers A)
    assert shell_ddg(np.full(10, 3), np.full(10, 1), 1.0, T) == pytest.approx(KT * math.log(3))
    # the same shell in a 1:3 (A:B) bulk: B is 9x under-represented
    assert shell_ddg(np.full(10, 3), np.full(10, 1), 3.0, T) == pytest.approx(KT * math.log(9))
    assert shell_ddg(np.full(10, 2), np.full(10, 2), 1.0, T) == pytest.approx(0.0)
    assert shell_ddg(np.full(10, 3), np.zeros(10), 1.0, T) is None  # B never enters: no finite value


def test_exchanges_count_entries_after_time_outside_only():
    col = np.array([1, 1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1], dtype=bool)  # entries after 1, 2 and 3 frames out
    assert count_exchanges(col[:, None], 2) == 2
    assert count_exchanges(col[:, None], 1) == 3
    assert count_exchanges(np.ones((20, 3), dtype=bool), 2) == 0  # in from the start: no entry
    two = np.stack([col, np.roll(col, 5)], axis=1)
    assert count_exchanges(two, 2) == count_exchanges(col[:, None], 2) + count_exchanges(np.roll(col, 5)[:, None], 2)


def test_analysis_of_a_known_occupancy():
    rng = np.random.default_rng(1)
    frames = 1000
    a = rng.random((frames, 30)) < 0.08  # ~2.4 A in the shell
    b = rng.random((frames, 30)) < 0.04  # ~1.2 B
    out = analyse_occupancy(a, b, T)
    expect = -KT * math.log(b.sum() / a.sum())
    assert out["ddg_b_minus_a_kcal_per_mol"] == pytest.approx(expect)
    assert out["ddg_b_minus_a_kcal_per_mol"] == pytest.approx(KT * math.log(2), abs=0.1)
    assert out["x_b_shell"] == pytest.approx(b.sum() / (a.sum() + b.sum()))
    assert len(out["block_values_kcal_per_mol"]) == 5 and out["block_sem_kcal_per_mol"] < 0.1
    assert all(abs(h - expect) < 0.15 for h in out["halves_kcal_per_mol"])
    assert out["exchanges_a"] > 100 and out["exchanges_b"] > 50
    with pytest.raises(CalculationFailed, match="frames"):
        analyse_occupancy(a[:8], b[:8], T)


def test_blend_box_is_equimolar_at_ideal_mixing_and_neat_box_is_unchanged():
    dme = Component("DME", "COCCOC", 0.867)
    dee = Component("DEE", "CCOCCOCC", 0.842)
    m_dme, m_dee = 90.122, 118.176
    n_neat = molecules_per_solvent([dme], [m_dme], 24.0)
    assert n_neat == round(24.0 ** 3 * 1e-24 * 0.867 / m_dme * AVOGADRO)
    n = molecules_per_solvent([dme, dee], [m_dme, m_dee], 24.0)
    v = n * (m_dme / 0.867 + m_dee / 0.842) / AVOGADRO * 1e24  # A^3 of the blend at ideal mixing
    assert abs(v - 24.0 ** 3) < (m_dme / 0.867 + m_dee / 0.842) / AVOGADRO * 1e24  # within one molecule pair
    assert n < n_neat


def test_blend_needs_two_different_solvents(tmp_path):
    from solvscreen.md.pmf import pmf_settings
    from solvscreen.md.prefsolv import run_prefsolv

    dme = Component("DME", "COCCOC", 0.867)
    with pytest.raises(InputError, match="two different solvents"):
        run_prefsolv(dme, dme, Component("FSI", "O=S(=O)(F)[N-]S(=O)(=O)F"), Component("K+", "[K+]"),
                     pmf_settings("smoke"), tmp_path)


# the real blend run (build, MD, analysis, record, table) is tests/test_md_workflow.py's
# test_a_short_prefsolv_run_through_the_rules


def _rec(ddg, sem=0.06, halves=(0.54, 0.37), ea=17, eb=10, na=2.44, nb=1.13):
    return {"a": "DME", "b": "DEE", "salt": "KFSI", "n_each": 34, "shell_A": 4.1, "ns_production": 0.85,
            "mean_shell_a": na, "mean_shell_b": nb, "x_b_shell": nb / (na + nb) if na + nb else None, "x_b_bulk": 0.5,
            "ddg_b_minus_a_kcal_per_mol": ddg, "block_sem_kcal_per_mol": sem, "halves_kcal_per_mol": halves,
            "exchanges_a": ea, "exchanges_b": eb, "cpu_hours": 0.63, "platform": "CPU"}


def test_table_row_carries_the_interval_and_the_share_ratio_it_maps_to():
    from solvscreen.md.prefsolv import PREFSOLV_COLUMNS, prefsolv_row, share_ratio

    ddg = -KT * math.log(1.13 / 2.44)  # the shell counts' own ddG
    row = prefsolv_row(_rec(ddg))
    assert set(row) <= set(PREFSOLV_COLUMNS) and row["status"] == "ok"
    half = math.hypot(2.776 * 0.06, (0.54 - 0.37) / 2)
    assert row["ddg_lo_kcal_per_mol"] == pytest.approx(ddg - half, abs=1e-4)
    assert row["ddg_hi_kcal_per_mol"] == pytest.approx(ddg + half, abs=1e-4)
    # equimolar: the share ratio is 2 x the shell mole fraction, which the ddG gives back
    assert row["shell_share_ratio_b"] == pytest.approx(2 * 1.13 / (2.44 + 1.13), abs=1e-4)
    assert row["shell_share_ratio_b_lo"] < row["shell_share_ratio_b"] < row["shell_share_ratio_b_hi"]
    assert share_ratio(0.0, 0.5, T) == pytest.approx(1.0)
    assert share_ratio(0.0, 0.25, T) == pytest.approx(1.0)  # no preference: the shell mirrors the bulk
    assert row["converged"] is True
    slow = prefsolv_row(_rec(0.453, halves=(1.2, 0.3), ea=4))
    assert slow["converged"] is False and "halves differ" in slow["convergence_reason"]
    assert "entered the shell 4 times" in slow["convergence_reason"]


def test_a_species_that_never_enters_gets_an_entry_count_bound():
    from solvscreen.md.prefsolv import prefsolv_row

    never = dict(sem=None, halves=(None, None), eb=0, nb=0.0)
    row = prefsolv_row(_rec(None, **never))  # DME entered 17 times, DEE never
    assert row["status"] == "ok" and row["interval_method"] == "entry bound" and row["converged"] is True
    assert row["shell_share_ratio_b"] == 0.0 and row["shell_share_ratio_b_lo"] == 0.0
    assert row["shell_share_ratio_b_hi"] == pytest.approx((3.0 / (3.0 + 17)) / 0.5, abs=1e-4)  # 0.30
    assert row["ddg_lo_kcal_per_mol"] == pytest.approx(-KT * math.log(3.0 / 17), abs=1e-3)
    assert "entered the shell 0 times" in row["convergence_reason"] and "Poisson" in row["convergence_reason"]
    few = prefsolv_row(_rec(None, **{**never, "ea": 4}))  # too few DME entries: a wide bound, not converged
    assert few["converged"] is False and few["shell_share_ratio_b_hi"] > 0.8
    # one entry of B that then stays longer than A's molecules do: the bound's assumption fails
    stay = prefsolv_row(_rec(0.9, sem=None, halves=(None, 0.5), eb=1, nb=1.0))
    assert stay["status"] == "failed" and "stayed longer" in stay["convergence_reason"]
    none = prefsolv_row(_rec(None, **{**never, "ea": 0, "na": 0.0}))
    assert none["status"] == "failed" and "neither blocks nor an entry bound" in none["convergence_reason"]


def test_prefsolv_config_and_the_pairs_undecided_roles_give(tmp_path):
    from solvscreen.core.records import write_csv
    from solvscreen.md.prefsolv_stage import prefsolv_config, prefsolv_pairs, undecided_role_pairs

    md = {"prefsolv": {"pairs": [["DME", "TTE"], ["DME", "TTE"], ["DGM", "DBE"]], "salts": ["KFSI", "KPF6"]}}
    assert prefsolv_pairs(md) == [("DME", "TTE", "KFSI"), ("DGM", "DBE", "KFSI"),
                                  ("DME", "TTE", "KPF6"), ("DGM", "DBE", "KPF6")]
    assert prefsolv_pairs({}) == [] and prefsolv_config({})["ns"] == 1.0
    for bad, msg in (({"pairs": "all"}, "md.prefsolv.pairs"), ({"ns": 0.05}, "md.prefsolv.ns"),
                     ({"discard_ps": -1}, "md.prefsolv.discard_ps"), ({"ns": 0.02, "discard_ps": 15}, "fewer than 10 ps"),
                     ({"preset": "huge"}, "unknown preset"), ({"pair": []}, "md.prefsolv.pair: unknown key")):
        with pytest.raises(InputError, match=msg):
            prefsolv_config({"prefsolv": bad})
    table = tmp_path / "classification.csv"
    write_csv(table, [
        {"id": "A", "origin": "table", "label": "LCE|LHCE|WSE", "roles": "DME=solvating|TTE=undecided"},
        {"id": "B", "origin": "table", "label": "LCE|LHCE|WSE", "roles": "DME=solvating|MME=undecided|TTE=undecided"},
        {"id": "C", "origin": "table", "label": "LHCE", "roles": "DME=solvating|OTE=undecided"},  # decided
        {"id": "D", "origin": "grid", "label": "LCE|LHCE", "roles": "DGM=solvating|DX=undecided"},  # not a table row
        {"id": "E", "origin": "table", "label": "LCE|WSE", "roles": "TFP=solvating"},  # no undecided role
    ], ["id", "origin", "label", "roles"])
    assert undecided_role_pairs(table) == [("DME", "TTE"), ("DME", "MME")]
    assert prefsolv_pairs({"prefsolv": {"pairs": "undecided"}}, undecided_role_pairs(table)) == [
        ("DME", "TTE", "KFSI"), ("DME", "MME", "KFSI")]
