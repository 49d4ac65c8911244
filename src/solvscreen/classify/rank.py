"""Rank candidate liquids for K-metal electrolytes: a K-metal criterion, three objectives, a front.

Candidates are the computed solvents and diluents. A candidate is ranked in the group the
library proposes it for (its ``kind``), except that a molecule with no donor atom (no O, N,
S, P, F or Cl: it cannot coordinate K+, so it cannot dissolve a salt) is always a diluent.

**K-metal criterion (reductive stability).** K metal sits at 0 V vs K+/K, the most reducing
potential in the cell; a solvent it reduces builds a solvent-derived SEI and keeps reacting
(Hosaka, Kubota, Hameed, Komaba, Chem. Rev. 2020, 120, 6358: carbonate electrolytes
decompose on K metal; Yamada et al., J. Am. Chem. Soc. 2014, 136, 5039: acetonitrile is
reduced on a graphite negative electrode (Li+) unless superconcentrated), while ethers (glymes) are the
solvents K metal plates and strips from reversibly (the review's Table 2 ethers; Xiao,
McCulloch, Wu, J. Am. Chem. Soc. 2017, 139, 9475, KPF6/DME). The descriptor is the LUMO in
the ALPB dielectric: the level an electron from the metal enters (a carbonyl, nitrile or
sulfoxide pi*, far below an ether's sigma*). GFN2-xTB levels are not calibrated absolute
energies, so the criterion is *relative to reference solvents computed in the same run*:

- ``stable``: LUMO >= (lowest LUMO of the K-stable references) - eps_red;
- ``reduced``: LUMO <= (highest LUMO of the K-reduced references) + eps_red;
- ``undecided``: between the two (or a reference is missing): the descriptor does not decide.

**Objectives** (all "larger is better"; each with a resolution eps in its own unit):

==================== ===================================== ======== ============ ==========
objective            value                                 unit     default eps  groups
==================== ===================================== ======== ============ ==========
reductive_stability  LUMO in ALPB (or gas phase, config)   eV       0.8          both
oxidative_stability  E_ox vs K+/K (vertical IPEA1-xTB)     V        0.4          both
                     (or -HOMO in eV, config)
anion_rich_shell     -solvating power (solvating_power.csv: kcal/mol 3.0          solvent
                     -dG of the solvent step completing
                     the K+ shell): a weaker hold leaves
                     the last site to the anion (anion-
                     derived SEI)
non_coordination     E_bind (1:1; DFT E_bind_best when     kcal/mol 6.0          diluent
                     dft_binding.csv has a DFT or DFT-
                     calibrated value for every member;
                     0 with no donor atom): a diluent
                     stays out of the shell
==================== ===================================== ======== ============ ==========

The eps are the resolution of each descriptor, not tuning knobs: for the two electronic
objectives the largest change between conformers within 1 kcal/mol of the lowest one
(``bench/bench_rank_resolution.py``: LUMO_alpb 0.79 eV (DME), E_ox 0.40 V (DEE)); for the
binding energies GFN2-xTB's error in relative K+ binding; for the solvating power its stated
uncertainty (method error 2 kcal/mol and the search spread, in quadrature: 2-3 kcal/mol) (DEE over DME by 6-8 kcal/mol,
where DFT finds them alike; shared/reference/measured_facts.md).

**Rank** within a group: K-metal verdict first (stable, undecided, reduced: a solvent the
metal reduces is not a K-metal electrolyte solvent whatever its other merits); for solvents
then whether the salt dissolves in it on its own (:func:`dissolution_estimate`: a dielectric
constant below the classifier's ``salt_dissolution_dielectric_min``, 5.1, the least polar
single solvent known to dissolve a K salt, means it may not: such a solvent ranks after those
that do and is never on the front); then the score = sum_k w_k v_k / sum_k w_k, v_k objective
k min-max scaled to [0, 1] over the candidates of that *tier* (the score orders only those; a
rejected candidate, e.g. acetonitrile with an E_ox estimate of 11 V, would otherwise set the
scale of a term for the ethers).

**Uncertainty.** Every input carries a standard uncertainty: the LUMO and the E_ox estimate
their resolution (above; a lower bound for E_ox, whose absolute value also lacks solvation:
:data:`POTENTIAL_CONVENTION`), the solvating power its stated uncertainty
(``solvating_power_err_kcal_per_mol``), E_bind the resolution (GFN2-xTB) or the DFT level's
uncertainty. A term whose spread over the verdict's candidates is smaller than its (root mean
square) uncertainty cannot order them: it weighs nothing there, and ``terms_weighing_nothing``
says so. The score's uncertainty is propagated (independent inputs, the scaling's end points
fixed): sigma = sqrt(sum_k (w_k sigma_k / range_k)^2) / sum_k w_k. Candidates of one verdict
whose intervals score ± sigma overlap are not ordered: they share a ``rank_band`` ("3-7") and
list each other in ``tied_with``; ``rank`` is the order of the point estimates only. The
``contrib_*`` columns (w_k v_k / sum w) are the score's per-term breakdown.

**Front**: a candidate is on the front when it is not rejected by the K-metal criterion and
no other such candidate of its group eps-dominates it. A eps-dominates B when A is better
than B by more than eps on at least one objective, worse by more than eps on none, and better
on balance (sum_k (A_k - B_k) / eps_k > 0; this keeps the relation acyclic, so the front is
never empty while any candidate passes). Rejected candidates are never on the front
(constraint-domination: Deb, Pratap, Agarwal, Meyarivan, IEEE Trans. Evol. Comput. 2002, 6, 182).
Scores are relative to the run's candidates; the front and the verdicts depend only on the
candidates and references present.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field


from ..core.errors import InputError
from ..core.records import parse_number as _num
from ..core.result_tables import DFT_SCALE_SOURCES, MoleculeStructure, ResultTables, best_binding
from ..core.settings import ConfigSection
from .pmf_evidence import pmf_solvating_term, pmf_value
from .rules import THRESHOLDS
from .score import (POTENTIAL_CONVENTION, binding_sigma, dissolution_estimate, objective_unit, rank_bands,
                    ranking_notes, score_tier)  # noqa: F401 - ranking_notes: the report reads it from here

OBJECTIVES = ("reductive_stability", "oxidative_stability", "anion_rich_shell", "non_coordination")
GROUP_OBJECTIVES = {
    "solvent": ("reductive_stability", "oxidative_stability", "anion_rich_shell"),
    "diluent": ("reductive_stability", "oxidative_stability", "non_coordination"),
}
VERDICTS = ("stable", "undecided", "reduced")  # the order they rank in
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RankingSettings(ConfigSection):
    """Config section ``ranking``: :meth:`from_dict` refuses unknown keys; ``weights`` and
    ``resolution`` (mappings in the config) override the defaults key by key (:meth:`_prepare`);
    the checks are in ``__post_init__``."""

    SECTION = "ranking"

    salt: str = "KFSI"  # its anion sets the shell objective, its cation the binding
    oxidation_descriptor: str = "E_ox_vs_K_V"  # or "homo_eV" (objective = -HOMO)
    orbital_levels: str = "alpb"  # HOMO/LUMO in the ALPB dielectric ("alpb") or in the gas phase ("gas")
    weights: tuple[tuple[str, float], ...] = (
        ("reductive_stability", 1.0), ("oxidative_stability", 1.0), ("anion_rich_shell", 1.0),
        ("non_coordination", 1.0),
    )
    # K-metal references (see the module docstring for the sources): ethers K metal cycles in,
    # and a carbonate pair and a nitrile that K metal reduces
    k_metal_stable_references: tuple[str, ...] = ("DME", "DGM")
    k_metal_reduced_references: tuple[str, ...] = ("EC", "DMC", "AN")
    # resolution of each objective in its unit (module docstring; bench/bench_rank_resolution.py)
    resolution: tuple[tuple[str, float], ...] = (
        ("reductive_stability", 0.8), ("oxidative_stability", 0.4), ("anion_rich_shell", 3.0),
        ("non_coordination", 6.0),
    )

    def __post_init__(self) -> None:
        if self.oxidation_descriptor not in ("E_ox_vs_K_V", "homo_eV"):
            raise InputError("ranking.oxidation_descriptor must be E_ox_vs_K_V or homo_eV")
        if self.orbital_levels not in ("alpb", "gas"):
            raise InputError("ranking.orbital_levels must be alpb or gas")
        for key, pairs in (("weights", self.weights), ("resolution", self.resolution)):
            bad = [k for k, _ in pairs if k not in OBJECTIVES]
            if bad:
                raise InputError(f"ranking.{key}: unknown objective(s) {bad}; objectives are {list(OBJECTIVES)}")
        if any(w < 0 for _, w in self.weights):
            raise InputError("ranking.weights must be >= 0")
        bad = [k for k, e in self.resolution if not e > 0]
        if bad:
            raise InputError(f"ranking.resolution must be > 0 (in the objective's unit): {bad}")
        both = set(self.k_metal_stable_references) & set(self.k_metal_reduced_references)
        if both:
            raise InputError(f"ranking: {sorted(both)} cannot be both a K-stable and a K-reduced reference")

    @classmethod
    def _prepare(cls, d: dict) -> dict:
        for key in ("weights", "resolution"):
            if key in d:
                merged = dict(getattr(cls, key))  # defaults, overridden key by key
                merged.update({k: float(v) for k, v in (d[key] or {}).items()})
                d[key] = tuple(merged.items())
        for key in ("k_metal_stable_references", "k_metal_reduced_references"):
            if key in d:
                d[key] = tuple(d[key] or ())
        return d

    def weight(self, objective: str) -> float:
        return dict(self.weights).get(objective, 0.0)

    def eps(self, objective: str) -> float:
        return dict(self.resolution)[objective]

    def to_dict(self) -> dict:
        d = asdict(self)
        d["weights"] = dict(self.weights)
        d["resolution"] = dict(self.resolution)
        d["k_metal_stable_references"] = list(self.k_metal_stable_references)
        d["k_metal_reduced_references"] = list(self.k_metal_reduced_references)
        return d


@dataclass
class Candidate:
    name: str
    kind: str
    smiles: str
    status: str = "ok"
    failure_reason: str = ""
    group: str = ""
    k_metal: str = ""  # stable / undecided / reduced
    descriptors: dict = field(default_factory=dict)
    objectives: dict = field(default_factory=dict)  # raw values, larger = better
    scaled: dict = field(default_factory=dict)
    sigma: dict = field(default_factory=dict)  # standard uncertainty of each objective, its unit
    contrib: dict = field(default_factory=dict)  # w_k * scaled_k / sum w: the score's breakdown
    score: float | None = None
    score_err: float | None = None  # standard uncertainty of the score, propagated from sigma
    rank: int | None = None
    rank_band: str = ""  # "3-7": the ranks of the candidates whose score intervals overlap this one's
    tied_with: list = field(default_factory=list)
    terms_note: str = ""  # the terms that weigh nothing in this candidate's tier, and why
    tier: str = ""  # the candidates its score is compared with ("K-metal-stable solvent")
    dissolves: str = ""  # solvents: "yes" / "may not" / "unknown" (dielectric estimate, dissolution_estimate)
    pareto: bool = False
    reasons: list = field(default_factory=list)
    pmf_note: str = ""  # why its K+-anion PMF is not used (added to the reasons by pmf_solvating_term)

    def row(self) -> dict:
        d = self.descriptors
        out = {
            "rank": self.rank, "group": self.group, "name": self.name, "kind": self.kind,
            "status": self.status, "failure_reason": self.failure_reason, "k_metal": self.k_metal,
            "rank_band": self.rank_band, "tied_with": "|".join(self.tied_with), "tier": self.tier,
            "dissolves_salt": self.dissolves,
            "score": self.score, "score_err": self.score_err,
            "score_low": None if self.score is None else self.score - self.score_err,
            "score_high": None if self.score is None else self.score + self.score_err,
            "pareto": "" if self.status != "ok" else ("yes" if self.pareto else "no"),
        }
        for k in OBJECTIVES:
            out[f"obj_{k}"] = self.objectives.get(k)
            out[f"obj_{k}_err"] = self.sigma.get(k)
        for k in OBJECTIVES:
            out[f"scaled_{k}"] = self.scaled.get(k)
        for k in OBJECTIVES:
            out[f"contrib_{k}"] = self.contrib.get(k)
        out["terms_weighing_nothing"] = self.terms_note
        for k in ("homo_eV", "lumo_eV", "orbital_levels", "E_ox_estimate_vs_K_V", "anion_lumo_eV",
                  "E_bind_kcal_per_mol", "E_bind_source", "solvating_power_kcal_per_mol",
                  "solvating_power_err_kcal_per_mol", "ddG_assoc_vs_reference_kcal_per_mol",
                  "ddG_assoc_lo_kcal_per_mol", "ddG_assoc_hi_kcal_per_mol", "pmf_reference", "solvating_term"):
            out[k] = d.get(k)
        out["potential_convention"] = POTENTIAL_CONVENTION if self.status == "ok" else None
        out["reasons"] = "; ".join(self.reasons)
        out["smiles"] = self.smiles
        return out


RANKING_COLUMNS = list(Candidate("", "", "").row().keys())


def dominates(a: list[float], b: list[float]) -> bool:
    """Plain Pareto dominance (larger is better on every axis)."""
    return all(x >= y for x, y in zip(a, b)) and any(x > y for x, y in zip(a, b))


def eps_dominates(a: list[float], b: list[float], eps: list[float]) -> bool:
    """A beats B by more than eps on one axis, loses by more than eps on none, and wins on balance."""
    return (all(x >= y - e for x, y, e in zip(a, b, eps))
            and any(x > y + e for x, y, e in zip(a, b, eps))
            and sum((x - y) / e for x, y, e in zip(a, b, eps)) > 0)


def pareto_front(vectors: list[list[float]], eps: list[float] | None = None) -> list[bool]:
    """True for the vectors no other vector dominates (eps-dominates when ``eps`` is given)."""
    dom = dominates if eps is None else (lambda a, b: eps_dominates(a, b, eps))
    return [not any(dom(w, v) for j, w in enumerate(vectors) if j != i) for i, v in enumerate(vectors)]


def candidates_from(tables: ResultTables, library) -> list[tuple[str, str, str, float | None]]:
    """(name, kind, smiles, molar volume mL/mol) of every computed solvent and diluent."""
    out = []
    for r in tables.descriptors:
        m = library.get(r["name"])
        if m is None or m.kind not in ("solvent", "diluent"):
            continue
        vm = m.molar_mass_g_per_mol / m.density_g_per_mL if m.density_g_per_mL else None
        out.append((m.name, m.kind, m.smiles, vm))
    return out


@dataclass(frozen=True)
class KMetalScale:
    """The reference LUMO levels the K-metal verdict compares with (eV, same levels as the candidates)."""

    stable_min_eV: float | None
    reduced_max_eV: float | None
    eps_eV: float
    note: str = ""

    def verdict(self, lumo_eV: float) -> tuple[str, str]:
        if self.stable_min_eV is None or self.reduced_max_eV is None:
            return "undecided", f"K-metal verdict undecided: {self.note}"
        stable = lumo_eV >= self.stable_min_eV - self.eps_eV
        reduced = lumo_eV <= self.reduced_max_eV + self.eps_eV
        lo, hi = self.stable_min_eV - self.eps_eV, self.reduced_max_eV + self.eps_eV
        lo_txt = f"{lo:.2f} eV (lowest K-stable reference {self.stable_min_eV:.2f} - resolution {self.eps_eV:g})"
        hi_txt = f"{hi:.2f} eV (highest K-reduced reference {self.reduced_max_eV:.2f} + resolution {self.eps_eV:g})"
        if stable and not reduced:
            return "stable", f"not reduced by K metal: LUMO {lumo_eV:.2f} eV >= {lo_txt}"
        if reduced and not stable:
            return "reduced", f"reduced by K metal: LUMO {lumo_eV:.2f} eV <= {hi_txt}"
        if stable and reduced:
            return "undecided", (f"K-metal verdict undecided: LUMO {lumo_eV:.2f} eV is both >= {lo_txt} and "
                                 f"<= {hi_txt}")
        return "undecided", (f"K-metal verdict undecided: LUMO {lumo_eV:.2f} eV lies between the K-reduced bound "
                             f"{hi_txt} and the K-stable bound {lo_txt}")


def k_metal_scale(tables: ResultTables, settings: RankingSettings, suffix: str) -> KMetalScale:
    eps = settings.eps("reductive_stability")
    found: dict[str, list[tuple[str, float]]] = {"stable": [], "reduced": []}
    for key, names in (("stable", settings.k_metal_stable_references),
                       ("reduced", settings.k_metal_reduced_references)):
        for n in names:
            v = tables.descriptor(n, "lumo" + suffix)
            if v.ok:
                found[key].append((n, v.value))
    missing = [k for k in ("stable", "reduced") if not found[k]]
    if missing:
        return KMetalScale(None, None, eps, "no K-" + " or K-".join(missing) + " reference computed in this run "
                           f"(references: stable {list(settings.k_metal_stable_references)}, "
                           f"reduced {list(settings.k_metal_reduced_references)})")
    return KMetalScale(min(v for _, v in found["stable"]), max(v for _, v in found["reduced"]), eps,
                       "stable: " + ", ".join(f"{n} {v:.2f}" for n, v in found["stable"])
                       + "; reduced: " + ", ".join(f"{n} {v:.2f}" for n, v in found["reduced"]))


def _binding_source(members: list[Candidate], dft: dict[str, tuple[float, str]]) -> bool:
    """Use the DFT stage's E_bind_best for a group only when it covers every member with a donor."""
    need = [c for c in members if c.descriptors.get("E_bind_source") != "no donor atom"]
    return bool(need) and all(c.name in dft for c in need)


def rank_candidates(tables: ResultTables, names_kinds: list[tuple], *, cation: str, anion: str,
                    settings: RankingSettings = RankingSettings(), classification=None,
                    dft_binding: list[dict] | None = None, pmf: list[dict] | None = None) -> list[Candidate]:
    """Rank ``(name, kind, smiles[, molar volume])`` liquids on descriptors from ``tables``.

    ``dft_binding``: rows of the DFT stage's table (name, cation, E_bind_best_kcal_per_mol,
    E_bind_best_source), given by the caller (the workflow declares the table as an input of
    the rank rule); None or [] means GFN2-xTB binding only. ``pmf``: rows of the md_pmf stage's
    pmf.csv; where they cover every ranked solvent for ``settings.salt``, the K+-anion free
    energy minus the reference solvent's is the solvating term (see
    :func:`.pmf_evidence.pmf_solvating_term`), else it
    is shown beside the solvating power. ``classification``: the
    classification settings, whose ``salt_dissolution_dielectric_min`` the dissolution estimate
    of the solvents uses (the rules' default without them).
    """
    suffix = "_alpb_eV" if settings.orbital_levels == "alpb" else "_eV"
    anion_lumo = tables.descriptor(anion, "lumo" + suffix)
    if settings.orbital_levels == "alpb" and not any(_num(r.get("lumo_alpb_eV")) is not None
                                                     for r in tables.descriptors):  # no dielectric levels in this run
        suffix, anion_lumo = "_eV", tables.descriptor(anion, "lumo_eV")
    level_note = "in ALPB" if suffix == "_alpb_eV" else "gas phase"
    scale = k_metal_scale(tables, settings, suffix)
    dft = {}
    for name in {r.get("name") for r in dft_binding or []}:
        best = best_binding(dft_binding, name, cation)
        if best is not None and best[1] in DFT_SCALE_SOURCES:  # DFT-scale values only, never raw GFN2
            dft[name] = best[:2]
    ox_unit = objective_unit("oxidative_stability", settings.oxidation_descriptor)
    force_max = getattr(classification, "pmf_outer_mean_force_max_kcal_per_mol_A", None) or \
        THRESHOLDS["pmf_outer_mean_force_max_kcal_per_mol_A"].default
    dissolve_min = getattr(classification, "salt_dissolution_dielectric_min", None) or \
        THRESHOLDS["salt_dissolution_dielectric_min"].default

    cands: list[Candidate] = []
    for name, kind, smiles, *_ in names_kinds:
        c = Candidate(name, kind, smiles)
        cands.append(c)
        structure = tables.structure(name)  # the one donor rule: MoleculeStructure.donor_free
        no_donor = isinstance(structure, MoleculeStructure) and structure.donor_free
        c.group = "diluent" if (kind == "diluent" or no_donor) else "solvent"
        need = {
            "lumo_eV": tables.descriptor(name, "lumo" + suffix),
            ("homo_eV" if settings.oxidation_descriptor == "homo_eV" else "E_ox_estimate_vs_K_V"):
                tables.descriptor(name, "homo" + suffix if settings.oxidation_descriptor == "homo_eV"
                                  else "E_ox_vs_K_V"),
        }
        if no_donor:
            c.descriptors.update(E_bind_kcal_per_mol=0.0, E_bind_source="no donor atom")
        else:
            need["E_bind_kcal_per_mol"] = tables.binding_value(name, cation)
        if c.group == "solvent":
            need["solvating_power_kcal_per_mol"] = tables.solvation_value(name, cation)
        c.descriptors.update({k: v.value for k, v in need.items()})
        if "homo_eV" not in need:  # shown beside the E_ox estimate it stands in for with oxidation_descriptor: homo_eV
            c.descriptors["homo_eV"] = tables.descriptor(name, "homo" + suffix).value
        c.descriptors.setdefault("E_bind_source", "GFN2-xTB")
        c.descriptors["anion_lumo_eV"] = anion_lumo.value
        c.descriptors["orbital_levels"] = level_note
        missing = [v.reason for v in need.values() if not v.ok]
        if not isinstance(structure, MoleculeStructure):
            missing.insert(0, structure.reason)
        if missing:
            c.status, c.failure_reason = "failed", "; ".join(dict.fromkeys(missing))
            continue
        d = c.descriptors
        ox = d["E_ox_estimate_vs_K_V"] if settings.oxidation_descriptor == "E_ox_vs_K_V" else -d["homo_eV"]
        c.objectives = {"reductive_stability": d["lumo_eV"], "oxidative_stability": ox}
        c.sigma = {"reductive_stability": settings.eps("reductive_stability"),
                   "oxidative_stability": settings.eps("oxidative_stability")}
        if c.group == "solvent":
            c.dissolves, dissolve_text = dissolution_estimate(tables.solvation_row(name, cation), dissolve_min)
            c.objectives["anion_rich_shell"] = -d["solvating_power_kcal_per_mol"]
            err = _num((tables.solvation_row(name, cation) or {}).get("solvating_power_err_kcal_per_mol"))
            d["solvating_power_err_kcal_per_mol"] = err
            c.sigma["anion_rich_shell"] = err if err is not None and err > 0 else settings.eps("anion_rich_shell")
            pv = pmf_value(pmf or [], name, settings.salt)
            if pv is not None and pv.outer_force is not None and pv.outer_force > force_max:
                c.pmf_note = (f"K+-anion PMF not used: it still rises by {pv.outer_force:.2f} kcal/mol per A "
                              f"over its outer 2 A (> {force_max:g}, kT per A)")
                pv = None
            if pv is not None:
                d.update({"ddG_assoc_vs_reference_kcal_per_mol": pv.ddg, "ddG_assoc_lo_kcal_per_mol": pv.lo,
                          "ddG_assoc_hi_kcal_per_mol": pv.hi, "pmf_reference": pv.reference})
        c.k_metal, verdict_text = scale.verdict(d["lumo_eV"])
        c.reasons = [verdict_text]
        if anion_lumo.ok:
            gap = d["lumo_eV"] - anion_lumo.value
            c.reasons.append(f"LUMO {abs(gap):.2f} eV {'above' if gap > 0 else 'below'} {anion}'s "
                             f"({'the anion is reduced first' if gap > 0 else 'reduced with or before the anion'})")
        c.reasons.append(f"E_ox estimate {ox:.2f} ± {c.sigma['oxidative_stability']:g} V vs K+/K (vertical, gas "
                         "phase; ordering only)" if ox_unit == "V"
                         else f"HOMO {d['homo_eV']:.2f} eV ({level_note})")
        if c.group == "solvent":
            c.reasons.append(dissolve_text)
            c.reasons.append(f"solvating power {d['solvating_power_kcal_per_mol']:.1f} ± "
                             f"{c.sigma['anion_rich_shell']:.1f} kcal/mol")
        if no_donor:
            c.reasons.append("no donor atom: cannot coordinate K+" + (", ranked as a diluent" if kind != "diluent"
                                                                      else ""))

    for group, objs in GROUP_OBJECTIVES.items():
        members = [c for c in cands if c.status == "ok" and c.group == group]
        if not members:
            continue
        use_dft = _binding_source(members, dft)
        if group == "solvent":
            pmf_solvating_term(members, settings.eps("anion_rich_shell"))
        for c in members:
            if use_dft and c.descriptors["E_bind_source"] != "no donor atom":
                c.descriptors["E_bind_kcal_per_mol"], src = dft[c.name]
                c.descriptors["E_bind_source"] = f"dft_binding.csv ({src})"
            if group == "diluent":
                e = c.descriptors["E_bind_kcal_per_mol"]
                c.objectives["non_coordination"] = e
                c.sigma["non_coordination"] = binding_sigma(c.descriptors["E_bind_source"], settings)
                c.reasons.append(f"E_bind {e:.1f} ± {c.sigma['non_coordination']:g} kcal/mol "
                                 f"({c.descriptors['E_bind_source']})")
        active = [k for k in objs if settings.weight(k) > 0]
        order: list[Candidate] = []
        for verdict in VERDICTS:  # the score compares candidates within one tier only
            for dissolves in (True, False):  # a solvent that may not dissolve the salt after those that do
                tier = [c for c in members if c.k_metal == verdict and (c.dissolves != "may not") == dissolves]
                if not tier:
                    continue
                label = f"K-metal-{verdict} {group}" + ("" if dissolves else " that may not dissolve the salt")
                for c in tier:
                    c.tier = label
                score_tier(tier, active, settings, label)
                order += sorted(tier, key=lambda c: (-c.score, c.name))
        for i, c in enumerate(order, start=1):
            c.rank = i
        rank_bands(order)
        eligible = [c for c in members if c.k_metal != "reduced" and c.dissolves != "may not"]
        front = pareto_front([[c.objectives[k] for k in active] for c in eligible],
                             [settings.eps(k) for k in active]) if active else [True] * len(eligible)
        for c, p in zip(eligible, front):
            c.pareto = p
    for group, f in front_summary(cands).items():
        if f["n"]:
            log.info("%s: %d ranked, %d on the front, %d reduced by K metal", group, f["n"], f["n_front"],
                     f["n_reduced"])
    group_order = {"solvent": 0, "diluent": 1}
    cands.sort(key=lambda c: (c.status != "ok", group_order.get(c.group, 2), c.rank or 10**6, c.name))
    return cands


def front_summary(cands: list[Candidate]) -> dict:
    """Per group and in all: candidates ranked, on the front, and rejected by the K-metal criterion."""
    out = {}
    for group in ("solvent", "diluent", "all"):
        ok = [c for c in cands if c.status == "ok" and (group == "all" or c.group == group)]
        out[group] = {"n": len(ok), "n_front": sum(c.pareto for c in ok),
                      "n_reduced": sum(c.k_metal == "reduced" for c in ok)}
    return out


def ranking_columns(rows: list[dict]) -> list[str]:
    """RANKING_COLUMNS less those with no value in any row (e.g. failure_reason when nothing failed)."""
    return [k for k in RANKING_COLUMNS if any(r.get(k) not in (None, "") for r in rows)]


def write_ranking(path, cands: list[Candidate]) -> None:
    from ..core.records import write_csv

    rows = [c.row() for c in cands]
    write_csv(path, rows, ranking_columns(rows))
