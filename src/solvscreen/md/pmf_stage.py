"""Stage ``md_pmf``: the K+-anion PMF of one (solvent, salt) pair as a record, and its table.

* :func:`pmf_config` -- the config's ``md.pmf`` section, checked;
* :func:`pmf_pairs` -- the (solvent, salt) pairs it asks for, each salt's reference solvent included;
* :func:`run_pmf` -- one pair through the harness (record ``md_pmf/<solvent>--<salt>.json``;
  a killed job resumes its windows from ``md_pmf/.<solvent>--<salt>.work/``);
* :func:`aggregate_pmf` -- records -> ``pmf.csv`` (one row per pair, dG_assoc minus the
  reference solvent's, with an interval).
"""

from __future__ import annotations

import logging
import math
import shutil
from pathlib import Path

from ..core.records import write_csv
from ..stages.harness import read_record, run_stage
from .pmf import Component, run_pair
from .pmf_settings import PMF_DEFAULTS, check_pmf_config, pmf_config, settings_for  # noqa: F401 - re-exported

log = logging.getLogger("solvscreen.md")

STANDARD_STATE = "1 mol/L; w(r) zero over [r_max - 1 A, r_max] (see docs/md_free_energy.md)"

PMF_COLUMNS = (
    "solvent", "salt", "status", "failure_reason", "preset", "n_windows", "production_ps_per_window",
    "r_cip_A", "w_cip_kcal_per_mol", "w_cip_lo_kcal_per_mol", "w_cip_hi_kcal_per_mol", "barrier_kcal_per_mol",
    "k_a_L_per_mol", "k_a_lo_L_per_mol", "k_a_hi_L_per_mol",
    "dg_assoc_kcal_per_mol", "dg_assoc_lo_kcal_per_mol", "dg_assoc_hi_kcal_per_mol",
    "dg_assoc_first_half_kcal_per_mol", "dg_assoc_second_half_kcal_per_mol", "converged", "convergence_reason",
    "outer_mean_force_kcal_per_mol_A",
    "paired_fraction_1M", "paired_fraction_1M_lo", "paired_fraction_1M_hi",
    "reference_solvent", "ddg_vs_reference_kcal_per_mol", "ddg_lo_kcal_per_mol", "ddg_hi_kcal_per_mol",
    "ordering_vs_reference", "ns_total", "cpu_hours", "cost_complete", "platform", "standard_state",
)


def pmf_pairs(md: dict | None, undecided_components: list[str] | None = None) -> list[tuple[str, str]]:
    """(solvent, salt) for every listed solvent and salt, plus each salt's reference solvent.

    ``solvents: undecided``: the liquid components of the formulations that the descriptor-only
    classification leaves open (``undecided_components``; none until that table exists)."""
    sec = pmf_config(md)
    solvents = sec["solvents"]
    if solvents == "undecided":
        solvents = list(undecided_components or [])
    solvents = list(solvents or [])
    if not solvents:
        return []
    if sec["reference"] and sec["reference"] not in solvents:
        solvents.append(sec["reference"])
    return [(s, salt) for salt in sec["salts"] for s in solvents]


def undecided_components(classification_csv, formulations) -> list[str]:
    """Liquid components (library names, in order of appearance) of the formulations that a
    descriptor-only classification table leaves with more than one class."""
    from .settings import undecided_formulations

    ids = set(undecided_formulations(classification_csv))
    out: list[str] = []
    for f in formulations:
        if f.id in ids:
            out += [n for n in f.component_names if n not in out]
    return out


def record_name(solvent: str, salt: str) -> str:
    return f"{solvent}--{salt}"


def run_pmf(solvent, salt, library, md: dict | None, out: str | Path, *, work_dir: str | Path | None = None,
            cache_dir: str | Path | None = None):
    """One (solvent, salt) pair through the harness; the record holds the whole PMF."""
    from .runner import CHARGE_METHOD, FORCEFIELD, _versions

    settings = settings_for(md)
    out = Path(out)
    name = record_name(solvent.name, salt.name)
    work_dir = Path(work_dir) if work_dir else out.parent / f".{name}.work"
    cation, anion = library.resolve(salt.cation), library.resolve(salt.anion)

    def compute(ctx):
        ctx.provenance(forcefield=FORCEFIELD, charge_method=CHARGE_METHOD, **_versions())
        rec = run_pair(Component(solvent.name, solvent.smiles, solvent.density_g_per_mL),
                       Component(anion.name, anion.smiles), Component(cation.name, cation.smiles), settings,
                       work_dir, cache_dir=cache_dir, progress=lambda m: log.info("%s: %s", name, m))
        ctx.provenance(platform=rec["platform"])
        rec.update(salt=salt.name, preset=pmf_config(md)["preset"], standard_state=STANDARD_STATE)
        return rec

    rec = run_stage("md_pmf", name, out, compute, inputs={"solvent": solvent.name, "salt": salt.name,
                                                          "solvent_smiles": solvent.smiles},
                    settings=settings.to_dict())
    if rec.ok and work_dir.exists():
        shutil.rmtree(work_dir, ignore_errors=True)
    return rec


#: the outer stretch of w(r) whose mean force says whether the reference shell is beyond the ions' reach
OUTER_FIT_A = 2.0


def outer_mean_force(r_A: list, w: list) -> float | None:
    """-dw/dr is the mean force; this is dw/dr (kcal/mol/A; > 0: still attracting) from a straight
    line through w(r) over the last OUTER_FIT_A of the sampled range (e.g. 7-9 A). A PMF that is
    referenced to its outer shell is a contact-vs-separated free energy only where this is small."""
    pts = [(x, y) for x, y in zip(r_A or [], w or []) if y is not None and math.isfinite(y)]
    if len(pts) < 3:
        return None
    r_end = max(x for x, _ in pts)
    sel = [(x, y) for x, y in pts if x >= r_end - OUTER_FIT_A]
    if len(sel) < 3:
        return None
    mx = sum(x for x, _ in sel) / len(sel)
    my = sum(y for _, y in sel) / len(sel)
    sxx = sum((x - mx) ** 2 for x, _ in sel)
    return round(sum((x - mx) * (y - my) for x, y in sel) / sxx, 4) if sxx > 0 else None


def _row(r: dict) -> dict:
    p = r["pmf"]
    o, iv = p["observables"], p["intervals"]
    fr = p["paired_fraction"].get("1", [None, None, None])
    return {"solvent": r["solvent"], "salt": r["salt"], "status": "ok", "failure_reason": "",
            "preset": r.get("preset"), "n_windows": r["n_windows"],
            "production_ps_per_window": r["production_ps_per_window"], "r_cip_A": o["r_cip_A"],
            "w_cip_kcal_per_mol": o["w_cip_kcal_per_mol"], "w_cip_lo_kcal_per_mol": iv["w_cip_kcal_per_mol"][0],
            "w_cip_hi_kcal_per_mol": iv["w_cip_kcal_per_mol"][1], "barrier_kcal_per_mol": o["barrier_kcal_per_mol"],
            "k_a_L_per_mol": o["k_a_L_per_mol"], "k_a_lo_L_per_mol": iv["k_a_L_per_mol"][0],
            "k_a_hi_L_per_mol": iv["k_a_L_per_mol"][1], "dg_assoc_kcal_per_mol": o["dg_assoc_kcal_per_mol"],
            "dg_assoc_lo_kcal_per_mol": iv["dg_assoc_kcal_per_mol"][0],
            "dg_assoc_hi_kcal_per_mol": iv["dg_assoc_kcal_per_mol"][1],
            "dg_assoc_first_half_kcal_per_mol": p["halves"]["first"],
            "dg_assoc_second_half_kcal_per_mol": p["halves"]["second"],
            "converged": p["converged"], "convergence_reason": p["convergence_reason"],
            "outer_mean_force_kcal_per_mol_A": outer_mean_force(p.get("r_A"), p.get("w_kcal_per_mol")),
            "paired_fraction_1M": fr[1], "paired_fraction_1M_lo": fr[0], "paired_fraction_1M_hi": fr[2],
            "ns_total": r["ns_total"], "cpu_hours": r["cpu_hours"], "cost_complete": r.get("cost_complete", True),
            "platform": r["platform"],
            "standard_state": r.get("standard_state", STANDARD_STATE)}


def difference(own: dict, ref: dict) -> tuple[float, float, float]:
    """dG_assoc(own) - dG_assoc(ref) with an interval: independent runs, so the half-widths of
    the two bootstrap intervals add in quadrature (an approximately normal sum), and so does
    half of each run's drift between the halves of its production (first minus second half):
    a run still relaxing has an error the block bootstrap of a stationary series misses."""
    d = own["dg_assoc_kcal_per_mol"] - ref["dg_assoc_kcal_per_mol"]
    terms = []
    for r in (own, ref):
        terms.append((r["dg_assoc_hi_kcal_per_mol"] - r["dg_assoc_lo_kcal_per_mol"]) / 2)
        a, b = r.get("dg_assoc_first_half_kcal_per_mol"), r.get("dg_assoc_second_half_kcal_per_mol")
        if a is not None and b is not None:
            terms.append(abs(a - b) / 2)
    h = math.sqrt(sum(t * t for t in terms))
    return d, d - h, d + h


def ordering(lo: float, hi: float, ref: str) -> str:
    """In words: a more negative dG_assoc = the anion takes the K+ shell more easily = the
    solvent holds K+ more weakly than the reference."""
    if hi < 0:
        return f"weaker solvent than {ref} (anion pairs more)"
    if lo > 0:
        return f"stronger solvent than {ref} (anion pairs less)"
    return f"not resolved from {ref}"


def aggregate_pmf(record_paths: list[str | Path], out_csv: str | Path, reference: str | None = "DME") -> list[dict]:
    """``pmf.csv``: one row per (solvent, salt); dG_assoc minus the reference solvent's (same salt)."""
    rows = []
    for path in record_paths:
        rec = read_record(path, stage="md_pmf", name=Path(path).stem)
        if not rec.ok:
            solvent, _, salt = Path(path).stem.partition("--")
            rows.append({"solvent": solvent, "salt": salt, "status": "failed",
                         "failure_reason": (rec.failure or {}).get("reason", "")})
            continue
        rows.append(_row(rec.results))
    rows = with_reference(rows, reference)
    write_csv(out_csv, rows, list(PMF_COLUMNS))
    return rows


def pmf_rows(results: list[dict], reference: str | None = "DME") -> list[dict]:
    """``pmf.csv`` rows of finished pair results (``run_pair``'s dicts with their ``salt``)."""
    return with_reference([_row(r) for r in results], reference)


def with_reference(rows: list[dict], reference: str | None) -> list[dict]:
    """Add dG_assoc minus the reference solvent's (same salt) and the ordering in words."""
    refs = {r["salt"]: r for r in rows if r["status"] == "ok" and r["solvent"] == reference}
    for r in rows:
        ref = refs.get(r.get("salt"))
        if r["status"] != "ok" or ref is None or r["solvent"] == reference or None in (
                r["dg_assoc_lo_kcal_per_mol"], ref["dg_assoc_lo_kcal_per_mol"]):
            continue
        d, lo, hi = difference(r, ref)
        r.update(reference_solvent=reference, ddg_vs_reference_kcal_per_mol=d, ddg_lo_kcal_per_mol=lo,
                 ddg_hi_kcal_per_mol=hi, ordering_vs_reference=ordering(lo, hi, reference))
    return rows
