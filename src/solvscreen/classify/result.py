"""What a classification is: its settings (:class:`ClassificationSettings`, the thresholds of
:data:`~solvscreen.classify.rules.THRESHOLDS`), the :class:`Reason` (one statement with the
numbers it rests on, checkable by :meth:`Reason.holds`) and the :class:`Classification` of one
formulation."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from ..inputs.composition import CompositionSettings, ratio_label
from ..core.errors import InputError
from ..core.settings import ConfigSection
from .rules import THRESHOLDS

OPS = ("<", "<=", ">", ">=", "in", "")


@dataclass(frozen=True)
class ClassificationSettings(ConfigSection):
    """Config section ``classification``: the thresholds of :data:`rules.THRESHOLDS`."""

    SECTION = "classification"

    md_diluent_shell_share_ratio_max: float = THRESHOLDS["md_diluent_shell_share_ratio_max"].default
    md_anion_cn_min: float = THRESHOLDS["md_anion_cn_min"].default
    md_reference_anion_cn_excess_min: float = THRESHOLDS["md_reference_anion_cn_excess_min"].default
    md_anion_cn_seed_spread: float = THRESHOLDS["md_anion_cn_seed_spread"].default
    md_anion_cn_seed_spread_short: float = THRESHOLDS["md_anion_cn_seed_spread_short"].default
    md_short_run_max_ns: float = THRESHOLDS["md_short_run_max_ns"].default
    diluent_bind_max_kcal_per_mol: float | str = THRESHOLDS["diluent_bind_max_kcal_per_mol"].default
    gfn2_uncertainty_kcal_per_mol: float = THRESHOLDS["gfn2_uncertainty_kcal_per_mol"].default
    dft_uncertainty_kcal_per_mol: float = THRESHOLDS["dft_uncertainty_kcal_per_mol"].default
    hce_min_concentration_mol_per_L: float = THRESHOLDS["hce_min_concentration_mol_per_L"].default
    shell_donors_per_cation: float = THRESHOLDS["shell_donors_per_cation"].default
    min_component_volume_fraction: float = THRESHOLDS["min_component_volume_fraction"].default
    min_solvating_volume_fraction: float = THRESHOLDS["min_solvating_volume_fraction"].default
    solvating_power_references: str = THRESHOLDS["solvating_power_references"].default
    salt_dissolution_dielectric_min: float = THRESHOLDS["salt_dissolution_dielectric_min"].default
    pmf_weak_ddg_max_kcal_per_mol: float = THRESHOLDS["pmf_weak_ddg_max_kcal_per_mol"].default
    pmf_outer_mean_force_max_kcal_per_mol_A: float = THRESHOLDS["pmf_outer_mean_force_max_kcal_per_mol_A"].default
    use_md: bool = True  # read solvation/coordination tables when given
    composition: CompositionSettings = CompositionSettings()

    def __post_init__(self) -> None:
        d = self.diluent_bind_max_kcal_per_mol
        if not (d == "auto" or (isinstance(d, (int, float)) and not isinstance(d, bool) and math.isfinite(d))):
            raise InputError(f"classification.diluent_bind_max_kcal_per_mol must be 'auto' or a number, not {d!r}")
        for key in ("salt_dissolution_dielectric_min", "md_anion_cn_min", "md_reference_anion_cn_excess_min", "md_diluent_shell_share_ratio_max", "hce_min_concentration_mol_per_L",
                    "shell_donors_per_cation", "md_short_run_max_ns"):
            if not getattr(self, key) > 0:
                raise InputError(f"classification.{key} must be > 0")
        for key in ("md_anion_cn_seed_spread", "md_anion_cn_seed_spread_short", "gfn2_uncertainty_kcal_per_mol",
                    "dft_uncertainty_kcal_per_mol"):
            if not getattr(self, key) >= 0:
                raise InputError(f"classification.{key} must be >= 0")
        if not self.pmf_outer_mean_force_max_kcal_per_mol_A > 0:
            raise InputError("classification.pmf_outer_mean_force_max_kcal_per_mol_A must be > 0")
        if not math.isfinite(self.pmf_weak_ddg_max_kcal_per_mol):
            raise InputError("classification.pmf_weak_ddg_max_kcal_per_mol must be a finite number")
        for key in ("min_component_volume_fraction", "min_solvating_volume_fraction"):
            if not 0 <= getattr(self, key) < 1:
                raise InputError(f"classification.{key} must be in [0, 1)")

    @classmethod
    def _prepare(cls, d: dict) -> dict:
        if "composition" in d:
            d["composition"] = CompositionSettings(**(d["composition"] or {}))
        return d

    def thresholds(self) -> dict:
        return {k: getattr(self, k) for k in THRESHOLDS}


# ----------------------------------------------------------------------------- reasons
@dataclass
class Reason:
    """One statement of a classification with the numbers it rests on.

    ``op`` semantics with ``err`` (band half-width, 0 if none): ``<``: value + err < threshold;
    ``>=``: value - err >= threshold; ``in``: within the band, value - err < threshold <= value + err;
    ``<=``/``>``: plain comparisons (composition, no error). Empty ``op``: no numeric claim.
    """

    kind: str  # role | predicate | label | note | warning
    subject: str
    text: str
    quantity: str = ""
    op: str = ""
    threshold: float | None = None
    value: float | None = None
    err: float = 0.0
    unit: str = ""
    evidence: str = ""
    decided: bool | None = None  # the predicate's outcome (None = undecided)

    def holds(self) -> bool:
        """Is the stated inequality true for the stated numbers?"""
        if not self.op:
            return True
        v, t, e = self.value, self.threshold, self.err or 0.0
        if v is None or t is None:
            return False
        return {"<": v + e < t, ">=": v - e >= t, "in": v - e < t <= v + e,
                "<=": v <= t, ">": v > t}[self.op]

    def to_dict(self) -> dict:
        return asdict(self)


def _f(v: float, nd: int = 2) -> str:
    return f"{v:.{nd}f}"


def _band(value: float, err: float, thr: float) -> str:
    """``<``, ``>=`` or ``in`` for ``value ± err`` against ``thr``."""
    if value + err < thr:
        return "<"
    if value - err >= thr:
        return ">="
    return "in"


# ----------------------------------------------------------------------------- the result
@dataclass
class Classification:
    id: str
    origin: str  # table | grid | test
    salt: str
    cation: str | None
    anion: str | None
    concentration_mol_per_L: float
    components: list
    ratio_basis: str
    reported_class: str | None
    set: str | None = None
    status: str = "ok"
    failure_reason: str = ""
    label: str | None = None
    classes: list = field(default_factory=list)
    confidence: str = ""
    evidence: str = ""
    roles: list = field(default_factory=list)
    reasons: list = field(default_factory=list)
    assumptions: list = field(default_factory=list)
    composition: dict = field(default_factory=dict)
    features: dict = field(default_factory=dict)
    decide_by: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def outcome(self) -> str | None:
        """right | two-class (the literature class among several) | wrong | None (no literature class)."""
        if not self.reported_class:
            return None
        if not self.ok:
            return "wrong"
        if self.classes == [self.reported_class]:
            return "right"
        return "two-class" if self.reported_class in self.classes else "wrong"

    @property
    def match(self) -> bool | None:
        return None if self.outcome is None else self.outcome == "right"

    @property
    def confidently_wrong(self) -> bool:
        return self.outcome == "wrong" and self.ok and self.confidence == "high"

    def components_text(self) -> str:
        return "|".join(f"{n}:{r:g}" for n, r in self.components)

    def reasons_text(self) -> str:
        return "; ".join(r.text for r in self.reasons)

    @property
    def verdict(self) -> str:
        """One line (at most 30 words): label, confidence and the number that decided it, or
        what is open and the step that would decide (:mod:`solvscreen.classify.verdict`)."""
        from .verdict import verdict_of

        return verdict_of(self).text

    def row(self) -> dict:
        f = self.features
        return {
            "id": self.id,
            "origin": self.origin,
            "set": self.set or "",
            "salt": self.salt,
            "concentration_mol_per_L": self.concentration_mol_per_L,
            "components": self.components_text(),
            "ratio_basis": self.ratio_basis,
            "status": self.status,
            "failure_reason": self.failure_reason,
            "label": self.label or "",
            "confidence": self.confidence,
            "evidence": self.evidence,
            "verdict": self.verdict,
            "reported_class": self.reported_class or "",
            "outcome": self.outcome or "",
            "diluents": "|".join(f.get("diluents", [])),
            "undecided_roles": "|".join(f.get("undecided", [])),
            "roles": "|".join(f"{r['name']}={r['role']}" for r in self.roles),
            "local_solvent_per_salt": f.get("x_local"),
            "donors_per_salt": f.get("donors_per_salt"),
            "local_salt_to_solvent": ratio_label(1 / f["x_local"]) if f.get("x_local") else "",
            "overall_solvent_per_salt": f.get("x_all"),
            "anion_cn_per_cation": f.get("anion_cn"),
            "anion_cn_err": f.get("anion_cn_err"),
            "decide_by": self.decide_by,
            "rule": next((r.text for r in self.reasons if r.kind == "label"), ""),
            "reasons": self.reasons_text(),
            "assumptions": "; ".join(self.assumptions),
        }

    def record(self, settings: ClassificationSettings, thresholds: dict | None = None):
        from ..core.records import Record

        rec = Record(
            stage="classification",
            name=self.id,
            status=self.status,
            inputs={"salt": self.salt, "cation": self.cation, "anion": self.anion,
                    "concentration_mol_per_L": self.concentration_mol_per_L,
                    "components": [list(c) for c in self.components], "ratio_basis": self.ratio_basis,
                    "reported_class": self.reported_class, "origin": self.origin, "set": self.set},
            results={"label": self.label, "classes": self.classes, "confidence": self.confidence,
                     "evidence": self.evidence, "verdict": self.verdict, "roles": self.roles,
                     "reasons": [r.to_dict() for r in self.reasons], "assumptions": self.assumptions,
                     "features": self.features, "composition": self.composition, "decide_by": self.decide_by},
            settings={"classification": settings.to_dict(), "thresholds_used": thresholds or settings.thresholds()},
        )
        if not self.ok:
            rec.failure = {"error_type": "missing-evidence", "reason": self.failure_reason}
        return rec


