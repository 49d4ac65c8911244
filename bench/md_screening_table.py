#!/usr/bin/env python
"""The run-until-decided MD table: one row per formulation record, from the records themselves.

    python bench/md_screening_table.py RESULTS [RESULTS ...] [--classification CSV] [--formulations CSV]

Reads ``RESULTS/md/*.json`` (the md stage's records) and, for the reference criterion, the
reference record each names (``RESULTS/md_ref/<REF>.json``). Prints a markdown table:

* the literature class (``reported_class`` of ``--formulations``, default
  ``molecules/formulations.csv``);
* the criterion (``reference`` or ``absolute``), the bracketing interval of the anion CN per K+
  (both starts, ±2 SE), the reference's interval and the judged interval (the difference for
  the reference criterion), the threshold;
* why the run stopped and after how many ps per start;
* the start-by-start difference from the reference at the reference's production time
  (aggregated minus aggregated, dispersed minus dispersed, ±2 combined SE): for reading only;
* the MD verdict (``anion-rich`` / ``not anion-rich`` when decided);
* the class the classifier gives with that evidence (``--classification``: a
  classification.csv of a run that read these MD tables) and whether it is right, two-class
  or wrong against the literature class;
* CPU-hours of the formulation's MD and of its reference (a reference shared by several
  formulations is counted once in the total): MD integration of both starts, all phases;
  the wall hours of the record's last job (a resumed run's last invocation only) also hold
  the Packmol tries.

Nothing is recomputed: every number is the record's.
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _f(x: float | None, digits: int = 2) -> str:
    return "–" if x is None else f"{x:.{digits}f}"


def _iv(d: dict | None) -> str:
    return "–" if not d else f"[{_f(d.get('lo'))}, {_f(d.get('hi'))}]"


def _load(path: Path) -> dict:
    return json.loads(path.read_text())


def _verdict(dec: dict) -> str:
    if dec.get("status") != "decided":
        return "–"
    return {"above": "anion-rich", "below": "not anion-rich"}.get(dec.get("side"), str(dec.get("side")))


def _outcome(label: str, literature: str) -> str:
    if not label or not literature:
        return "–"
    classes = label.split("|")
    if len(classes) > 1:
        return "two-class" if literature in classes else "wrong"
    return "right" if classes[0] == literature else "wrong"


def matched_difference(dec: dict, ref_dec: dict | None) -> dict | None:
    """Start-by-start difference (formulation - reference) at the reference's production time.

    The two runs share a protocol, so their aggregated starts (and their dispersed ones) carry a
    similar memory of the packing; comparing like with like at the same time cancels part of it,
    which the bracketing difference interval (own span minus reference span) does not. Shown for
    reading, not used by any rule. None without a reference record or a matching chunk.
    """
    if not ref_dec or not ref_dec.get("starts"):
        return None
    t = ref_dec.get("production_ps")
    chunk = next((c for c in dec.get("trace") or [] if abs(c["production_ps"] - t) < 1e-6), None)
    if chunk is None:
        return None
    ref = {s["kind"]: s for s in ref_dec["starts"]}
    out = {"t_ps": t}
    for s in chunk["starts"]:
        if s["kind"] in ref:
            r = ref[s["kind"]]
            out[s["kind"]] = (s["mean"] - r["mean"], 2.0 * (s["err"] ** 2 + r["err"] ** 2) ** 0.5)
    return out


def _matched(m: dict | None) -> str:
    if not m:
        return "–"
    parts = [f"{k[:4]} {v[0]:+.2f} ± {v[1]:.2f}" for k, v in m.items() if k != "t_ps"]
    return ", ".join(parts) + f" (at {m['t_ps']:g} ps)"


def rows(results: list[Path], classification: dict[str, dict], literature: dict[str, str]) -> tuple[list[dict], float]:
    out, ref_hours = [], {}
    for res in results:
        for path in sorted((res / "md").glob("*.json")):
            rec = _load(path)
            r = rec.get("results") or {}
            dec = r.get("decision") or {}
            if rec.get("status") != "ok" or not dec:
                out.append({"formulation": rec.get("name", path.stem), "status": rec.get("status"),
                            "failure": (rec.get("failure") or {}).get("message", "")})
                continue
            ref = dec.get("reference") or {}
            ref_name = ref.get("formulation")
            ref_cpu, ref_dec = None, None
            if ref_name:
                ref_path = res / "md_ref" / f"{ref_name}.json"
                if ref_path.is_file():
                    ref_res = _load(ref_path).get("results") or {}
                    ref_cpu, ref_dec = ref_res.get("cpu_hours"), ref_res.get("decision")
                ref_cpu = ref_cpu if ref_cpu is not None else ref.get("cpu_hours")
                ref_hours[(str(res), ref_name)] = ref_cpu or 0.0
            fid = r.get("formulation", rec.get("name"))
            label = (classification.get(fid) or {}).get("label", "")
            out.append({
                "formulation": fid, "status": "ok",
                "literature": literature.get(fid, ""),
                "criterion": dec.get("criterion"), "threshold": dec.get("threshold"),
                "interval": dec.get("interval"), "reference": ref_name, "reference_interval": ref.get("interval"),
                "reference_ps": ref.get("production_ps"), "judged": dec.get("judged_interval"),
                "matched": matched_difference(dec, ref_dec),
                "stop": dec.get("status"), "production_ps": dec.get("production_ps"),
                "verdict": _verdict(dec), "label": label,
                "outcome": _outcome(label, literature.get(fid, "")),
                "cpu_hours": dec.get("cpu_hours", r.get("cpu_hours")), "reference_cpu_hours": ref_cpu,
                "job_wall_hours": r.get("job_wall_hours"),
                "preset": r.get("preset") + (f" + {r['settings']['anneal_ps']:g} ps anneal"
                                             if (r.get("settings") or {}).get("anneal_ps") else ""),
            })
    return out, sum(ref_hours.values())


def table(rs: list[dict], ref_total: float) -> str:
    head = ("| formulation | preset | literature | criterion | anion CN per K+ | reference | judged vs threshold | stop "
            "(ps per start) | matched starts, own - reference | MD verdict | class | outcome | CPU-h (own + reference) | wall h, last job |")
    lines = [head, "|" + " --- |" * head.count(" | ") + " --- |"]
    own_total = 0.0
    for r in rs:
        if r["status"] != "ok":
            lines.append(f"| {r['formulation']} | | | | {r['status']}: {r['failure']} | | | | | | | | | |")
            continue
        own_total += r["cpu_hours"] or 0.0
        ref = "–" if not r["reference"] else f"{r['reference']} {_iv(r['reference_interval'])} ({r['reference_ps']:g} ps)"
        lines.append(
            f"| {r['formulation']} | {r['preset']} | {r['literature'] or '–'} | {r['criterion']} | {_iv(r['interval'])} | {ref} | "
            f"{_iv(r['judged'])} vs {r['threshold']:g} | {r['stop']} ({r['production_ps']:g}) | {_matched(r['matched'])} | {r['verdict']} | "
            f"{(r['label'] or '–').replace('|', chr(92) + '|')} | {r['outcome']} | {_f(r['cpu_hours'])}"
            + (f" + {_f(r['reference_cpu_hours'])}" if r["reference"] else "") + f" | {_f(r['job_wall_hours'])} |")
    lines.append(f"\n{len([r for r in rs if r['status'] == 'ok'])} formulations; MD CPU-hours: {own_total:.2f} "
                 f"for the formulations + {ref_total:.2f} for their references (each counted once) = "
                 f"{own_total + ref_total:.2f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("results", nargs="+", type=Path)
    ap.add_argument("--classification", type=Path, help="classification.csv of a run that read these MD tables")
    ap.add_argument("--formulations", type=Path, default=ROOT / "molecules" / "formulations.csv")
    a = ap.parse_args(argv)
    literature = {}
    if a.formulations.is_file():
        with a.formulations.open(newline="") as fh:
            literature = {r["id"]: r.get("reported_class", "") for r in csv.DictReader(fh)}
    classification = {}
    if a.classification:
        with a.classification.open(newline="") as fh:
            classification = {r["id"]: r for r in csv.DictReader(fh)}
    rs, ref_total = rows(a.results, classification, literature)
    print(table(rs, ref_total))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
