"""MD evidence in the classification: the anion-rich predicate from run-until-decided rows
(absolute and reference criteria) and the known force-field failures of diluent roles."""

from __future__ import annotations

from solvscreen.classify.result import ClassificationSettings, Reason
from solvscreen.classify.roles import md_role
from solvscreen.classify.md_anion import md_anion_predicate
from solvscreen.classify.rules import MD_KNOWN_FAILURES, THRESHOLDS, known_failure

S = ClassificationSettings()


def _row(**kw):
    base = {"status": "ok", "anion_cn": "1.2", "anion_cn_err": "0.05", "starts": "aggregated_seed1,dispersed_seed1",
            "ns_per_start": "0.15", "stop_status": "decided"}
    return {**base, **{k: str(v) for k, v in kw.items()}}


def test_absolute_interval_decides_only_when_it_clears_the_threshold():
    dec, r = md_anion_predicate(_row(criterion="absolute", anion_cn_lo=1.1, anion_cn_hi=1.6, judged_lo=1.1,
                                     judged_hi=1.6), S, Reason)
    assert dec is True and r.holds() and r.op == ">=" and "[1.10, 1.60]" in r.text
    dec, r = md_anion_predicate(_row(criterion="absolute", judged_lo=0.7, judged_hi=1.3, stop_status="cap"), S, Reason)
    assert dec is None and r.op == "in" and r.holds() and "contains" in r.text


def test_reference_criterion_judges_the_difference():
    thr = THRESHOLDS["md_reference_anion_cn_excess_min"].default
    row = _row(criterion="reference", anion_cn_lo=1.4, anion_cn_hi=1.9, reference_formulation="REF-KFSI-2M-DME",
               reference_anion_cn_lo=0.6, reference_anion_cn_hi=0.8, judged_lo=0.6, judged_hi=1.3)
    dec, r = md_anion_predicate(row, S, Reason)
    assert dec is True and r.threshold == thr and r.quantity == "anion_cn_minus_reference" and r.holds()
    assert "REF-KFSI-2M-DME" in r.text and "[0.60, 0.80]" in r.text
    row.update(judged_lo="-0.4", judged_hi="0.2")
    dec, r = md_anion_predicate(row, S, Reason)
    assert dec is False and r.op == "<" and r.holds()


def test_fixed_length_rows_keep_the_seed_spread_rule():
    dec, r = md_anion_predicate({"status": "ok", "anion_cn": "1.9", "anion_cn_err": "0.05", "ns_production": "0.02"},
                                S, Reason)
    assert dec is True and r.err == S.md_anion_cn_seed_spread_short and r.holds()


def test_known_md_failures_make_a_solvating_verdict_undecided():
    assert {f.name.split()[0] for f in MD_KNOWN_FAILURES} == {"DBE", "1,4-dioxane"}
    # matched on the canonical SMILES the stages record (canonical_smiles of descriptors.csv)
    from solvscreen.complexes import molecule_features
    from solvscreen.xtb.structures import mol_from_smiles

    assert known_failure(molecule_features(mol_from_smiles("O1CCOCC1")).canonical_smiles, "md").name == "1,4-dioxane"
    assert known_failure("COCCOC", "md") is None
    for f in MD_KNOWN_FAILURES:  # each stored in the form the stages record, or it could never match
        assert molecule_features(mol_from_smiles(f.smiles)).canonical_smiles == f.smiles, f.name
    crow = {"shell_mole_fraction": "0.43", "bulk_mole_fraction": "0.5", "cn": "1.0", "cn_err": "0.05",
            "cutoff_A": "3.5"}
    dbe = md_role("DBE", crow, S.md_diluent_shell_share_ratio_max, "CCCCOCCOCCCC")
    assert dbe.diluent is None and "known" in dbe.reason.text and "measured_facts.md" in dbe.reason.text
    dme = md_role("DME", crow, S.md_diluent_shell_share_ratio_max, "COCCOC")
    assert dme.diluent is False
    # a diluent verdict (the direction opposite to the failure) stands
    crow_dep = {**crow, "shell_mole_fraction": "0.05"}
    assert md_role("DX", crow_dep, S.md_diluent_shell_share_ratio_max, "C1COCCO1").diluent is True
    for f in MD_KNOWN_FAILURES:
        assert f.unit and f.meaning and f.source
