"""The ranking's score within one tier: terms scaled over the tier, their uncertainties, the
terms that cannot order the tier, the score's interval and the rank bands
(:mod:`solvscreen.classify.rank` explains the method; this module holds its arithmetic)."""

from __future__ import annotations

import numpy as np

from ..core.records import parse_number as _num
from .rules import THRESHOLDS

#: What the E_ox column is (xtb/properties.py: potential_vs_K); its uncertainty is the resolution
#: (RankingSettings.resolution, bench/bench_rank_resolution.py), a lower bound: the absolute value
#: also lacks solvation and the anion, so only its order among candidates is used.
POTENTIAL_CONVENTION = ("E_ox estimate vs K+/K = vertical gas-phase IPEA1-xTB ionization potential / e - 4.44 V "
                        "(absolute SHE) + 2.93 V (K+/K vs SHE): an ordering estimate, not an oxidation limit "
                        "(solvents come out at 7-11 V)")

def objective_unit(objective: str, oxidation_descriptor: str = "E_ox_vs_K_V") -> str:
    if objective == "oxidative_stability":
        return "V" if oxidation_descriptor == "E_ox_vs_K_V" else "eV"
    return "eV" if objective == "reductive_stability" else "kcal/mol"


def dissolution_estimate(solvation_row: dict | None, dissolve_min: float) -> tuple[str, str]:
    """("yes" | "may not" | "unknown", reason) for a solvent on its own, from its dielectric
    constant (the solvation stage's record: the library's literature value, else an Onsager
    estimate) against rules.THRESHOLDS salt_dissolution_dielectric_min (classify.solubility)."""
    eps = _num((solvation_row or {}).get("dielectric_constant"))
    if eps is None:
        return "unknown", "whether it dissolves the salt on its own is not estimated (no dielectric constant)"
    src = (solvation_row or {}).get("dielectric_source") or "solvation stage"
    src = "Onsager estimate" if "estimate" in src.lower() else src
    if eps < dissolve_min:
        return "may not", (f"may not dissolve the salt on its own (an estimate): dielectric constant {eps:.1f} "
                           f"({src}) < {dissolve_min:g}; ranked after the solvents that do, off the front")
    return "yes", f"dissolves the salt (an estimate): dielectric constant {eps:.1f} ({src}) >= {dissolve_min:g}"


def binding_sigma(source: str, settings: RankingSettings) -> float:
    """Standard uncertainty of a diluent's E_bind: the DFT level's (rules.THRESHOLDS
    dft_uncertainty_kcal_per_mol) for a DFT value, else the objective's resolution (GFN2-xTB)."""
    if source == "no donor atom":
        return 0.0  # no binding at all, exactly
    if "(dft)" in source:
        return float(THRESHOLDS["dft_uncertainty_kcal_per_mol"].default)
    return settings.eps("non_coordination")


def _rms(values) -> float:
    v = np.asarray(list(values), dtype=float)
    return float(np.sqrt(np.mean(v ** 2))) if v.size else 0.0


def score_tier(tier: list[Candidate], active: list[str], settings: RankingSettings, label: str) -> None:
    """Scaled objectives, score, its uncertainty and the per-term breakdown of the candidates of
    one group that share a K-metal verdict (and, for solvents, the dissolution estimate); ``label``
    names them ("K-metal-stable solvent").

    A term is min-max scaled over the tier. A term whose spread over the tier (max - min) is
    smaller than its uncertainty (the root mean square of the candidates' standard
    uncertainties) cannot order them: it weighs nothing here, and ``terms_note`` says so. The
    score's standard uncertainty is propagated from the inputs' (independent; the scaling's
    end points held fixed): sigma_score = sqrt(sum_k (w_k sigma_k / range_k)^2) / sum_k w_k.
    """
    used, notes = [], []
    if len(tier) == 1:
        notes.append(f"{tier[0].name} is the only {label}: no term orders it against another")
    for k in active if len(tier) > 1 else ():
        vals = np.array([c.objectives[k] for c in tier], dtype=float)
        spread, u = round(float(vals.max() - vals.min()), 2), round(_rms(c.sigma[k] for c in tier), 2)  # as printed
        if spread >= u and spread > 0:
            used.append(k)
            continue
        unit = objective_unit(k, settings.oxidation_descriptor)
        notes.append(f"{k} weighs nothing among the {label}s: " + (
            f"spread {spread:.2f} {unit} < its uncertainty {u:.2f} {unit}" if spread < u else
            f"every one has the same value to 0.01 {unit} (e.g. two molecules without a donor atom)"))
    wsum = sum(settings.weight(k) for k in used)
    for c in tier:
        c.terms_note = "; ".join(notes)
        var = 0.0
        for k in active:
            if k not in used:
                c.scaled[k], c.contrib[k] = None, 0.0
                continue
            vals = [x.objectives[k] for x in tier]
            lo, rng = min(vals), max(vals) - min(vals)
            c.scaled[k] = (c.objectives[k] - lo) / rng
            c.contrib[k] = settings.weight(k) * c.scaled[k] / wsum
            var += (settings.weight(k) * c.sigma[k] / rng) ** 2
        if used:
            c.score, c.score_err = sum(c.contrib.values()), float(np.sqrt(var)) / wsum
        else:  # no term resolves the tier: one band for all of it
            c.score, c.score_err = 0.5, 0.5


def rank_bands(order: list[Candidate]) -> None:
    """Rank band and ties: candidates of the same tier (K-metal verdict, dissolution) whose score intervals
    (score ± its standard uncertainty) overlap are not ordered by the ranking."""
    for c in order:
        tied = [x for x in order if x is not c and x.tier == c.tier
                and abs(x.score - c.score) <= x.score_err + c.score_err]
        ranks = [c.rank] + [x.rank for x in tied]
        c.tied_with = [x.name for x in tied]
        c.rank_band = f"{min(ranks)}-{max(ranks)}" if tied else str(c.rank)


def ranking_notes(rows: list[dict]) -> list[str]:
    """Sentences the report prints above the ranking (from ranking.csv rows or Candidate.row())."""
    ok = [r for r in rows if r.get("status") == "ok"]
    out = ["Scores are relative (each term scaled to [0, 1] among the candidates of one tier: group, K-metal "
           "verdict and, for solvents, whether the salt dissolves) and carry ± one standard uncertainty propagated from their inputs: LUMO ± the resolution, "
           "E_ox estimate ± the resolution, solvating power ± its stated uncertainty (solvating_power.csv), "
           "E_bind ± GFN2-xTB's (or DFT's) uncertainty. Candidates whose intervals overlap share a rank band."]
    if any(r.get("E_ox_estimate_vs_K_V") not in (None, "") for r in ok):
        out.append(POTENTIAL_CONVENTION + ".")
    for note in dict.fromkeys(n for r in ok for n in str(r.get("terms_weighing_nothing") or "").split("; ") if n):
        out.append(note + ".")
    return out
