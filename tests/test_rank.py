"""Ranking: objectives, weighted score, Pareto front (on SYNTHETIC tables, logic only)."""

from __future__ import annotations

import pytest

from solvscreen.errors import InputError
from solvscreen.library import load_library
from solvscreen.rank import RankingSettings, candidates_from, dominates, pareto_front, rank_candidates
from solvscreen.result_tables import ResultTables
from test_classify import LIBRARY, write_synthetic_results


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    return ResultTables.from_dir(write_synthetic_results(tmp_path_factory.mktemp("rank")))


def liquids(tables):
    return candidates_from(tables, load_library(LIBRARY))


def test_pareto_front_by_hand():
    v = [[1, 1], [2, 0], [0, 2], [0.5, 0.5], [2, 0]]
    assert pareto_front(v) == [True, True, True, False, True]  # equal vectors do not dominate each other
    assert dominates([1, 1], [1, 0]) and not dominates([1, 1], [1, 1])


def test_groups_ranks_and_failures(tables):
    cands = rank_candidates(tables, liquids(tables), cation="K+", anion="FSI")
    by = {c.name: c for c in cands}
    assert by["TTE"].group == "diluent" and by["MME"].group == "diluent"
    assert by["DME"].group == "solvent" and by["MME"].role == "diluent"  # synthetic -E_bind 8 kcal/mol
    assert by["AN"].status == "failed" and "SCF did not converge" in by["AN"].failure_reason
    for group in ("solvent", "diluent"):
        members = [c for c in cands if c.group == group and c.status == "ok"]
        assert sorted(c.rank for c in members) == list(range(1, len(members) + 1))
        assert all(0 <= c.score <= 1 for c in members)
        assert any(c.pareto for c in members)
        best = min(members, key=lambda c: c.rank)
        assert best.pareto  # the top score is never dominated
    assert set(by["DME"].objectives) == {"oxidative_stability", "anion_derived_sei", "anion_rich_shell",
                                         "solvating_power"}
    assert set(by["TTE"].objectives) == {"oxidative_stability", "anion_derived_sei", "non_coordination"}
    # objectives by hand from the synthetic numbers: LUMO(EC) -0.8 vs LUMO(FSI) -1.0
    assert by["EC"].objectives["anion_derived_sei"] == pytest.approx(0.2)
    assert by["DME"].objectives["anion_rich_shell"] == pytest.approx(55.0)
    assert any("anion-derived SEI" in r for r in by["DME"].reasons)


def test_weights_and_oxidation_descriptor(tables):
    only_ox = RankingSettings.from_dict({"weights": {"anion_derived_sei": 0, "anion_rich_shell": 0,
                                                     "solvating_power": 0, "non_coordination": 0}})
    cands = [c for c in rank_candidates(tables, liquids(tables), cation="K+", anion="FSI", settings=only_ox)
             if c.group == "solvent" and c.status == "ok"]
    ranked = sorted(cands, key=lambda c: c.rank)
    eox = [c.descriptors["E_ox_vs_K_V"] for c in ranked]
    assert eox == sorted(eox, reverse=True)
    homo = RankingSettings(oxidation_descriptor="homo_eV")
    c = next(c for c in rank_candidates(tables, liquids(tables), cation="K+", anion="FSI", settings=homo)
             if c.name == "TFP")
    assert c.objectives["oxidative_stability"] == pytest.approx(12.6)  # -HOMO
    with pytest.raises(InputError):
        RankingSettings.from_dict({"weights": {"charisma": 1}})


def test_dielectric_levels_are_preferred_when_the_run_has_them(tables):
    import copy

    t = copy.deepcopy(tables)
    for r in t.descriptors:  # SYNTHETIC ALPB levels: anion levels come down, solvent levels barely move
        if r.get("lumo_eV"):
            shift = -3.0 if r["kind"] == "anion" else -0.1
            r["homo_alpb_eV"], r["lumo_alpb_eV"] = float(r["homo_eV"]) + shift, float(r["lumo_eV"]) + shift
    by = {c.name: c for c in rank_candidates(t, liquids(t), cation="K+", anion="FSI")}
    assert by["EC"].objectives["anion_derived_sei"] == pytest.approx((-0.8 - 0.1) - (-1.0 - 3.0))
    assert by["EC"].descriptors["orbital_levels"] == "in ALPB"
    gas = {c.name: c for c in rank_candidates(t, liquids(t), cation="K+", anion="FSI",
                                              settings=RankingSettings(orbital_levels="gas"))}
    assert gas["EC"].objectives["anion_derived_sei"] == pytest.approx(0.2)
