"""Rank candidate liquids for K-metal electrolytes: objectives, a weighted score, a Pareto front.

Candidates are the computed solvents and diluents, ranked within the group the library
proposes them for (its ``kind``: a candidate solvent is judged as a solvent, a candidate
diluent as a diluent); the ``role`` column is what the descriptors say the molecule is on
its own (:func:`solvscreen.classify.molecule_role`). Objectives, all "larger is better":

==================== ============================================ ===================
objective            value                                        groups
==================== ============================================ ===================
oxidative_stability  E_ox vs K+/K (V) -- or -HOMO (eV), config    solvent, diluent
anion_derived_sei    LUMO(molecule) - LUMO(anion) (eV): > 0 lets  solvent, diluent
                     the anion be reduced first (anion-derived
                     SEI, DESIGN §1.1); levels in the ALPB
                     dielectric by default (gas-phase anion
                     levels sit too high), config
                     ``orbital_levels``
anion_rich_shell     -E_exchange (kcal/mol) with the salt's       solvent
                     anion: the anion enters the first shell
solvating_power      sigma((S - S_min) / w), S = -E_bind (1:1):   solvent
                     enough solvating power to dissolve the
                     salt; a sufficiency, not "more is better"
                     (``min_solvating_kcal_per_mol``)
non_coordination     E_bind (kcal/mol; weaker binding is         diluent
                     better): a diluent must stay out of the
                     shell
==================== ============================================ ===================

Score = sum_k w_k * v_k / sum_k w_k, where v_k is objective k min-max scaled to [0, 1]
over the group (solvating_power is already in [0, 1]); weights are the config's
``ranking.weights`` (0 drops an objective). The Pareto front is the set of candidates no
other candidate of the group beats or ties on every weighted objective while beating it
on one. Scores are relative to the candidates in the run: adding a molecule can change
another's score, never its Pareto dominance by a third.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

from .classify import ClassificationSettings, metric_value, molecule_role
from .errors import InputError
from .settings import known_keys
from .result_tables import ResultTables

OBJECTIVES = ("oxidative_stability", "anion_derived_sei", "anion_rich_shell", "solvating_power", "non_coordination")
GROUP_OBJECTIVES = {
    "solvent": ("oxidative_stability", "anion_derived_sei", "anion_rich_shell", "solvating_power"),
    "diluent": ("oxidative_stability", "anion_derived_sei", "non_coordination"),
}
UNITS = {"oxidative_stability": "", "anion_derived_sei": "eV", "anion_rich_shell": "kcal/mol",
         "solvating_power": "", "non_coordination": ""}


@dataclass(frozen=True)
class RankingSettings:
    """Config section ``ranking``."""

    salt: str = "KFSI"  # its anion sets the SEI and shell objectives, its cation the binding
    oxidation_descriptor: str = "E_ox_vs_K_V"  # or "homo_eV" (objective = -HOMO)
    orbital_levels: str = "alpb"  # HOMO/LUMO in the ALPB dielectric ("alpb") or in the gas phase ("gas")
    weights: tuple[tuple[str, float], ...] = (
        ("oxidative_stability", 1.0), ("anion_derived_sei", 1.0), ("anion_rich_shell", 1.0),
        ("solvating_power", 1.0), ("non_coordination", 1.0),
    )
    # 1:1 -E_bind (GFN2-xTB, kcal/mol) needed to dissolve the salt: between 1,4-dioxane (29.5, an
    # antisolvent/diluent in the review) and FEC (35.2, the weakest solvent of a 1 M calibration
    # electrolyte); a rough line: GFN2-xTB binds the fluoroethers about as strongly (28-41)
    min_solvating_kcal_per_mol: float = 32.0
    solvating_width_kcal_per_mol: float = 2.0

    def __post_init__(self) -> None:
        if self.oxidation_descriptor not in ("E_ox_vs_K_V", "homo_eV"):
            raise InputError("ranking.oxidation_descriptor must be E_ox_vs_K_V or homo_eV")
        if self.orbital_levels not in ("alpb", "gas"):
            raise InputError("ranking.orbital_levels must be alpb or gas")
        bad = [k for k, _ in self.weights if k not in OBJECTIVES]
        if bad:
            raise InputError(f"ranking.weights: unknown objective(s) {bad}; objectives are {list(OBJECTIVES)}")
        if any(w < 0 for _, w in self.weights):
            raise InputError("ranking.weights must be >= 0")
        if not self.solvating_width_kcal_per_mol > 0:
            raise InputError("ranking.solvating_width_kcal_per_mol must be > 0")

    @classmethod
    def from_dict(cls, d: dict | None) -> "RankingSettings":
        d = known_keys(cls, d, "ranking")
        if "weights" in d:
            w = dict(cls.weights)  # defaults, overridden key by key
            w.update({k: float(v) for k, v in (d["weights"] or {}).items()})
            d["weights"] = tuple(w.items())
        return cls(**d)

    def weight(self, objective: str) -> float:
        return dict(self.weights).get(objective, 0.0)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["weights"] = dict(self.weights)
        return d


@dataclass
class Candidate:
    name: str
    kind: str
    smiles: str
    status: str = "ok"
    failure_reason: str = ""
    role: str = ""
    group: str = ""
    descriptors: dict = field(default_factory=dict)
    objectives: dict = field(default_factory=dict)  # raw values, larger = better
    scaled: dict = field(default_factory=dict)
    score: float | None = None
    rank: int | None = None
    pareto: bool = False
    reasons: list = field(default_factory=list)

    def row(self) -> dict:
        d = self.descriptors
        out = {
            "rank": self.rank, "group": self.group, "name": self.name, "kind": self.kind, "role": self.role,
            "status": self.status, "failure_reason": self.failure_reason,
            "score": self.score, "pareto": "" if self.status != "ok" else ("yes" if self.pareto else "no"),
        }
        for k in OBJECTIVES:
            out[f"obj_{k}"] = self.objectives.get(k)
        for k in OBJECTIVES:
            out[f"scaled_{k}"] = self.scaled.get(k)
        for k in ("homo_eV", "lumo_eV", "orbital_levels", "E_ox_vs_K_V", "E_red_vs_K_V", "anion_lumo_eV",
                  "E_bind_kcal_per_mol", "E_shell_per_ligand_kcal_per_mol", "E_exchange_kcal_per_mol"):
            out[k] = d.get(k)
        out["reasons"] = "; ".join(self.reasons)
        out["smiles"] = self.smiles
        return out


RANKING_COLUMNS = list(Candidate("", "", "").row().keys())


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))


def dominates(a: list[float], b: list[float]) -> bool:
    return all(x >= y for x, y in zip(a, b)) and any(x > y for x, y in zip(a, b))


def pareto_front(vectors: list[list[float]]) -> list[bool]:
    """True for the vectors no other vector dominates (larger is better on every axis)."""
    return [not any(dominates(w, v) for j, w in enumerate(vectors) if j != i) for i, v in enumerate(vectors)]


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


def rank_candidates(tables: ResultTables, names_kinds: list[tuple[str, str, str]], *, cation: str, anion: str,
                    settings: RankingSettings = RankingSettings(),
                    classification: ClassificationSettings = ClassificationSettings()) -> list[Candidate]:
    """Rank ``(name, kind, smiles, molar volume mL/mol)`` liquids on descriptors from ``tables``."""
    cs = classification
    s_min = settings.min_solvating_kcal_per_mol
    suffix = "_alpb_eV" if settings.orbital_levels == "alpb" else "_eV"
    anion_lumo = tables.descriptor(anion, "lumo" + suffix)
    if settings.orbital_levels == "alpb" and not anion_lumo.ok:  # no dielectric levels in this run
        suffix, anion_lumo = "_eV", tables.descriptor(anion, "lumo_eV")
    level_note = "in ALPB" if suffix == "_alpb_eV" else "gas phase"
    cands: list[Candidate] = []
    for name, kind, smiles, molar_volume in names_kinds:
        c = Candidate(name, kind, smiles)
        cands.append(c)
        need = {
            "homo_eV": tables.descriptor(name, "homo" + suffix),
            "lumo_eV": tables.descriptor(name, "lumo" + suffix),
            "E_ox_vs_K_V": tables.descriptor(name, "E_ox_vs_K_V"),
            "E_bind_kcal_per_mol": tables.binding_value(name, cation),
        }
        optional = {
            "E_red_vs_K_V": tables.descriptor(name, "E_red_vs_K_V"),
            "E_shell_per_ligand_kcal_per_mol": tables.shell_value(name, cation, anion, "E_shell_per_ligand_kcal_per_mol"),
            "E_exchange_kcal_per_mol": tables.shell_value(name, cation, anion, "E_exchange_kcal_per_mol"),
        }
        c.descriptors = {k: v.value for k, v in {**need, **optional}.items()}
        c.descriptors["anion_lumo_eV"] = anion_lumo.value
        c.descriptors["orbital_levels"] = level_note
        missing = [v.reason for k, v in need.items()
                   if not v.ok and not (k == "E_ox_vs_K_V" and settings.oxidation_descriptor == "homo_eV")]
        if not anion_lumo.ok:
            missing.append(f"anion {anion}: {anion_lumo.reason}")
        s_dil = metric_value(tables, cs.diluent_metric, name, cation, anion, molar_volume)
        s_weak = metric_value(tables, cs.weak_metric, name, cation, anion, molar_volume)
        c.role = molecule_role(s_dil.value, s_weak.value, cs)
        c.group = "diluent" if kind == "diluent" else "solvent"
        if c.group == "solvent" and settings.weight("anion_rich_shell") > 0 and not optional["E_exchange_kcal_per_mol"].ok:
            missing.append(optional["E_exchange_kcal_per_mol"].reason)
        if missing:
            c.status, c.failure_reason = "failed", "; ".join(dict.fromkeys(missing))
            continue
        d = c.descriptors
        ox = d["E_ox_vs_K_V"] if settings.oxidation_descriptor == "E_ox_vs_K_V" else -d["homo_eV"]
        bind = -d["E_bind_kcal_per_mol"]
        sol = _sigmoid((bind - s_min) / settings.solvating_width_kcal_per_mol)
        c.objectives = {"oxidative_stability": ox, "anion_derived_sei": d["lumo_eV"] - anion_lumo.value}
        if c.group == "solvent":
            c.objectives["anion_rich_shell"] = -d["E_exchange_kcal_per_mol"] if d["E_exchange_kcal_per_mol"] is not None else None
            c.objectives["solvating_power"] = sol
        else:
            c.objectives["non_coordination"] = -bind
        ox_txt = (f"E_ox {ox:.2f} V vs K+/K" if settings.oxidation_descriptor == "E_ox_vs_K_V"
                  else f"HOMO {d['homo_eV']:.2f} eV ({level_note})")
        gap = d["lumo_eV"] - anion_lumo.value
        c.reasons = [
            ox_txt,
            f"LUMO {d['lumo_eV']:.2f} eV ({level_note}) is {abs(gap):.2f} eV {'above' if gap > 0 else 'below'} {anion} "
            f"({'anion reduced first: anion-derived SEI' if gap > 0 else 'solvent reduced with/before the anion'})",
            f"-E_bind {bind:.1f} kcal/mol vs dissolution minimum {s_min:g}: "
            f"{'dissolves the salt' if sol >= 0.5 else 'too weak to dissolve the salt alone'}",
        ]
        if c.group == "solvent" and d["E_exchange_kcal_per_mol"] is not None:
            c.reasons.insert(2, f"anion exchange {d['E_exchange_kcal_per_mol']:.1f} kcal/mol")
    for group, objs in GROUP_OBJECTIVES.items():
        members = [c for c in cands if c.status == "ok" and c.group == group]
        active = [k for k in objs if settings.weight(k) > 0]
        if not members:
            continue
        for k in active:
            vals = np.array([c.objectives[k] for c in members], dtype=float)
            if k == "solvating_power":
                scaled = vals
            else:
                lo, hi = float(vals.min()), float(vals.max())
                scaled = np.full_like(vals, 0.5) if hi - lo < 1e-12 else (vals - lo) / (hi - lo)
            for c, v in zip(members, scaled):
                c.scaled[k] = float(v)
        wsum = sum(settings.weight(k) for k in active) or 1.0
        for c in members:
            c.score = sum(settings.weight(k) * c.scaled[k] for k in active) / wsum
        front = pareto_front([[c.objectives[k] for k in active] for c in members])
        for c, p in zip(members, front):
            c.pareto = p
        for i, c in enumerate(sorted(members, key=lambda c: (-c.score, c.name)), start=1):
            c.rank = i
    order = {"solvent": 0, "diluent": 1}
    cands.sort(key=lambda c: (c.status != "ok", order.get(c.group, 2), c.rank or 10**6, c.name))
    return cands
