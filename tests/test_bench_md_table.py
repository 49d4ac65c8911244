"""bench/md_screening_table.py: the table reads every number from the records, judges the
classifier's label against the literature class, and counts a shared reference once."""

from __future__ import annotations

import json


def _record(path, name, decision, status="ok", **extra):
    path.parent.mkdir(parents=True, exist_ok=True)
    results = {"formulation": name, "preset": "screening", "settings": {"anneal_ps": 0.0}, "decision": decision,
               "cpu_hours": decision.get("cpu_hours"), **extra}
    path.write_text(json.dumps({"name": name, "status": status, "failure": None, "results": results}))


def _decision(status, side, lo, hi, ref=None, cpu=0.5):
    d = {"criterion": "reference" if ref else "absolute", "threshold": 0.5 if ref else 1.0, "status": status,
         "side": side, "production_ps": 300.0, "interval": {"lo": lo, "hi": hi},
         "judged_interval": {"lo": lo - 1.0, "hi": hi - 1.0} if ref else {"lo": lo, "hi": hi}, "cpu_hours": cpu}
    if ref:
        d["reference"] = {"formulation": ref, "interval": {"lo": 1.0, "hi": 1.2}, "status": "decided",
                          "production_ps": 100.0, "cpu_hours": 9.0}
    return d


def test_table_outcomes_and_shared_reference(tmp_path, bench_module):
    mod = bench_module("md_screening_table")
    res = tmp_path / "results"
    _record(res / "md" / "A.json", "A", _decision("decided", "above", 2.0, 2.4, ref="REF-X"))
    _record(res / "md" / "B.json", "B", _decision("cap", None, 1.1, 2.4, ref="REF-X"))
    _record(res / "md" / "C.json", "C", _decision("decided", "below", 0.2, 0.6))
    _record(res / "md_ref" / "REF-X.json", "REF-X", {"cpu_hours": 0.25})
    classification = {"A": {"label": "WSE"}, "B": {"label": "LCE|WSE"}, "C": {"label": "WSE"}}
    literature = {"A": "WSE", "B": "WSE", "C": "LCE"}
    rs, ref_total = mod.rows([res], classification, literature)
    by = {r["formulation"]: r for r in rs}
    assert [by[k]["verdict"] for k in "ABC"] == ["anion-rich", "–", "not anion-rich"]
    assert [by[k]["outcome"] for k in "ABC"] == ["right", "two-class", "wrong"]
    assert by["A"]["reference_cpu_hours"] == 0.25  # the reference's own record, not the copy in the decision
    assert ref_total == 0.25  # shared by A and B, counted once
    text = mod.table(rs, ref_total)
    assert "LCE\\|WSE" in text and "= 1.75" in text  # 3 x 0.5 + 0.25


def test_matched_difference_compares_like_starts_at_the_reference_time(bench_module):
    mod = bench_module("md_screening_table")
    start = lambda kind, mean, err: {"kind": kind, "seed": 1, "mean": mean, "err": err}
    dec = {"trace": [{"production_ps": 50.0, "starts": [start("aggregated", 9.0, 0.1), start("dispersed", 9.0, 0.1)]},
                     {"production_ps": 100.0, "starts": [start("aggregated", 3.1, 0.03), start("dispersed", 2.0, 0.04)]}]}
    ref = {"production_ps": 100.0, "starts": [start("aggregated", 3.3, 0.04), start("dispersed", 1.7, 0.03)]}
    m = mod.matched_difference(dec, ref)
    assert m["t_ps"] == 100.0
    assert abs(m["aggregated"][0] + 0.2) < 1e-9 and abs(m["aggregated"][1] - 0.1) < 1e-9  # 2 * hypot(0.03, 0.04)
    assert abs(m["dispersed"][0] - 0.3) < 1e-9
    assert mod.matched_difference(dec, {"production_ps": 75.0, "starts": ref["starts"]}) is None  # no chunk then
    assert mod.matched_difference(dec, None) is None
