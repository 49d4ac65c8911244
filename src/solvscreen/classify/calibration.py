"""Fit the one fitted threshold (the diluent binding energy) on the calibration set, and
report accuracy on the calibration set, in leave-one-out and on the generalization set,
with and without MD evidence, separately.

The fit uses only the calibration set's *roles*: in the review's Table 2 LHCEs the
components after the first are the diluents (TTE, MME, OOE, DBE, DX: DESIGN.md §1.2); the
other classes have none. The threshold is the midpoint of the gap between consecutive
-E_bind values that classifies the most roles right (ties: the widest gap, i.e. the largest
margin). The generalization set is never used to fit.
"""

from __future__ import annotations

import math
from typing import Callable, Iterable

from ..core.errors import InputError, SolvscreenError
from .core import classify_formulation
from .result import ClassificationSettings
from .evidence import BindingUncertainty, Evidence
from .rules import GFN2_DEFAULT_DILUENT_BIND_MAX
from .solubility import reported_formulations

DILUENT_ROLE_RULE = ("Table 2 LHCE rows list the solvating solvent first and the diluents after it "
                     "(DESIGN.md §1.2 names TTE, MME, OOE, DBE and DX as diluents); the other classes have none")


def role_examples(formulations: Iterable, molecule: Callable, evidence: Evidence, settings: ClassificationSettings
                  ) -> tuple[list[tuple[str, str, float, bool]], list[str], set[str]]:
    """(formulation id, component, -E_bind, is diluent) for the calibration formulations' components;
    problems; the binding sources used."""
    out, problems, sources = [], [], set()
    for f in formulations:
        salt = molecule(f.salt)
        names = [molecule(n).name for n, _ in f.components]
        for i, n in enumerate(names):
            if evidence.donor_free(n):
                continue  # a diluent by structure, whatever the threshold
            b = evidence.binding(n, salt.cation, _uncertainty(settings))
            if not b.ok:
                problems.append(f"{f.id}/{n}: {b.reason}")
                continue
            sources.add(b.source)
            out.append((f.id, n, b.value, f.reported_class == "LHCE" and i > 0))
    return out, problems, sources


def _uncertainty(s: ClassificationSettings) -> BindingUncertainty:
    return BindingUncertainty(s.gfn2_uncertainty_kcal_per_mol, s.dft_uncertainty_kcal_per_mol)


def fit_diluent_threshold(examples: list[tuple[str, str, float, bool]]) -> dict:
    """Threshold on -E_bind (kcal/mol) that classifies the most roles right; ties -> widest gap."""
    vals = sorted(set(v for _, _, v, _ in examples))
    if len(vals) < 2:
        raise SolvscreenError("calibration: fewer than two distinct binding energies among the calibration roles")
    best = None
    for a, b in zip(vals, vals[1:]):
        t = 0.5 * (a + b)
        right = sum((v < t) == dil for _, _, v, dil in examples)
        cand = (right, b - a, t)
        if best is None or cand[:2] > best[:2]:
            best = cand
    right, gap, t = best
    wrong = [f"{fid}/{n} ({'diluent' if dil else 'solvent'}, -E_bind {v:.1f})"
             for fid, n, v, dil in examples if (v < t) != dil]
    return {"value": t, "n_roles": len(examples), "n_right": right, "gap_kcal_per_mol": gap, "misfits": wrong}


def _acc(rows: list[dict]) -> dict:
    out = {"n": len(rows)}
    for k in ("right", "two-class", "wrong"):
        out["n_" + k.replace("-", "_")] = sum(1 for r in rows if r["outcome"] == k)
    out["n_correct"] = out["n_right"]
    out["n_confidently_wrong"] = sum(1 for r in rows if r["confidently_wrong"])
    return out


def _row(cl, loo=None) -> dict:
    return {"id": cl.id, "set": cl.set or "other", "reported_class": cl.reported_class, "label": cl.label,
            "classes": cl.classes, "confidence": cl.confidence, "evidence": cl.evidence, "status": cl.status,
            "outcome": cl.outcome, "match": cl.match, "confidently_wrong": cl.confidently_wrong,
            "loo_label": loo.label if loo is not None else None,
            "loo_outcome": loo.outcome if loo is not None else None,
            "explanation": (cl.reasons[0].text if cl.ok else cl.failure_reason),
            "decide_by": cl.decide_by}


def calibrate_and_report(formulations: list, molecule: Callable, evidence: Evidence,
                         settings: ClassificationSettings) -> tuple[float, dict]:
    """(diluent threshold used, calibration report) for the formulations with a literature class."""
    cal = [f for f in formulations if getattr(f, "set", None) == "calibration" and f.reported_class]
    examples, problems, sources = role_examples(cal, molecule, evidence, settings)
    fit, note = None, None
    if settings.diluent_bind_max_kcal_per_mol == "auto":
        try:
            fit = fit_diluent_threshold(examples)
            d_max = fit["value"]
        except SolvscreenError as exc:
            if evidence.dft:
                raise InputError(f"classification: the diluent threshold cannot be fitted in this run ({exc}) and "
                                 "the binding evidence includes DFT: set classification.diluent_bind_max_kcal_per_mol"
                                 ) from exc
            d_max = GFN2_DEFAULT_DILUENT_BIND_MAX
            note = (f"diluent threshold not fitted in this run ({exc}; mark calibration rows with set = "
                    f"calibration): the value fitted on the default library's GFN2-xTB run, {d_max} kcal/mol")
    else:
        d_max = float(settings.diluent_bind_max_kcal_per_mol)
    ref = [f for f in formulations if f.reported_class]
    report = {"diluent_bind_max_kcal_per_mol": d_max, "fit": fit, "role_rule": DILUENT_ROLE_RULE,
              "binding_sources": sorted(sources), "problems": problems}
    if note:
        report["note"] = note
    if len(sources) > 1 and "gfn2" in sources:
        report["warning"] = ("binding evidence mixes raw GFN2-xTB with DFT-scale values "
                             f"({sorted(sources)}): one threshold cannot serve both scales")
    known = reported_formulations(formulations)
    blocks = {}
    for mode, ev in (("with_md", evidence), ("descriptors", evidence.without_md())):
        if mode == "with_md" and not (evidence.has_md or evidence.pmf):
            continue
        cls = {f.id: classify_formulation(f, molecule, ev, settings, diluent_bind_max=d_max, known=known)
               for f in ref}
        loo = {}
        if settings.diluent_bind_max_kcal_per_mol == "auto":
            for f in cal:
                rest = [g for g in cal if g.id != f.id]
                ex = [e for e in role_examples(rest, molecule, ev, settings)[0]]
                try:
                    t = fit_diluent_threshold(ex)["value"]
                except SolvscreenError:
                    continue
                loo[f.id] = classify_formulation(f, molecule, ev, settings, diluent_bind_max=t, known=known)
        rows = [_row(cls[f.id], loo.get(f.id)) for f in ref]
        if mode == "with_md":
            rows = [r for r in rows if r["evidence"] in ("md", "md-pmf", "md-prefsolv")]  # MD, a resolved K+-anion PMF or a blend's shell shares decided
        cal_rows = [r for r in rows if r["set"] == "calibration"]
        loo_rows = [{**r, "outcome": r["loo_outcome"],
                     "confidently_wrong": r["loo_outcome"] == "wrong" and r["loo_label"] and "|" not in r["loo_label"]}
                    for r in cal_rows if r["loo_outcome"]]
        blocks[mode] = {
            "summary": {
                "calibration": _acc(cal_rows),
                "leave_one_out": _acc(loo_rows) if loo_rows else ({"n": 0} if loo else _acc(cal_rows)),
                "generalization": _acc([r for r in rows if r["set"] == "generalization"]),
                "other": _acc([r for r in rows if r["set"] not in ("calibration", "generalization")]),
            },
            "cases": rows,
        }
    main = blocks.get("with_md") or blocks["descriptors"]
    report.update({
        "weak_vs_strong": weak_vs_strong(cal, molecule, evidence, settings),
        "summary": blocks["descriptors"]["summary"],
        "summary_with_md": blocks["with_md"]["summary"] if "with_md" in blocks else None,
        "cases": blocks["descriptors"]["cases"],
        "cases_with_md": blocks["with_md"]["cases"] if "with_md" in blocks else [],
        "generalization": {"descriptors": blocks["descriptors"]["summary"]["generalization"],
                           "with_md": blocks["with_md"]["summary"]["generalization"] if "with_md" in blocks else None,
                           "cases": [r for r in main["cases"] if r["set"] == "generalization"]},
    })
    return d_max, report


def weak_vs_strong(formulations: Iterable, molecule: Callable, evidence: Evidence, settings) -> dict:
    """Do the run's descriptors separate the calibration set's weak solvents (the solvating
    components of its WSE rows) from its strong ones (those of its LCE and HCE rows)? Per
    descriptor: both ranges and whether they overlap (the solvating power is the one the
    classifier's weak-solvent rule reads; the others have no rule)."""
    from .evidence import metric_value

    groups = {"weak": set(), "strong": set()}
    for f in formulations:
        if getattr(f, "set", None) != "calibration":
            continue
        names = [molecule(n).name for n, _ in f.components]
        if f.reported_class == "WSE":
            groups["weak"].update(names)
        elif f.reported_class in ("LCE", "HCE"):
            groups["strong"].update(names)
    out = {"weak": sorted(groups["weak"]), "strong": sorted(groups["strong"]), "descriptors": {}}
    for metric, what in (("bind", "-E_bind (1:1), kcal/mol"), ("shell", "-E_shell_per_ligand, kcal/mol"),
                         ("exchange", "E_exchange with FSI, kcal/mol"),
                         ("solvating", "solvating power (solvation stage), kcal/mol")):
        vals = {}
        for g, names in groups.items():
            vs = []
            for n in names:
                if metric == "bind":
                    b = evidence.binding(n, "K+", _uncertainty(settings))
                    v = b.value if b.ok else None
                else:
                    r = metric_value(evidence.tables, metric, n, "K+", "FSI")
                    v = r.value if r.ok else None
                if v is not None:
                    vs.append(v)
            vals[g] = [min(vs), max(vs)] if vs else None
        sep = None
        if vals["weak"] and vals["strong"]:
            sep = vals["weak"][1] < vals["strong"][0] or vals["strong"][1] < vals["weak"][0]
        out["descriptors"][metric] = {"quantity": what, "weak_range": vals["weak"], "strong_range": vals["strong"],
                                      "separated": sep}
    return out


def molecule_roles(library, evidence: Evidence, settings: ClassificationSettings, d_max: float,
                   cation: str = "K+") -> dict:
    """Role of every computed liquid on its own, from descriptors (for the report and ranking)."""
    from .roles import descriptor_role

    out = {}
    for m in library:
        if m.kind not in ("solvent", "diluent"):
            continue
        b = evidence.binding(m.name, cation, _uncertainty(settings))
        if not b.ok and not evidence.donor_free(m.name):
            continue
        r = descriptor_role(m.name, evidence.donor_free(m.name), b, d_max, donors=evidence.binding_donors(m.name, cation))
        if isinstance(r, str):
            continue
        out[m.name] = {"role": {True: "diluent", False: "solvent", None: "undecided"}[r.diluent],
                       "evidence": r.evidence, "value": r.reason.value, "err": r.reason.err,
                       "threshold": r.reason.threshold, "text": r.reason.text}
    return out


def finite(v) -> bool:
    return isinstance(v, (int, float)) and math.isfinite(v)
