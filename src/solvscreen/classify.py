"""Classify electrolyte formulations as LCE, HCE, LHCE or WSE from computed descriptors.

The rules are the review's design rules (DESIGN.md §1.2) written on descriptors, never on
names. Every formulation gets a score for every class, the label (the highest score) and
the reasons: each rule with the descriptor values and thresholds it used.

Solvating power
    Four descriptors measure how strongly a molecule L solvates the cation M+ (oriented so
    that *larger = solvates more strongly*):

    ``bind``      -E_bind, the 1:1 binding energy M+ + L -> M+·L (binding.csv). Grows with
                  size and polarizability, so it misses steric crowding in a full shell.
    ``shell``     -E_shell_per_ligand, the binding per ligand in a filled shell M+(L)n
                  (shells.csv): crowding and denticity included.
    ``exchange``  E_exchange of M+(L)n + A- -> M+(L)(n-1)A- + L (shells.csv) with A- =
                  ``shell_anion`` (FSI by default for every salt: the scale the thresholds
                  are calibrated on; "salt" = the formulation's own anion): more negative =
                  the anion displaces the solvent more easily.
                  In the gas phase every value is strongly negative (ion pairing wins);
                  only its *ordering* between solvents is meaningful, so thresholds are
                  calibrated, not physical constants.
    ``bind_density`` -E_bind divided by the molar volume of the neat liquid (M/rho, library),
                  in kcal/L: the binding a litre of the liquid offers the cation. Bulky
                  substituents (ethyl/butyl/methyl branches: steric hindrance) and heavy,
                  non-donating groups (CF3, F, Cl) add volume without adding donor
                  strength, so they lower it -- the two routes to weak solvation in the
                  review (DME -> DEE, DGM -> DMM; TEP -> TFP, EC -> FEC) -- while 1:1
                  binding *rises* with the added polarizability. A blend averages it by
                  volume (= sum n_i b_i / sum n_i V_i); the energies average by moles.

Component roles (per formulation)
    A component is a **diluent** in a blend when it binds the cation much more weakly than
    the blend's strongest component (``S_top - S_i >= diluent_gap``, the review's "diluents
    bind K+ much more weakly than the solvent") or when it is non-coordinating on its own
    (``S_i < noncoordinating_max``); both on ``diluent_metric``. The others are the
    **solvating** components; they are **weakly solvating** when their averaged
    ``weak_metric`` lies below ``weak_max``. Thresholds are in the unit of their metric.

Classes (soft scores)
    Four memberships in [0, 1], logistic in the margin to a threshold:

    - hiC = sigma((c - hce_min_concentration) / w_c)                   high molarity
    - hiR = sigma(ln(x_max / x_local) / w_r)  with salt : solvating solvent = 1 : x_local
    - D   = sigma(diluent margin / w_d)                                  a diluent is present
    - W   = sigma((weak_max - S_solvating) / w_w)                       weakly solvating core

    (w_d, w_w: the width of the metric's unit, ``width_energy_kcal_per_mol`` or
    ``width_density_kcal_per_L``)

    combined as fuzzy ANDs (products)::

        HCE  = hiC * hiR                      concentrated, few free solvent molecules
        LHCE = D * hiR * (1 - hiC)            diluent + locally concentrated core, moderate c
        WSE  = W * (1 - D*hiR) * (1 - hiC)    weak solvent without an LHCE core
        LCE  = (1 - W) * (1 - hiR) * (1 - hiC)  strong solvent, dilute

    normalised to sum 1. The label is the argmax; ``margin`` is the gap to the runner-up.

Calibration (:func:`calibrate`)
    A grid search over the thresholds named in ``fit``: candidate values are the midpoints
    between consecutive calibration-set values of the feature each threshold cuts (plus one
    value beyond each end, i.e. "rule off"); the metrics over bind/shell/exchange/bind_density.
    The winner maximises accuracy on the calibration set, ties broken by the mean of
    log(unnormalised rule score of the literature class) + log(membership of the literature
    roles: a diluent present in the LHCEs, absent in the others); each threshold is then
    moved within the gap between the two calibration values around it to the best tie-break
    score. Both centre the thresholds in their gaps (largest margins). Leave-one-out refits on
    ten and predicts the eleventh. The widths are fixed, not fitted.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import asdict, dataclass, field, replace
from typing import Callable, Iterable

import numpy as np

from .composition import Composition, CompositionSettings, compose, ratio_label
from .errors import InputError, SolvscreenError
from .settings import known_keys
from .result_tables import ResultTables, Value

CLASSES = ("LCE", "HCE", "LHCE", "WSE")

METRICS = {  # name: (what it is, unit, how a blend of solvating components averages it)
    "bind": ("-E_bind (1:1 cation binding)", "kcal/mol", "mole"),
    "shell": ("-E_shell_per_ligand (filled shell)", "kcal/mol", "mole"),
    "exchange": ("E_exchange (anion into the shell)", "kcal/mol", "mole"),
    "bind_density": ("-E_bind / molar volume of the neat liquid", "kcal/L", "volume"),
}

# The eleven electrolytes of the review's Table 2 (shared/reference/table2_calibration.csv).
TABLE2_IDS = (
    "LCE-DME", "LCE-EC-DEC", "HCE-DEGDME", "HCE-TMP", "LHCE-DME-MME-OOE", "LHCE-DME-TTE",
    "LHCE-DGM-DBE", "LHCE-TMP-DX", "WSE-TFP", "WSE-DEE", "WSE-FEMC-FEC",
)

FITTABLE = (
    "diluent_metric", "weak_metric", "noncoordinating_max", "diluent_gap",
    "weak_max", "high_ratio_max_solvent_per_salt", "hce_min_concentration_mol_per_L",
)


@dataclass(frozen=True)
class ClassificationSettings:
    """Thresholds of the class rules (config section ``classification``).

    The defaults are the calibrated values (see README, "Classification"); every key can be
    overridden in the config. ``noncoordinating_max`` and ``diluent_gap`` are in the unit of
    ``diluent_metric``, ``weak_max`` in that of ``weak_metric`` (larger = solvates more strongly).
    """

    # calibrated on Table 2 with the default pipeline (GFN2-xTB, gas phase; README "Classification")
    diluent_metric: str = "bind"
    weak_metric: str = "bind_density"
    noncoordinating_max: float = 15.0  # not fitted: no GFN2-xTB binding in the library is this weak
    diluent_gap: float = 3.6
    weak_max: float = 408.0
    high_ratio_max_solvent_per_salt: float = 5.7
    hce_min_concentration_mol_per_L: float = 3.0  # not fitted: the review's "~3 M"
    min_component_volume_fraction: float = 0.05
    shell_anion: str = "FSI"
    width_energy_kcal_per_mol: float = 1.0
    width_density_kcal_per_L: float = 10.0
    width_concentration_mol_per_L: float = 0.25
    width_log_ratio: float = 0.15
    calibration_set: tuple[str, ...] = TABLE2_IDS
    fit: tuple[str, ...] = (
        "diluent_metric", "weak_metric", "diluent_gap",
        "weak_max", "high_ratio_max_solvent_per_salt",
    )
    composition: CompositionSettings = CompositionSettings()

    def __post_init__(self) -> None:
        for key in ("diluent_metric", "weak_metric"):
            if getattr(self, key) not in METRICS:
                raise InputError(f"classification.{key} must be one of {sorted(METRICS)}, not {getattr(self, key)!r}")
        for key in ("width_energy_kcal_per_mol", "width_density_kcal_per_L", "width_concentration_mol_per_L",
                    "width_log_ratio",
                    "high_ratio_max_solvent_per_salt", "hce_min_concentration_mol_per_L"):
            if not getattr(self, key) > 0:
                raise InputError(f"classification.{key} must be > 0")
        bad = [f for f in self.fit if f not in FITTABLE]
        if bad:
            raise InputError(f"classification.fit: {bad} cannot be fitted; choose from {list(FITTABLE)}")

    @classmethod
    def from_dict(cls, d: dict | None) -> "ClassificationSettings":
        d = known_keys(cls, d, "classification")
        if "composition" in d:
            d["composition"] = CompositionSettings(**(d["composition"] or {}))
        for key in ("calibration_set", "fit"):
            if key in d:
                d[key] = tuple(d[key])
        return cls(**d)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["calibration_set"] = list(self.calibration_set)
        d["fit"] = list(self.fit)
        return d

    def thresholds(self) -> dict:
        return {k: getattr(self, k) for k in FITTABLE}

    def width(self, metric: str) -> float:
        """Logistic width of a rule on ``metric``, in its unit."""
        return self.width_density_kcal_per_L if METRICS[metric][1] == "kcal/L" else self.width_energy_kcal_per_mol

    def unit(self, metric: str) -> str:
        return METRICS[metric][1]


# ----------------------------------------------------------------------------- descriptors
def metric_value(tables: ResultTables, metric: str, name: str, cation: str, anion: str | None,
                 molar_volume_mL_per_mol: float | None = None) -> Value:
    """Solvating power of ``name`` on ``metric`` (larger = stronger), or why it is missing.

    ``bind_density`` needs the neat liquid's molar volume (mL/mol).
    """
    if metric in ("bind", "bind_density"):
        v = tables.binding_value(name, cation, "E_bind_kcal_per_mol")
        if not v.ok:
            return v
        if metric == "bind":
            return Value(-v.value)
        if not molar_volume_mL_per_mol:
            return Value(None, f"bind_density of {name}: no molar volume (density) in the library")
        return Value(-v.value / molar_volume_mL_per_mol * 1000.0)
    if anion is None:
        return Value(None, f"{metric}: the salt has no anion")
    if metric == "shell":
        v = tables.shell_value(name, cation, anion, "E_shell_per_ligand_kcal_per_mol")
        return Value(-v.value, v.reason) if v.ok else v
    if metric == "exchange":
        return tables.shell_value(name, cation, anion, "E_exchange_kcal_per_mol")
    raise InputError(f"unknown solvation metric {metric!r}")


def shell_anion_for(salt, settings: ClassificationSettings) -> str | None:
    """The anion whose shell/exchange descriptors measure solvating power for ``salt``."""
    return getattr(salt, "anion", None) if settings.shell_anion == "salt" else settings.shell_anion


def molecule_role(s_dil: float | None, s_weak: float | None, settings: ClassificationSettings) -> str:
    """Role of a molecule on its own (not in a blend), from its descriptors."""
    if s_dil is not None and s_dil < settings.noncoordinating_max:
        return "non-coordinating diluent"
    if s_weak is None:
        return "unknown"
    if s_weak < settings.weak_max:
        return "weakly solvating"
    return "solvating"


# ----------------------------------------------------------------------------- scores
def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-np.clip(z, -60.0, 60.0)))


def memberships(c, x_local, d_margin, s_solv, *, weak_max, x_max, c_min, w_d, w_w, w_c, w_r) -> dict:
    """The four rule memberships; numpy-broadcasting (calibration evaluates grids at once)."""
    c, x_local, d_margin, s_solv = (np.asarray(a, dtype=float) for a in (c, x_local, d_margin, s_solv))
    return {
        "hiC": _sigmoid((c - c_min) / w_c),
        "hiR": _sigmoid(np.log(x_max / x_local) / w_r),
        "D": _sigmoid(d_margin / w_d),
        "W": _sigmoid((weak_max - s_solv) / w_w),
    }


def blend_memberships(b: "Blend", s: "ClassificationSettings") -> dict:
    """Memberships of one blend under settings ``s``."""
    return memberships(b.concentration_mol_per_L, b.x_local, b.d_margin, b.s_solv,
                       weak_max=s.weak_max, x_max=s.high_ratio_max_solvent_per_salt,
                       c_min=s.hce_min_concentration_mol_per_L, w_d=s.width(s.diluent_metric),
                       w_w=s.width(s.weak_metric), w_c=s.width_concentration_mol_per_L, w_r=s.width_log_ratio)


def blend_of(comp: "Composition", s_dil: dict, s_weak: dict | None, s: "ClassificationSettings", *,
             weak_metric: str | None = None, **override) -> "Blend":
    """Roles and features of a composition under settings ``s`` (thresholds overridable)."""
    kw = dict(noncoord=s.noncoordinating_max, gap=s.diluent_gap, min_fraction=s.min_component_volume_fraction,
              weak_weighting=METRICS[weak_metric or s.weak_metric][2])
    kw.update(override)
    return blend_features(comp, s_dil, s_weak, **kw)


def class_scores(m: dict) -> np.ndarray:
    """Normalised class scores (last axis in CLASSES order) from memberships."""
    raw = raw_scores(m)
    return raw / raw.sum(axis=-1, keepdims=True)


def raw_scores(m: dict) -> np.ndarray:
    """How well each class's rule is satisfied (products of memberships), before normalising."""
    hiC, hiR, D, W = m["hiC"], m["hiR"], m["D"], m["W"]
    raw = np.stack(
        [
            (1 - W) * (1 - hiR) * (1 - hiC),  # LCE
            hiC * hiR,  # HCE
            D * hiR * (1 - hiC),  # LHCE
            W * (1 - D * hiR) * (1 - hiC),  # WSE
        ],
        axis=-1,
    )
    return np.maximum(raw, 1e-12)


# ----------------------------------------------------------------------------- formulation features
@dataclass
class Blend:
    """Roles and composition features of one formulation under one set of role thresholds."""

    concentration_mol_per_L: float
    strongest: str
    solvating: list[str]
    diluents: list[str]
    margins: dict  # name -> diluent margin (diluent_metric unit; > 0 = diluent), strongest excluded
    x_local: float  # salt : solvating solvent = 1 : x_local
    x_all: float
    d_margin: float
    s_solv: float | None  # mole-weighted weak_metric over the solvating components
    no_coordinating_component: bool


def blend_features(comp: Composition, s_dil: dict, s_weak: dict | None, *, noncoord: float, gap: float,
                   min_fraction: float, weak_weighting: str = "mole") -> Blend:
    names = comp.names
    strongest = max(names, key=lambda n: s_dil[n])
    top = s_dil[strongest]
    margins, diluents = {}, []
    for n in names:
        if n == strongest:
            continue
        mgn = max(noncoord - s_dil[n], (top - s_dil[n]) - gap)
        margins[n] = mgn
        if mgn > 0 and comp.component(n).volume_fraction >= min_fraction:
            diluents.append(n)
    solvating = [n for n in names if n not in diluents]
    n_solv = sum(comp.component(n).mol_per_L for n in solvating)
    c = comp.concentration_mol_per_L
    counted = [m for n, m in margins.items() if comp.component(n).volume_fraction >= min_fraction]
    s_solv = None
    if s_weak is not None:
        w = {n: (comp.component(n).volume_fraction if weak_weighting == "volume" else comp.component(n).mol_per_L)
             for n in solvating}
        s_solv = sum(w[n] * s_weak[n] for n in solvating) / sum(w.values())
    return Blend(
        concentration_mol_per_L=c,
        strongest=strongest,
        solvating=solvating,
        diluents=diluents,
        margins=margins,
        x_local=n_solv / c,
        x_all=comp.solvent_mol_per_L / c,
        d_margin=max(counted) if counted else -math.inf,
        s_solv=s_solv,
        no_coordinating_component=top < noncoord,
    )


# ----------------------------------------------------------------------------- one formulation
@dataclass
class Classification:
    id: str
    origin: str  # "table" (formulation file) or "grid" (generated)
    salt: str
    cation: str | None
    anion: str | None
    concentration_mol_per_L: float
    components: list
    ratio_basis: str
    reported_class: str | None
    status: str = "ok"
    failure_reason: str = ""
    label: str | None = None
    scores: dict = field(default_factory=dict)
    memberships: dict = field(default_factory=dict)
    features: dict = field(default_factory=dict)
    roles: list = field(default_factory=list)
    reasons: list = field(default_factory=list)
    assumptions: list = field(default_factory=list)
    composition: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def match(self) -> bool | None:
        if not self.reported_class or not self.ok:
            return None if not self.reported_class else False
        return self.label == self.reported_class

    @property
    def margin(self) -> float | None:
        if not self.scores:
            return None
        s = sorted(self.scores.values(), reverse=True)
        return s[0] - s[1]

    def components_text(self) -> str:
        return "|".join(f"{n}:{r:g}" for n, r in self.components)

    def reasons_text(self) -> str:
        return "; ".join(r["text"] for r in self.reasons)

    def row(self) -> dict:
        f = self.features
        return {
            "id": self.id,
            "origin": self.origin,
            "salt": self.salt,
            "concentration_mol_per_L": self.concentration_mol_per_L,
            "components": self.components_text(),
            "ratio_basis": self.ratio_basis,
            "status": self.status,
            "failure_reason": self.failure_reason,
            "label": self.label or "",
            **{f"score_{k}": self.scores.get(k) for k in CLASSES},
            "margin": self.margin,
            "reported_class": self.reported_class or "",
            "match": "" if self.match is None else ("yes" if self.match else "no"),
            "solvating": "|".join(f.get("solvating", [])),
            "diluents": "|".join(f.get("diluents", [])),
            "roles": "|".join(f"{r['name']}={r['role']}" for r in self.roles),
            "local_salt_to_solvent": ratio_label(1 / f["x_local"]) if f.get("x_local") else "",
            "local_solvent_per_salt": f.get("x_local"),
            "overall_solvent_per_salt": f.get("x_all"),
            "solvating_power": f.get("s_solv"),
            "solvating_metric": f.get("weak_metric"),
            "solvating_power_unit": METRICS[f["weak_metric"]][1] if f.get("weak_metric") else "",
            "diluent_margin": f.get("d_margin"),
            "diluent_metric": f.get("diluent_metric"),
            "diluent_margin_unit": METRICS[f["diluent_metric"]][1] if f.get("diluent_metric") else "",
            "rule": next((r["text"] for r in self.reasons if r.get("kind") == "label"), ""),
            "reasons": self.reasons_text(),
            "assumptions": "; ".join(self.assumptions),
        }

    def record(self, settings: ClassificationSettings):
        from .records import Record

        rec = Record(
            stage="classification",
            name=self.id,
            status=self.status,
            inputs={"salt": self.salt, "cation": self.cation, "anion": self.anion,
                    "concentration_mol_per_L": self.concentration_mol_per_L,
                    "components": [list(c) for c in self.components], "ratio_basis": self.ratio_basis,
                    "reported_class": self.reported_class, "origin": self.origin},
            results={"label": self.label, "scores": self.scores, "margin": self.margin,
                     "memberships": self.memberships, "features": self.features, "roles": self.roles,
                     "reasons": self.reasons, "assumptions": self.assumptions,
                     "composition": self.composition},
            settings={"classification": settings.to_dict()},
        )
        if not self.ok:
            rec.failure = {"error_type": "missing-descriptor", "reason": self.failure_reason}
        return rec


def _fmt(v: float | None, nd: int = 1) -> str:
    return "n/a" if v is None or (isinstance(v, float) and not math.isfinite(v)) else f"{v:.{nd}f}"


def classify_formulation(formulation, molecule: Callable, tables: ResultTables,
                         settings: ClassificationSettings = ClassificationSettings(),
                         origin: str = "table") -> Classification:
    """Classify one formulation (library :class:`Formulation` or a grid formulation).

    ``molecule(name)`` is the library look-up (molar mass, density, a salt's ions). Input
    errors (a composition that cannot exist) raise; missing descriptors give a failed
    classification with the reason.
    """
    salt = molecule(formulation.salt)
    cation, anion = getattr(salt, "cation", None), getattr(salt, "anion", None)
    shell_anion = shell_anion_for(salt, settings)
    comps = [(molecule(n).name, float(r)) for n, r in formulation.components]
    cl = Classification(
        id=formulation.id, origin=origin, salt=salt.name, cation=cation, anion=anion,
        concentration_mol_per_L=float(formulation.concentration_mol_per_L), components=comps,
        ratio_basis=getattr(formulation, "ratio_basis", "volume") or "volume",
        reported_class=getattr(formulation, "reported_class", None) or None,
    )
    comp = compose(formulation, molecule, settings.composition)
    cl.composition = comp.to_dict()
    cl.assumptions = list(comp.assumptions)
    names = comp.names
    missing = []
    values: dict[str, dict[str, float]] = {"dil": {}, "weak": {}}
    for n in names:
        for key, metric in (("dil", settings.diluent_metric), ("weak", settings.weak_metric)):
            v = metric_value(tables, metric, n, cation, shell_anion, comp.component(n).molar_volume_mL_per_mol)
            if v.ok:
                values[key][n] = v.value
            else:
                missing.append(f"{n}: {v.reason}")
    if missing:
        cl.status = "failed"
        cl.failure_reason = "cannot classify without descriptors: " + "; ".join(dict.fromkeys(missing))
        return cl
    s = settings
    b = blend_of(comp, values["dil"], values["weak"], s)
    m = blend_memberships(b, s)
    sc = class_scores(m)
    cl.scores = {k: float(v) for k, v in zip(CLASSES, sc)}
    cl.memberships = {k: float(v) for k, v in m.items()}
    cl.label = CLASSES[int(np.argmax(sc))]
    cl.features = {
        "concentration_mol_per_L": b.concentration_mol_per_L,
        "strongest": b.strongest, "solvating": b.solvating, "diluents": b.diluents,
        "x_local": b.x_local, "x_all": b.x_all, "d_margin": None if not math.isfinite(b.d_margin) else b.d_margin,
        "s_solv": b.s_solv, "diluent_metric": s.diluent_metric, "weak_metric": s.weak_metric,
        "diluent_margins": b.margins, "values": values,
    }
    for n in names:
        a = comp.component(n)
        role = "diluent" if n in b.diluents else (
            "weakly solvating solvent" if values["weak"][n] < s.weak_max else "solvating solvent")
        cl.roles.append({"name": n, "role": role, "volume_fraction": a.volume_fraction,
                         "solvent_per_salt": a.solvent_per_salt,
                         "alone": molecule_role(values["dil"][n], values["weak"][n], s),
                         s.diluent_metric: values["dil"][n], s.weak_metric: values["weak"][n]})
    cl.reasons = _reasons(cl, b, m, s)
    if shell_anion != anion and {s.diluent_metric, s.weak_metric} - {"bind"}:
        cl.assumptions.append(f"shell/exchange descriptors measured against {shell_anion} (the calibration's "
                              f"anion scale), not this salt's {anion}")
    return cl


def _reasons(cl: Classification, b: Blend, m: dict, s: ClassificationSettings) -> list[dict]:
    dm, wm = s.diluent_metric, s.weak_metric
    loc = ratio_label(1 / b.x_local)
    x_max = s.high_ratio_max_solvent_per_salt
    out = []
    # component roles
    for n, mgn in b.margins.items():
        top = cl.features["values"]["dil"][b.strongest]
        v = cl.features["values"]["dil"][n]
        is_dil = n in b.diluents
        why = []
        if v < s.noncoordinating_max:
            why.append(f"{dm} {v:.1f} < non-coordinating {s.noncoordinating_max:g}")
        if top - v >= s.diluent_gap:
            why.append(f"binds {top - v:.1f} weaker than {b.strongest} (gap >= {s.diluent_gap:g})")
        if not why:
            why.append(f"{dm} {v:.1f} vs {b.strongest} {top:.1f}: gap {top - v:.1f} < {s.diluent_gap:g}")
        out.append({"kind": "role", "rule": "diluent", "subject": n, "fired": is_dil, "value": v,
                    "threshold": s.diluent_gap, "margin": mgn,
                    "text": f"{n} {'is a diluent' if is_dil else 'solvates'} ({', '.join(why)}; {s.unit(dm)})"})
    out.append({"kind": "rule", "rule": "high concentration", "fired": bool(m["hiC"] > 0.5),
                "value": b.concentration_mol_per_L, "threshold": s.hce_min_concentration_mol_per_L,
                "membership": float(m["hiC"]),
                "text": f"c = {b.concentration_mol_per_L:g} M {'>=' if b.concentration_mol_per_L >= s.hce_min_concentration_mol_per_L else '<'} "
                        f"{s.hce_min_concentration_mol_per_L:g} M (hiC {float(m['hiC']):.2f})"})
    out.append({"kind": "rule", "rule": "high local salt:solvent ratio", "fired": bool(m["hiR"] > 0.5),
                "value": b.x_local, "threshold": x_max, "membership": float(m["hiR"]),
                "text": f"salt:solvating solvent {loc} ({'+'.join(b.solvating)}) "
                        f"{'at least' if b.x_local <= x_max else 'below'} 1:{x_max:g} (hiR {float(m['hiR']):.2f})"})
    out.append({"kind": "rule", "rule": "diluent present", "fired": bool(m["D"] > 0.5),
                "value": None if not math.isfinite(b.d_margin) else b.d_margin, "threshold": 0.0,
                "membership": float(m["D"]),
                "text": (f"diluent {'+'.join(b.diluents)} present (D {float(m['D']):.2f})" if b.diluents
                         else f"no diluent (D {float(m['D']):.2f})")})
    out.append({"kind": "rule", "rule": "weakly solvating core", "fired": bool(m["W"] > 0.5),
                "value": b.s_solv, "threshold": s.weak_max, "membership": float(m["W"]),
                "text": f"solvating core {wm} {_fmt(b.s_solv)} {'<' if b.s_solv < s.weak_max else '>='} "
                        f"{s.weak_max:g} {s.unit(wm)}: {'weakly' if b.s_solv < s.weak_max else 'strongly'} "
                        f"solvating (W {float(m['W']):.2f})"})
    label_text = {
        "HCE": f"HCE: {b.concentration_mol_per_L:g} M and salt:solvent {loc} - few free solvent molecules",
        "LHCE": f"LHCE: diluent {'+'.join(b.diluents) or '-'} with a local salt:solvent {loc} core at "
                f"{b.concentration_mol_per_L:g} M",
        "WSE": f"WSE: the solvating component ({'+'.join(b.solvating)}) is itself weakly solvating "
               f"({wm} {_fmt(b.s_solv)} < {s.weak_max:g}) without an LHCE core",
        "LCE": f"LCE: strongly solvating {'+'.join(b.solvating)} ({wm} {_fmt(b.s_solv)} >= "
               f"{s.weak_max:g}) at salt:solvent {loc}, {b.concentration_mol_per_L:g} M",
    }[cl.label]
    out.insert(0, {"kind": "label", "rule": cl.label, "fired": True, "score": cl.scores[cl.label],
                   "text": label_text})
    if b.no_coordinating_component:
        out.append({"kind": "warning", "rule": "salt solubility", "fired": True,
                    "value": cl.features["values"]["dil"][b.strongest],
                    "threshold": s.noncoordinating_max,
                    "text": f"warning: no component coordinates the cation ({b.strongest} {dm} "
                            f"{cl.features['values']['dil'][b.strongest]:.1f} < {s.noncoordinating_max:g}):"
                            " the salt is unlikely to dissolve"})
    return out


# ----------------------------------------------------------------------------- calibration
@dataclass
class CalibrationCase:
    id: str
    reported: str
    comp: Composition
    values: dict  # metric -> {name: value}


def calibration_cases(formulations: Iterable, molecule: Callable, tables: ResultTables,
                      settings: ClassificationSettings) -> tuple[list[CalibrationCase], list[dict]]:
    """Cases with every metric available; the others as (id, reason) rows."""
    cases, skipped = [], []
    for f in formulations:
        salt = molecule(f.salt)
        cat, an = getattr(salt, "cation", None), shell_anion_for(salt, settings)
        comp = compose(f, molecule, settings.composition)
        values, missing = {}, []
        for metric in METRICS:
            values[metric] = {}
            for n in comp.names:
                v = metric_value(tables, metric, n, cat, an, comp.component(n).molar_volume_mL_per_mol)
                if v.ok:
                    values[metric][n] = v.value
                else:
                    missing.append(f"{n}: {v.reason}")
        usable = {k: v for k, v in values.items() if len(v) == len(comp.names)}
        if not usable:
            skipped.append({"id": f.id, "reason": "; ".join(dict.fromkeys(missing))})
            continue
        cases.append(CalibrationCase(f.id, f.reported_class, comp, usable))
    return cases, skipped


def _midpoints(values: Iterable[float], *, geometric: bool = False, pad: float = 1.0) -> list[float]:
    v = sorted(set(float(x) for x in values if x is not None and math.isfinite(x)))
    if not v:
        return []
    if geometric:
        mids = [math.sqrt(a * b) for a, b in zip(v, v[1:])]
        return [v[0] / 1.5] + mids + [v[-1] * 1.5]
    mids = [(a + b) / 2 for a, b in zip(v, v[1:])]
    return [v[0] - pad] + mids + [v[-1] + pad]


def _evaluate(cases, settings: ClassificationSettings, *, dm: str, wm: str, noncoord: float, gap: float,
              weak_grid, x_grid, c_grid):
    """Accuracy and mean log score over a (weak_max, x_max, c_min) grid for fixed roles."""
    s = settings
    c, xl, dmg, ss, truth = [], [], [], [], []
    for case in cases:
        b = blend_of(case.comp, case.values[dm], case.values[wm], s, weak_metric=wm, noncoord=noncoord, gap=gap)
        c.append(b.concentration_mol_per_L)
        xl.append(b.x_local)
        dmg.append(b.d_margin)
        ss.append(b.s_solv)
        truth.append(CLASSES.index(case.reported))
    W_, X_, C_ = np.meshgrid(np.asarray(weak_grid), np.asarray(x_grid), np.asarray(c_grid), indexing="ij")
    m = memberships(np.asarray(c)[None, None, None, :], np.asarray(xl)[None, None, None, :],
                    np.asarray(dmg)[None, None, None, :], np.asarray(ss)[None, None, None, :],
                    weak_max=W_[..., None], x_max=X_[..., None], c_min=C_[..., None],
                    w_d=s.width(dm), w_w=s.width(wm), w_c=s.width_concentration_mol_per_L, w_r=s.width_log_ratio)
    raw = raw_scores(m)  # (nw, nx, nc, ncase, 4)
    truth = np.asarray(truth)
    pred = raw.argmax(axis=-1)
    correct = (pred == truth).sum(axis=-1)
    # tie-break: how well the literature class's own rule is met (unnormalised, so a
    # threshold that only wins by making the other classes worse is not rewarded) ...
    p_true = np.take_along_axis(raw, truth[None, None, None, :, None], axis=-1)[..., 0]
    # ... and the literature's roles: a diluent in the LHCEs, none in the others
    lhce = truth == CLASSES.index("LHCE")
    p_role = np.clip(np.where(lhce, m["D"], 1.0 - m["D"]), 1e-12, 1.0)
    logscore = (np.log(p_true) + np.log(p_role)).mean(axis=-1)
    return correct, logscore, (W_, X_, C_)


def calibrate(cases: list[CalibrationCase], settings: ClassificationSettings) -> tuple[ClassificationSettings, dict]:
    """Fit the thresholds named in ``settings.fit`` on ``cases``; returns (settings, summary)."""
    if not cases:
        raise SolvscreenError("calibration: no usable calibration formulations")
    s = settings
    fit = set(s.fit)
    common = set(METRICS)
    for case in cases:
        common &= set(case.values)
    dms = sorted(common) if "diluent_metric" in fit else [s.diluent_metric]
    wms = sorted(common) if "weak_metric" in fit else [s.weak_metric]
    if not set(dms) <= common or not set(wms) <= common:
        raise SolvscreenError(f"calibration: metric(s) {sorted(set(dms + wms) - common)} not available for every case")
    best = None
    for dm in dms:
        dvals = [v for case in cases for v in case.values[dm].values()]
        nc_grid = _midpoints(dvals, pad=s.width(dm)) if "noncoordinating_max" in fit else [s.noncoordinating_max]
        gaps = []
        for case in cases:
            top = max(case.values[dm].values())
            gaps += [top - v for v in case.values[dm].values() if top - v > 0]
        gap_grid = _midpoints(gaps + [0.0], pad=s.width(dm)) if "diluent_gap" in fit else [s.diluent_gap]
        gap_grid = [g for g in gap_grid if g > 0] or [s.diluent_gap]
        for nc, gap in itertools.product(nc_grid, gap_grid):
            blends = [blend_of(case.comp, case.values[dm], None, s, noncoord=nc, gap=gap) for case in cases]
            x_grid = (_midpoints([b.x_local for b in blends], geometric=True)
                      if "high_ratio_max_solvent_per_salt" in fit else [s.high_ratio_max_solvent_per_salt])
            c_grid = (_midpoints([case.comp.concentration_mol_per_L for case in cases], pad=0.5)
                      if "hce_min_concentration_mol_per_L" in fit else [s.hce_min_concentration_mol_per_L])
            c_grid = [x for x in c_grid if x > 0]
            for wm in wms:
                if "weak_max" in fit:
                    svals = [blend_of(case.comp, case.values[dm], case.values[wm], s, weak_metric=wm, noncoord=nc,
                                      gap=gap).s_solv for case in cases]
                    w_grid = _midpoints(svals, pad=s.width(wm))
                else:
                    w_grid = [s.weak_max]
                correct, logscore, (W_, X_, C_) = _evaluate(
                    cases, s, dm=dm, wm=wm, noncoord=nc, gap=gap, weak_grid=w_grid, x_grid=x_grid, c_grid=c_grid)
                # lexicographic: accuracy, then mean log rule score of the literature class (>= -28)
                obj = correct.astype(float) * 1e3 + logscore
                i = np.unravel_index(int(np.argmax(obj)), obj.shape)
                cand = (float(obj[i]), int(correct[i]), float(logscore[i]))
                if best is None or cand[0] > best[0] + 1e-12:
                    best = (cand[0], cand[1], cand[2], dict(
                        diluent_metric=dm, weak_metric=wm, noncoordinating_max=float(nc),
                        diluent_gap=float(gap), weak_max=float(W_[i]),
                        high_ratio_max_solvent_per_salt=float(X_[i]), hce_min_concentration_mol_per_L=float(C_[i])))
    _, n_correct, logscore, params = best
    fitted = _refine(cases, replace(s, **{k: v for k, v in params.items() if k in fit}))
    n_correct, logscore = _objective(cases, fitted)
    return fitted, {"n_cases": len(cases), "n_correct": n_correct, "accuracy": n_correct / len(cases),
                    "mean_log_score": logscore, "fitted": {k: getattr(fitted, k) for k in s.fit}}


def _objective(cases: list[CalibrationCase], s: ClassificationSettings) -> tuple[int, float]:
    """(number correct, mean log rule score of the literature class) under settings ``s``."""
    correct, logs = 0, 0.0
    for case in cases:
        b = blend_of(case.comp, case.values[s.diluent_metric], case.values[s.weak_metric], s)
        m = blend_memberships(b, s)
        raw = raw_scores(m)
        k = CLASSES.index(case.reported)
        correct += int(np.argmax(raw)) == k
        d = float(m["D"])
        logs += math.log(float(raw[k])) + math.log(max(1e-12, d if case.reported == "LHCE" else 1.0 - d))
    return correct, logs / len(cases)


def _cut_values(cases: list[CalibrationCase], s: ClassificationSettings, key: str) -> list[float]:
    """The calibration-set values threshold ``key`` separates (under the other thresholds of ``s``)."""
    dm, wm = s.diluent_metric, s.weak_metric
    if key == "hce_min_concentration_mol_per_L":
        return [case.comp.concentration_mol_per_L for case in cases]
    if key == "noncoordinating_max":
        return [v for case in cases for v in case.values[dm].values()]
    if key == "diluent_gap":
        return [max(case.values[dm].values()) - v for case in cases for v in case.values[dm].values()]
    blends = [blend_of(case.comp, case.values[dm], case.values[wm], s) for case in cases]
    return [b.s_solv for b in blends] if key == "weak_max" else [b.x_local for b in blends]


def _refine(cases: list[CalibrationCase], s: ClassificationSettings, sweeps: int = 2) -> ClassificationSettings:
    """Move each fitted threshold within the gap between the two calibration values around it
    to the best mean log score (accuracy cannot change inside a gap): a max-margin placement,
    finer than the grid's midpoints when the neighbouring gaps differ in width."""
    keys = [k for k in ("diluent_gap", "noncoordinating_max", "weak_max", "high_ratio_max_solvent_per_salt",
                        "hce_min_concentration_mol_per_L") if k in s.fit]
    for _ in range(sweeps):
        for key in keys:
            cur = getattr(s, key)
            vals = sorted(set(_cut_values(cases, s, key)))
            geometric = key == "high_ratio_max_solvent_per_salt"
            below = [v for v in vals if v < cur]
            above = [v for v in vals if v > cur]
            pad = 0.5 * cur if geometric else 3 * (s.width(s.weak_metric) if key == "weak_max" else
                                                   s.width(s.diluent_metric) if key in ("diluent_gap", "noncoordinating_max")
                                                   else s.width_concentration_mol_per_L)
            lo = below[-1] if below else cur - pad
            hi = above[0] if above else cur + pad
            if key in ("diluent_gap", "high_ratio_max_solvent_per_salt", "hce_min_concentration_mol_per_L"):
                lo = max(lo, 1e-6)
            if geometric:
                grid = [math.exp(math.log(lo) + (math.log(hi) - math.log(lo)) * i / 40) for i in range(1, 40)]
            else:
                grid = [lo + (hi - lo) * i / 40 for i in range(1, 40)]
            best = max(((_objective(cases, replace(s, **{key: g})), g) for g in grid + [cur]),
                       key=lambda t: (t[0][0], t[0][1]))
            s = replace(s, **{key: float(best[1])})
    return s


def predict_case(case: CalibrationCase, s: ClassificationSettings) -> tuple[str, dict]:
    b = blend_of(case.comp, case.values[s.diluent_metric], case.values[s.weak_metric], s)
    sc = class_scores(blend_memberships(b, s))
    return CLASSES[int(np.argmax(sc))], {k: float(v) for k, v in zip(CLASSES, sc)}


def leave_one_out(cases: list[CalibrationCase], settings: ClassificationSettings) -> list[dict]:
    """Refit on all but one case, predict the one left out; one row per case."""
    out = []
    for i, case in enumerate(cases):
        rest = cases[:i] + cases[i + 1:]
        fitted, _ = calibrate(rest, settings)
        label, scores = predict_case(case, fitted)
        out.append({"id": case.id, "reported_class": case.reported, "loo_label": label,
                    "loo_match": label == case.reported, "loo_score": scores[label],
                    "loo_thresholds": {k: getattr(fitted, k) for k in settings.fit}})
    return out


# ----------------------------------------------------------------------------- explanations
RULE_OF = {"hiC": "high concentration", "hiR": "high local salt:solvent ratio", "D": "diluent present",
           "W": "weakly solvating core"}
REQUIRES = {  # what each class's rule needs: (membership, wanted high?)
    "HCE": (("hiC", True), ("hiR", True)),
    "LHCE": (("D", True), ("hiR", True), ("hiC", False)),
    "WSE": (("W", True), ("hiC", False)),
    "LCE": (("W", False), ("hiR", False), ("hiC", False)),
}


def explain_miss(cl: Classification) -> str:
    """Why ``cl`` is not its literature class: the conditions of that class's rule that failed."""
    if not cl.ok:
        return f"not classified: {cl.failure_reason}"
    if not cl.reported_class or cl.label == cl.reported_class:
        return ""
    texts = {r["rule"]: r["text"] for r in cl.reasons if r.get("kind") == "rule"}
    failed = []
    for key, want_high in REQUIRES[cl.reported_class]:
        v = cl.memberships[key]
        if (v < 0.5) == want_high:
            failed.append(texts[RULE_OF[key]])
    if cl.reported_class == "WSE" and cl.memberships["D"] * cl.memberships["hiR"] > 0.5:
        failed.append("a diluent with a locally concentrated core makes it LHCE-like")
    if "D" in [k for k, w in REQUIRES[cl.reported_class] if w] and cl.memberships["D"] < 0.5:
        failed += [r["text"] for r in cl.reasons if r.get("kind") == "role"]
    lead = (f"{cl.reported_class} rule not met (score {cl.scores[cl.reported_class]:.2f} vs "
            f"{cl.label} {cl.scores[cl.label]:.2f})")
    return lead + (": " + "; ".join(failed) if failed else ": the conditions hold but another class scores higher")


# ----------------------------------------------------------------------------- the stage
CLASSIFICATION_COLUMNS = list(Classification("", "", "", None, None, 0.0, [], "volume", None).row().keys())


def run_classification(library, formulations: list, tables: ResultTables, settings: ClassificationSettings,
                       grid_settings=None, *, out_csv=None, out_records=None, out_calibration=None) -> dict:
    """Classify the table's formulations and the screening grid; calibrate; write the outputs.

    Returns ``{"classifications": [...], "calibration": {...}}``.
    """
    from .grid import GridSettings, make_grid
    from .records import SCHEMA_VERSION, write_csv, write_json

    molecule = library.resolve
    results: list[Classification] = []
    for f in formulations:
        results.append(classify_formulation(f, molecule, tables, settings, origin="table"))
    gs = grid_settings or GridSettings()
    computed = {r["name"] for r in tables.descriptors if r.get("kind") in ("solvent", "diluent")}
    table_keys = {(f.salt, tuple(sorted(f.components)), f.concentration_mol_per_L) for f in formulations}
    for g in make_grid(gs, library, computed or None):
        if (g.salt, tuple(sorted(g.components)), g.concentration_mol_per_L) in table_keys:
            continue  # the table already holds it (with its literature class)
        results.append(classify_formulation(g, molecule, tables, settings, origin="grid"))

    calibration = calibration_report(library, formulations, results, tables, settings)
    if out_csv:
        write_csv(out_csv, [c.row() for c in results], CLASSIFICATION_COLUMNS)
    if out_records:
        write_json(out_records, {"schema_version": SCHEMA_VERSION, "stage": "classification",
                                 "records": [c.record(settings).to_dict() for c in results]})
    if out_calibration:
        write_json(out_calibration, {"schema_version": SCHEMA_VERSION, **calibration})
    return {"classifications": results, "calibration": calibration}


def calibration_report(library, formulations: list, results: list[Classification], tables: ResultTables,
                       settings: ClassificationSettings) -> dict:
    """Accuracy on the calibration set (this run's thresholds), leave-one-out, held-out, refit."""
    by_id = {c.id: c for c in results}
    cal_forms = [f for f in formulations if f.id in settings.calibration_set and f.reported_class]
    held = [f for f in formulations if f.id not in settings.calibration_set and f.reported_class]
    cases, skipped = calibration_cases(cal_forms, library.resolve, tables, settings)
    loo, refit, refit_summary = {}, None, None
    usable = [c for c in cases if settings.diluent_metric in c.values and settings.weak_metric in c.values]
    if len(cases) >= 3:
        try:
            refit, refit_summary = calibrate(cases, settings)
            loo = {r["id"]: r for r in leave_one_out(cases, settings)}
        except SolvscreenError as exc:  # e.g. no metric available for every case
            skipped.append({"id": "(refit)", "reason": str(exc)})
    rows = []
    for set_name, forms in (("calibration", cal_forms), ("held-out", held)):
        for f in forms:
            cl = by_id[f.id]
            lo = loo.get(f.id, {})
            rows.append({"id": f.id, "set": set_name, "reported_class": f.reported_class, "label": cl.label,
                         "status": cl.status, "match": bool(cl.match), "scores": cl.scores,
                         "loo_label": lo.get("loo_label"), "loo_match": lo.get("loo_match"),
                         "explanation": explain_miss(cl) if not cl.match else cl.reasons[0]["text"]})

    def acc(sel, key="match"):
        return {"n": len(sel), "n_correct": sum(1 for r in sel if r.get(key))}

    cal_rows = [r for r in rows if r["set"] == "calibration"]
    summary = {
        "calibration": acc(cal_rows),
        "held_out": acc([r for r in rows if r["set"] == "held-out"]),
        "leave_one_out": acc([r for r in cal_rows if r.get("loo_label")], "loo_match") if loo else {"n": 0, "n_correct": 0},
        "refit": {"n": refit_summary["n_cases"], "n_correct": refit_summary["n_correct"]} if refit_summary else {"n": 0, "n_correct": 0},
    }
    if loo:
        summary["leave_one_out"]["n"] = len(cal_rows)  # an unusable case counts as a miss
    return {
        "thresholds": settings.thresholds(),
        "units": {"diluent_metric": settings.unit(settings.diluent_metric),
                  "weak_metric": settings.unit(settings.weak_metric)},
        "widths": {"kcal_per_mol": settings.width_energy_kcal_per_mol, "kcal_per_L": settings.width_density_kcal_per_L,
                   "concentration_mol_per_L": settings.width_concentration_mol_per_L,
                   "log_ratio": settings.width_log_ratio},
        "fit": list(settings.fit),
        "summary": summary,
        "refit_thresholds": refit.thresholds() if refit else None,
        "cases": rows,
        "skipped": skipped,
        "n_usable_for_this_runs_metrics": len(usable),
        "procedure": ("grid search over the thresholds in 'fit' (midpoints between calibration-set values), "
                      "maximising accuracy, ties broken by the mean log rule score of the literature class and "
                      "of its roles (diluent in the LHCEs only), then each threshold centred in its gap; "
                      "leave-one-out refits on all but one formulation"),
    }
