"""The one-line verdict of a classification: short, true for the numbers it quotes, and naming
the number that decided the label (or what is open and the step that would decide).

Runs on SYNTHETIC stage tables and CONSTRUCTED MD tables (tests/test_classify.py): made-up
numbers to exercise the rules, not physics references.
"""

from __future__ import annotations

import csv
import json

import pytest

from solvscreen.classify import ClassificationSettings, run_classification
from solvscreen.classify.evidence import read_evidence
from solvscreen.classify.verdict import MAX_WORDS, verdict_of, words
from solvscreen.inputs.grid import GridSettings
from test_classify import (classify, ev, forms, lib, md_ev, write_md_tables,  # noqa: F401 - fixtures
                           write_synthetic_results)


def check_verdict(cl) -> str:
    """The verdict's invariants; returns its text."""
    v = verdict_of(cl)
    assert v.text == cl.verdict
    assert 0 < words(v.text) <= MAX_WORDS, v.text
    for r in v.quoted:
        assert r.holds(), (v.text, r)
    if not cl.ok:
        assert v.text.startswith("not classified: ")
    elif len(cl.classes) == 1:
        # one class: high confidence, or low where a guard holds it back (an HCE concentration
        # whose solubility no report confirms)
        assert v.text.startswith(f"{cl.label}, {cl.confidence} confidence: ") and v.quoted, v.text
    else:
        assert v.text.startswith(f"{cl.label}, low confidence: open, needs "), v.text
    return v.text


@pytest.mark.parametrize("fid, c, comps, expected", [
    ("LCE-DME", 1.0, [("DME", 1.0)], "LCE, high confidence: anion CN 0.60 ± 0.15 per K+ (MD) < 1"),
    ("WSE-DEE", 2.0, [("DEE", 1.0)], "WSE, high confidence: anion CN 1.65 ± 0.15 per K+ (MD) ≥ 1"),
    ("MD-DME-4M", 4.0, [("DME", 1.0)], "HCE, high confidence: anion CN 2.50 ± 0.15 per K+ (MD) ≥ 1 at 4 M ≥ 3 M"),
])
def test_an_md_label_quotes_the_anion_cn(lib, md_ev, fid, c, comps, expected):
    cl = classify(lib, md_ev, "KFSI", c, comps, fid=fid)
    assert check_verdict(cl) == expected


def test_an_md_lhce_quotes_the_anion_cn_and_the_diluent(lib, md_ev):
    cl = classify(lib, md_ev, "KFSI", 1.6, [("DME", 1.0), ("TTE", 1.0)], fid="LHCE-DME-TTE")
    text = check_verdict(cl)
    assert "anion CN 1.60 ± 0.15 per K+ (MD) ≥ 1" in text
    assert "TTE K+-shell/bulk share 0.05" in text and "< 0.5: a diluent" in text


def test_a_concentrated_solution_quotes_donors_per_salt_and_concentration(lib, ev):
    cl = classify(lib, ev, "KFSI", 4.0, [("DME", 1.0)])
    assert cl.label == "HCE"
    text = check_verdict(cl)
    assert "donor atoms per salt < 6 (K+ shell) at 4 M ≥ 3 M" in text and text.startswith("HCE, high confidence: DME ")


def test_an_open_label_names_what_is_open_and_the_step(lib, ev, tmp_path):
    cl = classify(lib, ev, "KFSI", 1.0, [("DME", 1.0)])
    assert cl.label == "LCE|WSE"
    text = check_verdict(cl)
    assert "needs MD (anion CN per K+)" in text and "anion-rich?" in text
    # with MD within its uncertainty of the threshold: the value, and a longer run decides
    res = write_synthetic_results(tmp_path / "r")
    sol, coo = write_md_tables(tmp_path / "md", solvation=[("X", 1.1, 0.3, 0.5, 0.2)],
                               coordination=[("X", "DME", 1.0, 1.0)], err=0.02)
    md = read_evidence(res / "descriptors.csv", res / "binding.csv", res / "shells.csv", solvation=sol,
                       coordination=coo)
    cl = classify(lib, md, "KFSI", 1.0, [("DME", 1.0)], fid="X")
    text = check_verdict(cl)
    assert "needs a longer MD run or more seeds" in text and "anion CN 1.10 ± 0.15 per K+ (MD) vs 1" in text


def test_an_undecided_role_is_named_with_its_binding_energy(lib, ev):
    cl = classify(lib, ev, "KFSI", 1.0, [("TMP", 1.0), ("DX", 1.0)])
    text = check_verdict(cl)
    assert "is DX a diluent? (−E_bind" in text and "or DFT binding" in text, text


def test_a_salt_that_cannot_dissolve_says_so(lib, ev):
    cl = classify(lib, ev, "KFSI", 1.0, [("DME", 1.0), ("TTE", 99.0)])  # SYNTHETIC: TTE a diluent
    assert not cl.ok
    text = check_verdict(cl)
    assert text.startswith("not classified: the salt would not dissolve (solvating components volume fraction")
    assert "< 0.05)" in text


def test_every_verdict_of_a_run_is_short_and_true_and_written(lib, forms, md_ev, tmp_path):
    out = run_classification(lib, forms, md_ev, ClassificationSettings(),
                             GridSettings(concentrations_mol_per_L=(1.0, 4.0), pair_concentrations_mol_per_L=(1.0,)),
                             out_csv=tmp_path / "c.csv", out_records=tmp_path / "c.json")
    texts = [check_verdict(c) for c in out["classifications"]]
    assert len(set(texts)) > 10
    rows = list(csv.DictReader((tmp_path / "c.csv").open()))
    assert [r["verdict"] for r in rows] == texts
    recs = json.loads((tmp_path / "c.json").read_text())["records"]
    assert [r["results"]["verdict"] for r in recs] == texts


def test_the_reference_criterion_is_quoted_with_its_reference():
    from solvscreen.classify.md_anion import md_anion_predicate
    from solvscreen.classify.result import Reason
    from solvscreen.classify.verdict import claim

    row = {"status": "ok", "anion_cn": "1.6", "anion_cn_err": "0.05", "criterion": "reference",
           "anion_cn_lo": "1.4", "anion_cn_hi": "1.9", "reference_formulation": "REF-KFSI-2M-DME",
           "reference_anion_cn_lo": "0.6", "reference_anion_cn_hi": "0.8", "judged_lo": "0.6", "judged_hi": "1.3",
           "starts": "a,b", "ns_per_start": "0.15", "stop_status": "decided"}
    dec, r = md_anion_predicate(row, ClassificationSettings(), Reason)
    assert dec is True and r.holds()
    assert claim(r) == "anion CN above REF-KFSI-2M-DME's [0.60, 1.30] per K+ (MD) ≥ 0.5"
