"""Classify one formulation: component roles, the anion-rich predicate, the class label.

Each predicate is True, False or undecided (a value within its uncertainty of the
threshold, or evidence that cannot decide). Every combination of the undecided ones is
followed through :func:`solvscreen.classify.rules.decide`; the label names every class
that can result (``LCE|WSE``), and ``confidence`` is ``high`` only for a single class.

Every reason carries its numbers: ``quantity``, ``op``, ``threshold``, ``value`` and
``err`` (the band half-width), so that :meth:`Reason.holds` (and the tests) can check that
what it says is true; ``evidence`` names where the value came from (md, dft,
calibrated_gfn2, gfn2, composition).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import asdict, dataclass, field
from typing import Callable

from ..inputs.composition import Composition, CompositionSettings, compose, ratio_label, salt_to_solvent_ratio
from ..core.errors import InputError
from ..core.settings import known_keys
from .evidence import Binding, Evidence, donor_count, md_value
from .md_anion import md_anion_predicate
from .rules import CLASSES, THRESHOLDS, decide, has_carbon_fluorine, known_failure, label_of
from .solubility import too_little_solvent
from .solvating import anion_options, reference_band, solvating_decision, solvating_reason

OPS = ("<", "<=", ">", ">=", "in", "")


@dataclass(frozen=True)
class ClassificationSettings:
    """Config section ``classification``: the thresholds of :data:`rules.THRESHOLDS`."""

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
    use_md: bool = True  # read solvation/coordination tables when given
    composition: CompositionSettings = CompositionSettings()

    def __post_init__(self) -> None:
        d = self.diluent_bind_max_kcal_per_mol
        if not (d == "auto" or (isinstance(d, (int, float)) and not isinstance(d, bool) and math.isfinite(d))):
            raise InputError(f"classification.diluent_bind_max_kcal_per_mol must be 'auto' or a number, not {d!r}")
        for key in ("md_anion_cn_min", "md_reference_anion_cn_excess_min", "md_diluent_shell_share_ratio_max", "hce_min_concentration_mol_per_L",
                    "shell_donors_per_cation", "md_short_run_max_ns"):
            if not getattr(self, key) > 0:
                raise InputError(f"classification.{key} must be > 0")
        for key in ("md_anion_cn_seed_spread", "md_anion_cn_seed_spread_short", "gfn2_uncertainty_kcal_per_mol",
                    "dft_uncertainty_kcal_per_mol"):
            if not getattr(self, key) >= 0:
                raise InputError(f"classification.{key} must be >= 0")
        for key in ("min_component_volume_fraction", "min_solvating_volume_fraction"):
            if not 0 <= getattr(self, key) < 1:
                raise InputError(f"classification.{key} must be in [0, 1)")

    @classmethod
    def from_dict(cls, d: dict | None) -> "ClassificationSettings":
        d = known_keys(cls, d, "classification")
        if "composition" in d:
            d["composition"] = CompositionSettings(**(d["composition"] or {}))
        return cls(**d)

    def to_dict(self) -> dict:
        return asdict(self)

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
        return self.outcome == "wrong" and self.ok and len(self.classes) == 1

    def components_text(self) -> str:
        return "|".join(f"{n}:{r:g}" for n, r in self.components)

    def reasons_text(self) -> str:
        return "; ".join(r.text for r in self.reasons)

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
                     "evidence": self.evidence, "roles": self.roles,
                     "reasons": [r.to_dict() for r in self.reasons], "assumptions": self.assumptions,
                     "features": self.features, "composition": self.composition, "decide_by": self.decide_by},
            settings={"classification": settings.to_dict(), "thresholds_used": thresholds or settings.thresholds()},
        )
        if not self.ok:
            rec.failure = {"error_type": "missing-evidence", "reason": self.failure_reason}
        return rec


# ----------------------------------------------------------------------------- roles
@dataclass
class Role:
    name: str
    diluent: bool | None  # None = undecided
    reason: Reason
    evidence: str

    @property
    def text(self) -> str:
        if self.evidence == "composition":
            return "additive"  # under min_component_volume_fraction: never a diluent, too little to solvate
        return {True: "diluent", False: "solvating", None: "undecided"}[self.diluent]


def descriptor_role(name: str, smiles: str, binding: Binding, d_max: float, donors: list[str] | None = None
                    ) -> Role | str:
    """Role of a molecule on its own from descriptors; a string = why it cannot be decided.

    ``donors``: element symbols of the donor atoms of its 1:1 complex. A GFN2-xTB binding that
    uses only C-F contacts does not make a molecule solvating: GFN2-xTB binds K+ to
    fluoroethers nearly as strongly as to glymes (TTE -37, OTE -41 vs DME -44 kcal/mol) while MD
    finds TTE depleted from the shell (measured_facts.md), so such a role stays undecided."""
    n_don = donor_count(smiles)
    if n_don == 0:
        return Role(name, True, Reason(
            "role", name, f"{name}: 0 donor atoms < 1 (no donor atom): it cannot coordinate K+, a diluent",
            quantity="donor atoms", op="<", threshold=1, value=0, unit="atoms", evidence="structure",
            decided=True), "structure")
    if not binding.ok:
        return f"{name}: {binding.reason}"
    v, u = binding.value, binding.uncertainty
    op = _band(v, u, d_max)
    what = {"<": "binds K+ too weakly to hold a place in the shell: a diluent",
            ">=": "binds K+ strongly enough to solvate it: not a diluent",
            "in": "within the uncertainty of the diluent threshold: role undecided"}[op]
    sym = {"<": "<", ">=": ">=", "in": "within ±" + _f(u, 1) + " of"}[op]
    decided = {"<": True, ">=": False, "in": None}[op]
    if op == ">=" and binding.source == "gfn2" and donors and set(donors) == {"F"}:
        decided = None
        what = (f"but only through F atoms ({len(donors)} F in its 1:1 complex), contacts GFN2-xTB overbinds "
                "(fluoroethers bind like glymes in GFN2-xTB yet stay out of the shell in MD): role undecided")
    text = (f"{name}: -E_bind {_f(v, 1)} ± {_f(u, 1)} kcal/mol ({binding.level}) {sym} "
            f"{_f(d_max, 1)} kcal/mol: {what}")
    return Role(name, decided, Reason(
        "role", name, text, quantity="-E_bind_kcal_per_mol", op=op, threshold=d_max, value=v, err=u,
        unit="kcal/mol", evidence=binding.source, decided=decided), binding.source)


def md_role(name: str, row: dict, s: ClassificationSettings, smiles: str = "") -> Role | None:
    """Diluent or solvating from MD: the component's share of the neutral molecules in the K+
    first shell relative to its share of the neutral molecules in the bulk liquid. A
    "solvating" verdict on a molecule in :data:`rules.MD_KNOWN_FAILURES` is not trusted: the
    role becomes undecided, with the failure and its source in the reason."""
    shell, _ = md_value({**row, "status": "ok"}, "shell_mole_fraction")
    bulk, _ = md_value({**row, "status": "ok"}, "bulk_mole_fraction")
    cn, cn_err = md_value({**row, "status": "ok"}, "cn")
    if shell is None or not bulk:
        return None
    v = shell / bulk
    e = v * cn_err / cn if cn else 0.0  # the share moves with the component's own CN
    thr = s.md_diluent_shell_share_ratio_max
    op = _band(v, e, thr)
    what = {"<": "depleted from the K+ shell: a diluent",
            ">=": "not depleted from the K+ shell: solvating",
            "in": "within its error of the threshold: role undecided"}[op]
    sym = {"<": "<", ">=": ">=", "in": "within its error of"}[op]
    text = (f"{name}: share of the K+ shell's neutral molecules / bulk share = {_f(shell)} / {_f(bulk)} = "
            f"{_f(v)} ± {_f(e)} (MD, first shell {row.get('cutoff_A') or '?'} Å) {sym} {thr:g}: {what}")
    dec = {"<": True, ">=": False, "in": None}[op]
    fail = known_failure(smiles, "md") if smiles else None
    if fail is not None and dec is False:
        dec = None
        text += (f"; but the MD model is known to put {fail.name} in the K+ shell wrongly ({fail.meaning}; "
                 f"{fail.source}): role undecided")
    return Role(name, dec, Reason("role", name, text, quantity="shell_share_ratio", op=op, threshold=thr, value=v,
                                  err=e, evidence="md", decided=dec), "md")


# ----------------------------------------------------------------------------- one formulation
def _md_cmd(fid: str) -> str:
    return f"run the MD stage on it (--config md='{{formulations: [{fid}]}}')"


def classify_formulation(formulation, molecule: Callable, evidence: Evidence,
                         settings: ClassificationSettings = ClassificationSettings(), *,
                         diluent_bind_max: float | None = None, origin: str = "table") -> Classification:
    """Classify one formulation (library :class:`Formulation` or a grid formulation).

    ``molecule(name)`` is the library look-up; ``diluent_bind_max`` the diluent threshold
    (kcal/mol) when the settings say ``auto`` (the calibration fits it). Input errors raise;
    missing evidence gives a failed classification with the reason.
    """
    s = settings
    d_max = diluent_bind_max if diluent_bind_max is not None else s.diluent_bind_max_kcal_per_mol
    if d_max == "auto" or d_max is None:
        raise InputError("classify_formulation: diluent_bind_max_kcal_per_mol is 'auto': pass the fitted value")
    salt = molecule(formulation.salt)
    cation, anion = getattr(salt, "cation", None), getattr(salt, "anion", None)
    fid = formulation.id
    cl = Classification(
        id=fid, origin=origin, salt=salt.name, cation=cation, anion=anion,
        concentration_mol_per_L=float(formulation.concentration_mol_per_L),
        components=[(molecule(n).name, float(r)) for n, r in formulation.components],
        ratio_basis=getattr(formulation, "ratio_basis", "volume") or "volume",
        reported_class=getattr(formulation, "reported_class", None) or None,
        set=getattr(formulation, "set", None),
    )
    comp = compose(formulation, molecule, s.composition)
    alt = _salt_volume_variants(formulation, molecule, s.composition, salt)
    cl.composition = comp.to_dict()
    cl.assumptions = list(comp.assumptions)
    c = comp.concentration_mol_per_L

    md_row = evidence.solvation_row(fid) if s.use_md else None
    if md_row is not None and (md_row.get("status") or "ok") != "ok":
        cl.assumptions.append(f"MD record of {fid} is {md_row.get('status')}: classified from descriptors")
        md_row = None

    # ---- roles, each on its own evidence
    roles: list[Role] = []
    missing = []
    for name in comp.names:
        a = comp.component(name)
        if len(comp.names) > 1 and a.volume_fraction < s.min_component_volume_fraction:
            roles.append(Role(name, False, Reason(
                "role", name, f"{name}: volume fraction {_f(a.volume_fraction, 3)} < "
                f"{s.min_component_volume_fraction:g}: an additive, not a diluent",
                quantity="volume_fraction", op="<", threshold=s.min_component_volume_fraction,
                value=a.volume_fraction, evidence="composition", decided=False), "composition"))
            continue
        role = None
        if md_row is not None:
            crow = evidence.coordination_row(fid, name, molecule)
            role = md_role(name, crow, s, molecule(name).smiles) if crow else None
        if role is None:
            b = evidence.binding(name, cation, s)
            r = descriptor_role(name, molecule(name).smiles, b, float(d_max),
                                donors=evidence.binding_donors(name, cation))
            if isinstance(r, str):
                missing.append(r)
                continue
            role = r
        roles.append(role)
    if missing:
        cl.status = "failed"
        cl.failure_reason = "cannot classify without binding energies: " + "; ".join(dict.fromkeys(missing))
        return cl
    if (undissolved := too_little_solvent(comp, roles, s)) is not None:
        cl.status, cl.failure_reason = "failed", undissolved["text"]
        cl.reasons = [r.reason for r in roles] + [Reason(**undissolved)]
        return cl

    # ---- MD anion predicate
    anion_cn, anion_err = md_value(md_row, "anion_cn") if md_row is not None else (None, 0.0)
    reasons: list[Reason] = [r.reason for r in roles]
    md_anion = None
    pred = md_anion_predicate(md_row, s, Reason) if md_row is not None else None
    if pred is not None:
        md_anion = pred[0]
        reasons.append(pred[1])
    elif md_row is not None:
        cl.assumptions.append(f"MD record of {fid} has no anion_cn: anion-richness from composition only")

    dent = {}
    for name in comp.names:
        d = evidence.denticity(name, cation)
        if d is None:
            d = 1
            cl.assumptions.append(f"no 1:1 binding mode of {name}: counted as monodentate")
        dent[name] = d
    # ---- follow every combination of undecided roles
    undecided = [r.name for r in roles if r.diluent is None]
    fixed_dil = [r.name for r in roles if r.diluent is True]
    outcomes: dict[str, list[str]] = {}
    comp_reasons: dict[tuple, list[Reason]] = {}
    band = reference_band(evidence.tables, cation, s.solvating_power_references)
    blend_gfn2 = len([r for r in roles if r.evidence != "composition"]) > 1 and any(
        r.evidence in ("gfn2", "calibrated_gfn2") for r in roles)
    if blend_gfn2:
        reasons.append(Reason("note", "blend", "a blend whose roles rest on 1:1 GFN2-xTB binding: a solvating power "
                              "at or above the references' does not close the anion predicate (1:1 binding does not "
                              "recognize non-fluorinated antisolvents such as DBE or 1,4-dioxane as diluents)"))
    sp_decisions: dict[tuple, tuple] = {}
    all_dil_skipped = False
    open_anion = open_donors = False  # did descriptors leave the anion / the donor count open?
    for combo in itertools.product((False, True), repeat=len(undecided)):
        dil = fixed_dil + [n for n, d in zip(undecided, combo) if d]
        solv = [n for n in comp.names if n not in dil]
        if not solv:
            all_dil_skipped = True
            continue
        x_local = donors_per_salt(comp, solv, dent)
        x_err = max([abs(donors_per_salt(a, solv, dent) - x_local) for a in alt] or [0.0])
        x_op = _band(x_local, x_err, s.shell_donors_per_cation)
        x_options = {"<": [True], ">=": [False], "in": [False, True]}[x_op]  # few solvating molecules?
        open_donors = open_donors or x_op == "in"
        hce_c = c >= s.hce_min_concentration_mol_per_L
        key = tuple(solv)
        if key not in comp_reasons:
            comp_reasons[key] = _composition_reasons(comp, solv, x_local, x_err, x_op, s)
            fluorinated = frozenset(n for n in solv if has_carbon_fluorine(molecule(n).smiles))
            sp_decisions[key] = solvating_decision(evidence.tables, solv, cation, band, fluorinated)
            r = solvating_reason(sp_decisions[key], band, Reason)
            if r is not None:
                comp_reasons[key].append(r)
        for few in x_options:
            hce = hce_c and few and not dil
            if md_anion is not None or anion_cn is not None:
                rich_options = [md_anion] if md_anion is not None else [False, True]
            else:  # composition and solvating power (classify.solvating)
                weak = sp_decisions[key][0]
                if weak is False and blend_gfn2:  # an unrecognized antisolvent could still be a diluent
                    weak = None
                rich_options, opened = anion_options(few, hce, bool(dil), weak)
                open_anion = open_anion or opened
            for rich in rich_options:
                k = decide(rich, bool(dil), hce)
                outcomes.setdefault(k, []).append("+".join(dil) or "no diluent")
    if not outcomes:
        cl.status = "failed"
        cl.failure_reason = ("no component coordinates K+ (" + ", ".join(r.reason.text for r in roles) +
                             "): the salt would not dissolve")
        return cl
    for rs in comp_reasons.values():
        reasons.extend(rs)
    if all_dil_skipped:
        reasons.append(Reason("note", "solubility", "the case in which every component is a diluent is excluded: "
                                                    "some component must dissolve the salt"))

    classes = [k for k in CLASSES if k in outcomes]
    cl.classes = classes
    cl.label = label_of(classes)
    cl.confidence = "high" if len(classes) == 1 else "low"
    cl.evidence = "md" if anion_cn is not None else "descriptors"
    solv0 = [n for n in comp.names if n not in fixed_dil] or comp.names
    x0 = 1.0 / salt_to_solvent_ratio(comp, solv0)
    donors0 = donors_per_salt(comp, solv0, dent)
    cl.features = {
        "concentration_mol_per_L": c, "diluents": fixed_dil, "undecided": undecided,
        "solvating": [r.name for r in roles if r.diluent is False],
        "x_local": x0, "x_all": 1.0 / comp.salt_to_all_solvent, "donors_per_salt": donors0, "denticity": dent,
        "anion_cn": anion_cn, "anion_cn_err": anion_err if anion_cn is not None else None,
        "role_evidence": {r.name: r.evidence for r in roles},
        "binding_evidence": {r.name: r.reason.evidence for r in roles if r.reason.quantity == "-E_bind_kcal_per_mol"},
    }
    cl.roles = [{"name": r.name, "role": r.text, "evidence": r.evidence,
                 "volume_fraction": comp.component(r.name).volume_fraction,
                 "solvent_per_salt": comp.component(r.name).solvent_per_salt,
                 "value": r.reason.value, "threshold": r.reason.threshold, "err": r.reason.err,
                 "quantity": r.reason.quantity} for r in roles]
    # ---- what would decide
    decide_by = []
    if len(classes) > 1:
        if undecided:
            ev = {r.name: r.evidence for r in roles if r.diluent is None}
            who = undecided[0] if len(undecided) == 1 else "each of " + ", ".join(undecided)
            why = "its binding energy does not decide: see its role reason"
            if "md" in ev.values():
                why = "its MD shell share is within its error of the diluent threshold"
                failing = [n for n in undecided if known_failure(molecule(n).smiles, "md")]
                if failing:
                    why = (f"MD is known to misplace {', '.join(failing)} in the K+ shell (see the role reason): "
                           "a model that reproduces its weak coordination, or an experiment")
            decide_by.append(f"whether {who} stays out of the K+ shell ({why})")
        if open_donors and anion_cn is None:
            decide_by.append("whether the solvent donor atoms per salt fill the K+ shell (within the "
                             "salt-density uncertainty of the K+ coordination number)")
        if open_anion:
            decide_by.append("whether the anion enters the K+ shell at this composition (solvating power within "
                             "its uncertainty of the conventional solvents', or missing, or in conflict with "
                             "the donor count, or resting on a fluorinated solvent: see the solvating-power reason)")
        if md_anion is None and anion_cn is not None:
            decide_by.append("whether the anion CN per K+ is above or below its threshold (MD value within "
                             "its uncertainty)")
        cl.decide_by = "; ".join(decide_by) + ": " + (
            _md_cmd(fid) if anion_cn is None or "md" not in cl.features["role_evidence"].values()
            else "a longer MD run or more seeds")
        if any(r.evidence == "gfn2" for r in roles if r.diluent is None):
            cl.decide_by += ", or DFT binding energies (the dft stage)"
    cl.reasons = [_label_reason(cl, outcomes)] + reasons
    if cl.evidence == "md" and any(r.evidence != "md" for r in roles if r.evidence != "composition"):
        cl.assumptions.append("some component roles from descriptors: no MD coordination row for "
                              + ", ".join(r.name for r in roles if r.evidence not in ("md", "composition")))
    return cl


def donors_per_salt(comp: Composition, solv: list[str], dent: dict) -> float:
    """Solvent donor atoms per salt: sum of (molecules per salt) x (1:1 denticity) over ``solv``."""
    return sum(comp.component(n).solvent_per_salt * dent[n] for n in solv)


def _salt_volume_variants(formulation, molecule, cs: CompositionSettings, salt) -> list[Composition]:
    """Compositions with the estimated salt density 15 % lower and higher (composition.py's
    stated uncertainty of the estimate); none when the salt volume is neglected or the library
    gives the salt's density."""
    if cs.salt_volume != "estimate" or getattr(salt, "density_g_per_mL", None):
        return []
    out = []
    for f in (0.85, 1.15):
        try:
            out.append(compose(formulation, molecule, CompositionSettings(
                "estimate", cs.default_salt_density_g_per_mL * f)))
        except Exception:  # noqa: BLE001 - a variant that overfills the litre is no bound
            continue
    return out


def _composition_reasons(comp: Composition, solv: list[str], x_local: float, x_err: float, x_op: str,
                         s: ClassificationSettings) -> list[Reason]:
    c = comp.concentration_mol_per_L
    who = "+".join(solv)
    xm = s.shell_donors_per_cation
    c_op = ">=" if c >= s.hce_min_concentration_mol_per_L else "<"
    sym = {"<": "<", ">=": ">=", "in": "within its uncertainty of"}[x_op]
    what = {"<": "too few solvent donor atoms to fill the K+ shell alone",
            ">=": "enough solvent donor atoms to fill the K+ shell",
            "in": "whether the solvent alone can fill the shell is undecided"}[x_op]
    x_mol = 1.0 / salt_to_solvent_ratio(comp, solv)
    return [
        Reason("predicate", f"donors per salt ({who} solvating)",
               f"{who}: {_f(x_local)} ± {_f(x_err)} donor atoms per salt (salt:solvent {ratio_label(1 / x_mol)} "
               f"x 1:1 denticity; ± = salt density ±15 %) {sym} {xm:g} (K+ coordination number): {what}",
               quantity="donors_per_salt", op=x_op, threshold=xm, value=x_local, err=x_err,
               unit="donor atoms per salt", evidence="composition", decided={"<": True, ">=": False, "in": None}[x_op]),
        Reason("predicate", "high concentration",
               f"c = {c:g} M {c_op} {s.hce_min_concentration_mol_per_L:g} M",
               quantity="concentration_mol_per_L", op=c_op if c_op == ">=" else "<",
               threshold=s.hce_min_concentration_mol_per_L, value=c, unit="mol/L", evidence="composition",
               decided=c_op == ">="),
    ]


WHY = {
    "LCE": "solvent-separated K+ (sheath not anion-rich)",
    "LHCE": "anion-rich sheath with a diluent ({dil})",
    "HCE": "anion-rich sheath at high concentration and salt:solvent ratio, no diluent",
    "WSE": "anion-rich sheath below the HCE concentration without a diluent",
}


def _label_reason(cl: Classification, outcomes: dict) -> Reason:
    parts = []
    for k in cl.classes:
        dil = "/".join(sorted(set(d for d in outcomes[k] if d != "no diluent"))) or "-"
        parts.append(f"{k}: " + WHY[k].format(dil=dil))
    head = f"{cl.label} ({cl.evidence} evidence, confidence {cl.confidence})"
    text = head + ": " + "; ".join(parts)
    if cl.decide_by:
        text += f". Would decide: {cl.decide_by}"
    return Reason("label", cl.label, text)
