"""Ranking: K-metal verdict, objectives, score, epsilon-Pareto front.

Three kinds of test: the front and dominance rules by hand; a CONSTRUCTED table whose answers
follow from its numbers (always runs); the real default-run tables, checked against orderings
a chemist knows independently of this code (skips when no such run is present).
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from solvscreen.core.errors import InputError
from solvscreen.classify.rank import (RANKING_COLUMNS, RankingSettings, candidates_from, dominates,
                             eps_dominates, front_summary, pareto_front, rank_candidates, ranking_notes,
                             write_ranking)
from solvscreen.complexes import molecule_features
from solvscreen.core.result_tables import ResultTables
from solvscreen.xtb.structures import mol_from_smiles

ROOT = Path(__file__).resolve().parents[1]


# ----------------------------------------------------------------------------- dominance by hand
def test_pareto_front_by_hand():
    v = [[1, 1], [2, 0], [0, 2], [0.5, 0.5], [2, 0]]
    assert pareto_front(v) == [True, True, True, False, True]  # equal vectors do not dominate each other
    assert dominates([1, 1], [1, 0]) and not dominates([1, 1], [1, 1])


def test_eps_dominance_needs_a_resolved_win_and_no_resolved_loss():
    eps = [1.0, 1.0]
    assert eps_dominates([3.0, 0.0], [1.0, 0.5], eps)  # wins by 2 > 1, loses by 0.5 < 1
    assert not eps_dominates([1.5, 0.0], [1.0, 0.0], eps)  # a 0.5 win is not resolved
    assert not eps_dominates([3.0, 0.0], [1.0, 1.5], eps)  # loses by 1.5 > 1
    # plain Pareto keeps both of two near-equal candidates; with eps the clearly better one wins
    v = [[5.0, 5.0], [5.1, 1.0]]
    assert pareto_front(v) == [True, True]
    assert pareto_front(v, [1.0, 1.0]) == [True, False]


def test_eps_front_is_never_empty_even_where_plain_eps_rules_would_cycle():
    # each beats the next by 2 on one axis and loses by 1 (= eps, not resolved) on the others:
    # without the balance condition a>b>c>a and nobody would be on the front
    a, b, c = [0.0, 0.0, 0.0], [-2.0, 1.0, 1.0], [-1.0, -1.0, 2.0]
    eps = [1.0, 1.0, 1.0]
    wins = lambda x, y: all(p >= q - e for p, q, e in zip(x, y, eps)) and any(p > q + e for p, q, e in zip(x, y, eps))  # noqa: E731
    assert wins(a, b) and wins(b, c) and wins(c, a)
    assert any(pareto_front([a, b, c], eps))
    rng = random.Random(7)
    for _ in range(200):
        vs = [[rng.uniform(0, 3) for _ in range(3)] for _ in range(rng.randint(1, 12))]
        assert any(pareto_front(vs, eps))


def test_donor_free_is_read_from_the_recorded_structure():
    """One donor rule (MoleculeStructure.donor_free) on the structure the stages record, never on SMILES."""
    tables = constructed_tables()
    assert tables.structure("HEX").donor_free
    assert not tables.structure("DME").donor_free and not tables.structure("TTE").donor_free
    # the table, not the SMILES, decides: a row recorded with no donor atom is donor-free
    relabeled = constructed_tables()
    next(r for r in relabeled.descriptors if r["name"] == "DME")["n_molecule_donor_atoms"] = 0
    dme = {c.name: c for c in rank_candidates(relabeled, liquids(), cation="K+", anion="FSI", dft_binding=[])}["DME"]
    assert dme.group == "diluent" and dme.descriptors["E_bind_source"] == "no donor atom"
    # two donor-free diluents tie on non_coordination (0 and 0, no uncertainty): the term weighs nothing
    assert dme.contrib["non_coordination"] == 0.0 and "non_coordination weighs nothing" in dme.terms_note


def test_ranking_names_a_descriptors_table_without_the_structure_columns():
    tables = constructed_tables()
    for r in tables.descriptors:
        del r["n_molecule_donor_atoms"]
    tables.sources["descriptors"] = "old/descriptors.csv"
    with pytest.raises(InputError, match=r"old/descriptors.csv: the descriptors table lacks column\(s\) "
                                         r"n_molecule_donor_atoms"):
        rank_candidates(tables, liquids(), cation="K+", anion="FSI", dft_binding=[])


# ----------------------------------------------------------------------------- constructed tables
# CONSTRUCTED numbers (not computed): name, kind, SMILES, LUMO_alpb eV, E_ox V, E_bind kcal/mol,
# solvating power kcal/mol (larger = holds K+ more strongly, a worse anion-rich shell). References: DME/DGM high LUMO (K-stable), EC/DMC/AN low (K-reduced).
CONSTRUCTED = [
    ("DME", "solvent", "COCCOC", 0.7, 7.7, -44.0, 7.0),
    ("DGM", "solvent", "COCCOCCOC", -0.5, 7.2, -58.0, 11.0),
    ("GX", "solvent", "COCCOCCOCCOC", 0.0, 8.5, -70.0, 5.0),  # a glyme better than DME on E_ox and shell
    ("EC", "solvent", "O=C1OCCO1", -6.2, 9.4, -39.0, 6.0),
    ("DMC", "solvent", "COC(=O)OC", -6.0, 9.2, -33.0, 0.5),
    ("AN", "solvent", "CC#N", -5.4, 11.0, -35.0, 1.0),  # best E_ox and a good shell: rejected anyway
    ("TMP", "solvent", "COP(=O)(OC)OC", -1.9, 9.0, -54.0, 5.0),  # between the references
    ("HEX", "solvent", "CCCCCC", 3.0, 8.0, None, None),  # no donor atom, proposed as a solvent
    ("TTE", "diluent", "FC(F)C(F)(F)OCC(F)(F)C(F)F", -2.9, 9.4, -37.0, None),
    ("HFE", "diluent", "FC(F)(F)COCC(F)(F)F", -1.8, 9.2, -33.0, None),
]
FSI = ("FSI", "anion", "O=S(=O)(F)[N-]S(=O)(=O)F", -3.3, 5.2)


def structure_columns(smiles: str) -> dict:
    """The molecule's structure as the properties stage records it (computed from the SMILES)."""
    return molecule_features(mol_from_smiles(smiles)).to_dict()


def constructed_tables(rows=CONSTRUCTED) -> ResultTables:
    desc, bind, solv = [], [], []
    for name, kind, smi, lumo, eox, eb, sp in rows:
        desc.append({"name": name, "kind": kind, "smiles": smi, "status": "ok", "lumo_alpb_eV": lumo,
                     "homo_alpb_eV": -eox - 3.0, "lumo_eV": lumo + 0.1, "homo_eV": -eox - 3.1, "E_ox_vs_K_V": eox,
                     **structure_columns(smi)})
        if eb is None:  # what the binding stage writes for a molecule with no donor
            bind.append({"name": name, "cation": "K+", "status": "failed", "failure_reason": "no donor atom"})
        else:
            bind.append({"name": name, "cation": "K+", "status": "ok", "E_bind_kcal_per_mol": eb})
        if sp is not None:
            solv.append({"name": name, "cation": "K+", "status": "ok", "solvating_power_kcal_per_mol": sp})
    desc.append({"name": FSI[0], "kind": "anion", "smiles": FSI[2], "status": "ok", "lumo_alpb_eV": FSI[3],
                 "lumo_eV": 0.1, "E_ox_vs_K_V": FSI[4], **structure_columns(FSI[2])})
    return ResultTables(descriptors=desc, binding=bind, solvating_power=solv)


def liquids(rows=CONSTRUCTED):
    return [(n, k, s) for n, k, s, *_ in rows]


@pytest.fixture(scope="module")
def ranked():
    return {c.name: c for c in rank_candidates(constructed_tables(), liquids(), cation="K+", anion="FSI",
                                               dft_binding=[])}


def test_k_metal_verdicts_follow_the_references(ranked):
    # eps 0.8 eV: stable from -0.5 - 0.8 = -1.3 eV up, reduced from -5.4 + 0.8 = -4.6 eV down
    assert {n: ranked[n].k_metal for n in ("DME", "DGM", "GX", "EC", "DMC", "AN", "TMP")} == {
        "DME": "stable", "DGM": "stable", "GX": "stable", "EC": "reduced", "DMC": "reduced", "AN": "reduced",
        "TMP": "undecided"}
    # the arithmetic is printed with its result
    assert ranked["AN"].reasons[0].startswith("reduced by K metal: LUMO -5.40 eV <= -4.60 eV (highest K-reduced "
                                              "reference -5.40 + resolution 0.8)")
    assert "between" in ranked["TMP"].reasons[0]


def test_reduced_solvents_rank_below_and_stay_off_the_front(ranked):
    solvents = sorted((c for c in ranked.values() if c.group == "solvent"), key=lambda c: c.rank)
    assert [c.rank for c in solvents] == list(range(1, len(solvents) + 1))
    # AN has the best E_ox and a better shell than every glyme but DME's: it still ranks below all glymes
    assert all(ranked["AN"].rank > ranked[g].rank for g in ("DME", "DGM", "GX"))
    assert ranked["EC"].rank > ranked["DME"].rank and ranked["DMC"].rank > ranked["DME"].rank
    assert ranked["TMP"].rank < min(ranked[n].rank for n in ("EC", "DMC", "AN"))  # undecided before reduced
    assert not any(ranked[n].pareto for n in ("EC", "DMC", "AN"))
    # front by hand (eps 0.8 eV, 0.4 V, 6 kcal/mol) among DME, DGM, GX, TMP: GX beats DGM by 1.3 V
    # and 12 kcal/mol without a resolved loss; DME has the best LUMO by 0.7 (< eps) but GX wins by
    # 0.8 V: GX beats DME too; TMP is 1.9 eV below GX on LUMO but 0.5 V above it on E_ox (both
    # resolved): neither beats the other
    assert {n for n, c in ranked.items() if c.group == "solvent" and c.pareto} == {"GX", "TMP"}


def test_donor_free_and_fluorinated_liquids_are_not_ranked_as_solvents(ranked):
    assert ranked["HEX"].group == "diluent" and ranked["HEX"].status == "ok"
    assert ranked["HEX"].objectives["non_coordination"] == 0.0  # no donor: no binding at all
    assert any("no donor atom" in r for r in ranked["HEX"].reasons)
    assert ranked["TTE"].group == "diluent" and ranked["HFE"].group == "diluent"
    assert set(ranked["TTE"].objectives) == {"reductive_stability", "oxidative_stability", "non_coordination"}
    assert set(ranked["DME"].objectives) == {"reductive_stability", "oxidative_stability", "anion_rich_shell"}
    assert ranked["DME"].objectives["anion_rich_shell"] == pytest.approx(-7.0)
    row = ranked["HEX"].row()
    assert list(row) == RANKING_COLUMNS and row["k_metal"] == "stable"


def check_reasons(cands) -> bool:
    """Every LUMO statement of every reason holds for the candidate's numbers; True if a
    "between" statement was among them."""
    import re

    checked_between = False
    for c in cands:
        if c.status != "ok":
            continue
        lumo, anion = c.descriptors["lumo_eV"], c.descriptors["anion_lumo_eV"]
        for r in c.reasons:
            m = re.match(r"LUMO (\d+\.\d+) eV (above|below) FSI's", r)
            if m:
                assert float(m.group(1)) == pytest.approx(abs(lumo - anion), abs=0.006)
                assert (m.group(2) == "above") == (lumo > anion)
            m = re.match(r".*LUMO (-?\d+\.\d+) eV (>=|<=) (-?\d+\.\d+) eV \(\D+ (-?\d+\.\d+) ([-+]) "
                         r"resolution (\d+(?:\.\d+)?)\)", r)
            if m:
                lhs, op, bound, ref, sign, e = (float(m.group(1)), m.group(2), float(m.group(3)), float(m.group(4)),
                                                m.group(5), float(m.group(6)))
                assert bound == pytest.approx(ref - e if sign == "-" else ref + e, abs=0.006), r  # the result is right
                assert (lhs >= bound - 0.006) if op == ">=" else (lhs <= bound + 0.006), r
            m = re.match(r".*LUMO (-?\d+\.\d+) eV lies between the K-reduced bound (-?\d+\.\d+) eV .*"
                         r"and the K-stable bound (-?\d+\.\d+) eV", r)
            if m:
                v, lo, hi = map(float, m.groups())
                assert lo < v < hi, r
                checked_between = True
    return checked_between


def test_every_reason_is_true_for_its_numbers(ranked):
    assert check_reasons(ranked.values())  # the constructed table has an undecided candidate (TMP)


def test_scores_carry_intervals_and_overlapping_candidates_share_a_rank_band(ranked):
    ok = [c for c in ranked.values() if c.status == "ok"]
    for c in ok:
        assert c.score_err is not None and c.score_err > 0 and c.rank_band
        # the breakdown sums to the score (a lone candidate of its verdict has no terms)
        if sum(c.contrib.values()):
            assert sum(c.contrib.values()) == pytest.approx(c.score)
        for other in ok:
            overlap = (other is not c and other.group == c.group and other.k_metal == c.k_metal
                       and abs(other.score - c.score) <= other.score_err + c.score_err)
            assert (other.name in c.tied_with) == overlap
            if overlap:  # ties are mutual, and each band holds the other's rank
                assert c.name in other.tied_with
                lo, hi = map(int, c.rank_band.split("-"))
                assert lo <= other.rank <= hi
    # by hand (stable solvents DME, DGM, GX; each term scaled over these three): GX 0.81, DME 0.68
    # and DGM 0.00, each ± sqrt(3 (s_k/range_k)^2)/3 with LUMO 0.8/1.2, E_ox 0.4/1.3, solvating power 3/6
    assert ranked["GX"].score == pytest.approx((0.5 / 1.2 + 1.0 + 1.0) / 3)
    err = ((0.8 / 1.2) ** 2 + (0.4 / 1.3) ** 2 + (3.0 / 6.0) ** 2) ** 0.5 / 3
    assert ranked["GX"].score_err == pytest.approx(err)
    assert ranked["GX"].rank_band == ranked["DME"].rank_band == "1-2" and ranked["DGM"].rank_band == "3"


def test_a_rejected_candidate_does_not_set_the_scale_of_a_term_for_the_others():
    """AN's E_ox (11 V, K-metal-reduced) no longer compresses the E_ox term of the K-stable ethers:
    each term is scaled among the candidates of one verdict, whom the score alone orders."""
    rows = [r if r[0] != "AN" else ("AN", "solvent", "CC#N", -5.4, 30.0, -35.0, 1.0) for r in CONSTRUCTED]
    by = {c.name: c for c in rank_candidates(constructed_tables(rows), liquids(rows), cation="K+", anion="FSI",
                                             dft_binding=[])}
    assert by["GX"].scaled["oxidative_stability"] == pytest.approx(1.0)
    assert by["DGM"].scaled["oxidative_stability"] == pytest.approx(0.0)


def test_a_term_that_cannot_tell_the_candidates_apart_weighs_nothing_and_says_so():
    # CONSTRUCTED: three K-stable glymes whose LUMOs lie within 0.3 eV (< the 0.8 eV resolution)
    rows = [("DME", "solvent", "COCCOC", 0.7, 7.7, -44.0, 7.0), ("DGM", "solvent", "COCCOCCOC", 0.5, 7.2, -58.0, 11.0),
            ("GX", "solvent", "COCCOCCOCCOC", 0.4, 8.5, -70.0, 5.0)] + [r for r in CONSTRUCTED if r[0] in ("EC", "AN")]
    by = {c.name: c for c in rank_candidates(constructed_tables(rows), liquids(rows), cation="K+", anion="FSI",
                                             dft_binding=[])}
    for n in ("DME", "DGM", "GX"):
        assert by[n].contrib["reductive_stability"] == 0.0 and by[n].scaled["reductive_stability"] is None
        assert ("reductive_stability weighs nothing among the K-metal-stable solvents: spread 0.30 eV < its "
                "uncertainty 0.80 eV") in by[n].terms_note
        assert by[n].score == pytest.approx(by[n].contrib["oxidative_stability"] + by[n].contrib["anion_rich_shell"])
    notes = ranking_notes([c.row() for c in by.values()])
    assert any(n.startswith("reductive_stability weighs nothing among the K-metal-stable solvents") for n in notes)
    assert any("ordering estimate, not an oxidation limit" in n for n in notes)


def test_an_uncertain_solvating_power_widens_the_interval_into_a_tie():
    """CONSTRUCTED: GX's solvating power 5.0 +- 8.9 kcal/mol (cf. tetraglyme's -1.9 +- 8.9 in a default run)."""
    t = constructed_tables()
    for r in t.solvating_power:
        r["solvating_power_err_kcal_per_mol"] = 8.9 if r["name"] == "GX" else 2.0
    by = {c.name: c for c in rank_candidates(t, liquids(), cation="K+", anion="FSI", dft_binding=[])}
    assert by["GX"].sigma["anion_rich_shell"] == 8.9 and by["DME"].sigma["anion_rich_shell"] == 2.0
    assert by["GX"].score_err > by["DME"].score_err
    assert "solvating power 5.0 ± 8.9 kcal/mol" in by["GX"].reasons


def test_a_solvent_too_apolar_to_dissolve_the_salt_ranks_after_those_that_do():
    """CONSTRUCTED: GX (best score of the K-stable solvents) with a dielectric constant of 2.2, as
    1,4-dioxane's: it may not dissolve the salt on its own, so it ranks after DME and DGM, off the front."""
    t = constructed_tables()
    for r in t.solvating_power:
        r["dielectric_constant"] = {"GX": 2.2, "DME": 7.2, "DGM": 7.4}.get(r["name"], "")
    by = {c.name: c for c in rank_candidates(t, liquids(), cation="K+", anion="FSI", dft_binding=[])}
    assert by["GX"].dissolves == "may not" and by["DME"].dissolves == "yes" and by["TMP"].dissolves == "unknown"
    assert by["DME"].rank == 1 and by["DGM"].rank == 2 and by["GX"].rank == 3 and not by["GX"].pareto
    assert by["GX"].tier == "K-metal-stable solvent that may not dissolve the salt" and by["GX"].tied_with == []
    assert any(r.startswith("may not dissolve the salt on its own (an estimate): dielectric constant 2.2") and "< 5.1"
               in r for r in by["GX"].reasons)


def test_ranking_csv_has_no_empty_column_and_labels_its_potentials(ranked, tmp_path):
    import csv

    out = tmp_path / "ranking.csv"
    write_ranking(out, list(ranked.values()))
    rows = list(csv.DictReader(out.open()))
    cols = list(rows[0])
    assert [c for c in cols if not any(r[c] for r in rows)] == []
    assert "failure_reason" not in cols  # nothing failed here; the column appears when something does
    assert all(r["homo_eV"] and r["score_low"] and r["score_high"] and r["rank_band"] for r in rows)
    assert all("ordering estimate" in r["potential_convention"] for r in rows)
    assert all("E_ox estimate" in r["reasons"] and "ordering only" in r["reasons"] for r in rows)
    assert float(rows[0]["homo_eV"]) == pytest.approx(-float(rows[0]["E_ox_estimate_vs_K_V"]) - 3.0)  # ALPB HOMO


def test_ranking_terms_plot_draws_the_breakdown(ranked):
    from solvscreen.report.plots import ranking_terms_plot

    rows = [c.row() for c in ranked.values()]
    svg = ranking_terms_plot(rows, "solvent")
    assert svg.startswith("<svg") and "GX (1-2, stable)" in svg and "anion rich shell" in svg
    assert ranking_terms_plot(rows, "nothing") == ""


def test_front_summary_counts(ranked):
    s = front_summary(list(ranked.values()))
    assert s["solvent"] == {"n": 8 - 1, "n_front": 2, "n_reduced": 3}  # HEX moved to the diluents
    assert s["all"]["n"] == len(CONSTRUCTED) and s["all"]["n_front"] <= s["all"]["n"]


def test_dft_binding_is_preferred_only_when_it_covers_the_group():
    t = constructed_tables()
    full = [{"name": "TTE", "cation": "K+", "E_bind_best_kcal_per_mol": "-20.0", "E_bind_best_source": "dft"},
            {"name": "HFE", "cation": "K+", "E_bind_best_kcal_per_mol": "-25.0", "E_bind_best_source": "calibrated_gfn2"}]
    by = {c.name: c for c in rank_candidates(t, liquids(), cation="K+", anion="FSI", dft_binding=full)}
    assert by["TTE"].objectives["non_coordination"] == -20.0 and "dft" in by["TTE"].descriptors["E_bind_source"]
    assert by["HFE"].objectives["non_coordination"] == -25.0
    assert by["HEX"].descriptors["E_bind_source"] == "no donor atom"
    part = {c.name: c for c in rank_candidates(t, liquids(), cation="K+", anion="FSI", dft_binding=full[:1])}
    assert part["TTE"].objectives["non_coordination"] == -37.0  # not mixed with GFN2 values: GFN2 for all
    assert part["TTE"].descriptors["E_bind_source"] == "GFN2-xTB"
    raw = full[:1] + [dict(full[1], E_bind_best_source="gfn2")]  # raw GFN2 is not on the DFT scale
    raw_by = {c.name: c for c in rank_candidates(t, liquids(), cation="K+", anion="FSI", dft_binding=raw)}
    assert raw_by["TTE"].objectives["non_coordination"] == -37.0


def test_missing_references_and_missing_values():
    rows = [r for r in CONSTRUCTED if r[0] not in ("EC", "DMC", "AN")]
    by = {c.name: c for c in rank_candidates(constructed_tables(rows), liquids(rows), cation="K+", anion="FSI",
                                             dft_binding=[])}
    assert all(c.k_metal == "undecided" for c in by.values())
    assert "no K-reduced reference computed" in by["DME"].reasons[0]
    t = constructed_tables()
    t.solvating_power = [r for r in t.solvating_power if r["name"] != "DGM"]
    by = {c.name: c for c in rank_candidates(t, liquids(), cation="K+", anion="FSI", dft_binding=[])}
    assert by["DGM"].status == "failed" and "solvating power of DGM" in by["DGM"].failure_reason
    assert by["DGM"].rank is None and by["DME"].rank is not None


def test_weights_and_oxidation_descriptor():
    t = constructed_tables()
    only_ox = RankingSettings.from_dict({"weights": {"reductive_stability": 0, "anion_rich_shell": 0}})
    solv = [c for c in rank_candidates(t, liquids(), cation="K+", anion="FSI", settings=only_ox, dft_binding=[])
            if c.group == "solvent" and c.status == "ok" and c.k_metal == "stable"]
    ranked = sorted(solv, key=lambda c: c.rank)
    assert [c.objectives["oxidative_stability"] for c in ranked] == sorted(
        (c.objectives["oxidative_stability"] for c in ranked), reverse=True)
    homo = RankingSettings(oxidation_descriptor="homo_eV")
    c = next(c for c in rank_candidates(t, liquids(), cation="K+", anion="FSI", settings=homo, dft_binding=[])
             if c.name == "AN")
    assert c.objectives["oxidative_stability"] == pytest.approx(14.0)  # -HOMO_alpb = E_ox + 3 by construction
    gas = {c.name: c for c in rank_candidates(t, liquids(), cation="K+", anion="FSI", dft_binding=[],
                                              settings=RankingSettings(orbital_levels="gas"))}
    assert gas["DME"].objectives["reductive_stability"] == pytest.approx(0.8)


@pytest.mark.parametrize("cfg, message", [
    ({"weights": {"charisma": 1}}, "unknown objective"),
    ({"resolution": {"oxidative_stability": 0}}, "must be > 0"),
    ({"k_metal_stable_references": ["DME", "AN"]}, "both a K-stable and a K-reduced"),
    ({"oxidation_descriptor": "vibes"}, "oxidation_descriptor"),
])
def test_bad_settings_are_refused(cfg, message):
    with pytest.raises(InputError, match=message):
        RankingSettings.from_dict(cfg)


# ----------------------------------------------------------------------------- the real default run
def _default_run() -> Path | None:
    for d in (os.environ.get("SOLVSCREEN_RESULTS"), ROOT / "results"):
        if d and all((Path(d) / f).is_file() for f in ("descriptors.csv", "binding.csv", "solvating_power.csv")):
            return Path(d)
    return None


@pytest.fixture(scope="module")
def default_run():
    d = _default_run()
    if d is None:
        pytest.skip("no default-run tables (results/ or $SOLVSCREEN_RESULTS)")
    from solvscreen.inputs.library import load_library

    t = ResultTables.from_dir(d)
    names = {r["name"] for r in t.descriptors}
    need = {"DME", "DGM", "TREGDME", "TEGDME", "EC", "DMC", "PC", "DEC", "AN", "THF", "TTE"}
    if not need <= names:
        pytest.skip(f"not the default library: {sorted(need - names)} missing")
    cands = rank_candidates(t, candidates_from(t, load_library(ROOT / "molecules" / "library.csv")),
                            cation="K+", anion="FSI")
    return {c.name: c for c in cands}, cands


# marked slow: .ci/run gives the default run's tables (SOLVSCREEN_RESULTS) to the slow suite
@pytest.mark.slow
def test_default_run_orderings_a_chemist_expects(default_run):
    by, _ = default_run
    glymes = ("DME", "DGM", "TREGDME", "TEGDME")
    assert all(by[n].status == "ok" for n in glymes + ("AN", "EC", "DMC"))
    assert all(by["AN"].rank > by[g].rank for g in glymes)  # acetonitrile below the glymes
    for carbonate in ("EC", "DMC"):  # carbonates below DME on reductive stability and in the ranking
        assert by[carbonate].objectives["reductive_stability"] < by["DME"].objectives["reductive_stability"]
        assert by[carbonate].rank > by["DME"].rank
    # family members that are not references get their family's verdict (a check, not a fit)
    assert all(by[n].k_metal == "stable" for n in ("THF", "DEE", "TREGDME", "TEGDME"))
    assert all(by[n].k_metal == "reduced" for n in ("PC", "DEC"))
    assert by["TTE"].group == "diluent"
    check_reasons(by.values())


@pytest.mark.slow
def test_default_run_front_is_discriminating(default_run):
    _, cands = default_run
    s = front_summary(cands)
    print(f"front: {s['all']['n_front']} of {s['all']['n']} candidates "
          f"(solvents {s['solvent']['n_front']}/{s['solvent']['n']}, diluents {s['diluent']['n_front']}/{s['diluent']['n']})")
    assert 1 <= s["all"]["n_front"] <= s["all"]["n"] / 3
    assert s["solvent"]["n_front"] <= s["solvent"]["n"] / 3


# ----------------------------------------------------------------------------- real xTB
def test_xtb_lumo_in_a_dielectric_separates_ethers_from_carbonyls_and_nitriles():
    """Real GFN2-xTB: DME's LUMO (ALPB) is above EC's, DMC's and AN's by more than the resolution."""
    from solvscreen.xtb.conformers import find_lowest_conformer
    from solvscreen.xtb.engine import Engine, EngineSettings
    from solvscreen.xtb.properties import dielectric_orbitals
    from solvscreen.xtb.structures import ConformerSettings, mol_from_smiles

    engine = Engine(EngineSettings())
    eps = RankingSettings().eps("reductive_stability")
    lumo = {}
    for name, smi in (("DME", "COCCOC"), ("EC", "O=C1OCCO1"), ("DMC", "COC(=O)OC"), ("AN", "CC#N")):
        res = find_lowest_conformer(engine, mol_from_smiles(smi), ConformerSettings(n_embed=4, n_optimize=1))
        lumo[name] = dielectric_orbitals(engine, res.numbers, res.positions_A, 0, 0, "thf")["lumo_alpb_eV"]
    assert all(lumo["DME"] - eps > lumo[n] + eps for n in ("EC", "DMC", "AN")), lumo


def test_the_pmf_is_the_solvating_term_only_when_it_covers_every_ranked_solvent():
    """CONSTRUCTED pmf.csv rows (dG_assoc minus DME's, kcal/mol, +- a half-width): with one for every
    solvent of the group the PMF is the solvating term (one scale); with one missing it is shown, not
    scored, and the ranking says why."""
    ddg = {"DGM": (0.8, 0.6), "GX": (-1.5, 0.5), "EC": (0.2, 0.9), "DMC": (-0.4, 0.9), "AN": (0.3, 0.9),
           "TMP": (0.9, 0.7)}
    rows = [{"solvent": n, "salt": "KFSI", "status": "ok", "reference_solvent": "DME", "converged": "False",
             "ddg_vs_reference_kcal_per_mol": d, "ddg_lo_kcal_per_mol": d - h, "ddg_hi_kcal_per_mol": d + h}
            for n, (d, h) in ddg.items()]
    rows.append({"solvent": "DME", "salt": "KFSI", "status": "ok", "reference_solvent": "", "converged": "False"})
    by = {c.name: c for c in rank_candidates(constructed_tables(), liquids(), cation="K+", anion="FSI",
                                             dft_binding=[], pmf=rows)}
    gx = by["GX"]
    assert gx.objectives["anion_rich_shell"] == pytest.approx(1.5) and gx.sigma["anion_rich_shell"] == pytest.approx(0.5)
    assert gx.descriptors["solvating_term"].startswith("K+-anion PMF")
    assert by["DME"].objectives["anion_rich_shell"] == 0.0  # the reference itself
    assert any("K+-anion ΔG_assoc minus DME's -1.50 [-2.00, -1.00] kcal/mol (MD PMF; the solvating term)" in r
               for r in gx.reasons), gx.reasons
    assert check_reasons(by.values())
    # one solvent without a PMF row: the GFN2-xTB solvating power stays the term, the PMF is shown
    part = {c.name: c for c in rank_candidates(constructed_tables(), liquids(), cation="K+", anion="FSI",
                                               dft_binding=[], pmf=[r for r in rows if r["solvent"] != "AN"])}
    assert part["GX"].objectives["anion_rich_shell"] == -5.0  # minus its solvating power
    assert any("not scored: 6 of 7 ranked solvents have one" in r for r in part["GX"].reasons), part["GX"].reasons
    # another salt's PMF is not this ranking's evidence
    other = [{**r, "salt": "KPF6"} for r in rows]
    assert "ddG_assoc_vs_reference_kcal_per_mol" not in {k for c in rank_candidates(
        constructed_tables(), liquids(), cation="K+", anion="FSI", dft_binding=[], pmf=other)
        for k, v in c.descriptors.items() if v is not None}
    assert all("solvating_term" not in c.descriptors for c in rank_candidates(
        constructed_tables(), liquids(), cation="K+", anion="FSI", dft_binding=[]))  # no PMF: no new column


def test_a_pmf_still_steep_at_its_reference_shell_is_not_the_ranking_evidence():
    """CONSTRUCTED: GX's PMF still rises by 2.0 kcal/mol per A over its outer 2 A (> kT per A); DME is the reference."""
    rows = [{"solvent": n, "salt": "KFSI", "status": "ok", "reference_solvent": "DME", "converged": "False",
             "ddg_vs_reference_kcal_per_mol": -1.0, "ddg_lo_kcal_per_mol": -1.5, "ddg_hi_kcal_per_mol": -0.5,
             "outer_mean_force_kcal_per_mol_A": 2.0 if n == "GX" else 0.1}
            for n in ("DGM", "GX", "EC", "DMC", "AN", "TMP")]
    by = {c.name: c for c in rank_candidates(constructed_tables(), liquids(), cation="K+", anion="FSI",
                                             dft_binding=[], pmf=rows)}
    assert any("K+-anion PMF not used: it still rises by 2.00 kcal/mol per A" in r for r in by["GX"].reasons)
    assert by["GX"].objectives["anion_rich_shell"] == -5.0  # its solvating power: the PMF covers 6 of the 7
    assert any("not scored: 6 of 7 ranked solvents have one" in r for r in by["DGM"].reasons), by["DGM"].reasons
