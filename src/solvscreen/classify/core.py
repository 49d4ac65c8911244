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
from dataclasses import dataclass, field
from typing import Callable

from ..inputs.composition import Composition, compose, ratio_label, salt_to_solvent_ratio, salt_volume_variants
from ..core.errors import InputError
from .evidence import BindingUncertainty, Evidence, md_value
from .md_anion import md_anion_predicate
from .pmf_evidence import pmf_decision, pmf_reason
from .rules import CLASSES, decide, known_failure, label_of
from .solubility import dissolution, too_little_solvent
from .solvating import anion_options, reference_band, solvating_decision, solvating_reason
from .result import Classification, ClassificationSettings, Reason, _band, _f
from .roles import Role, apply_diluent_check, descriptor_role, md_role, physical_diluent_check, prefsolv_role

# ----------------------------------------------------------------------------- one formulation
def _md_cmd(fid: str) -> str:
    return f"run the MD stage on it (--config md='{{formulations: [{fid}]}}')"


def classify_formulation(formulation, molecule: Callable, evidence: Evidence,
                         settings: ClassificationSettings = ClassificationSettings(), *,
                         diluent_bind_max: float | None = None, origin: str = "table",
                         known: tuple | list = ()) -> Classification:
    """Classify one formulation (library :class:`Formulation` or a grid formulation).

    ``molecule(name)`` is the library look-up; ``diluent_bind_max`` the diluent threshold
    (kcal/mol) when the settings say ``auto`` (the calibration fits it); ``known``: literature
    formulations that show where the salt dissolves (:func:`.solubility.reported_formulations`).
    Input errors raise; missing evidence gives a failed classification with the reason; a salt
    that may not dissolve gives no class (the reason says why).

    The steps, each a function of its own: :func:`component_roles` (with the physical diluent
    check), :func:`salt_dissolution`, :func:`anion_participation` (MD, and whether the solvating
    power may close the predicate), :func:`composition_outcomes` (every combination of undecided
    roles through :func:`rules.decide`) and :func:`decision` (label, confidence, what would decide).
    """
    s = settings
    d_max = diluent_bind_max if diluent_bind_max is not None else s.diluent_bind_max_kcal_per_mol
    if d_max == "auto" or d_max is None:
        raise InputError("classify_formulation: diluent_bind_max_kcal_per_mol is 'auto': pass the fitted value")
    cl, comp, alt, md_row = start_classification(formulation, molecule, evidence, s, origin)
    roles = component_roles(comp, cl.id, cl.cation, molecule, evidence, s, float(d_max), md_row, salt=cl.salt)
    if roles.missing:
        cl.status = "failed"
        cl.failure_reason = "cannot classify without binding energies: " + "; ".join(dict.fromkeys(roles.missing))
        return cl
    sol = salt_dissolution(cl, formulation, comp, roles, molecule, evidence, s, known)
    if sol is None:
        return cl
    anion = anion_participation(md_row, cl.id, cl.cation, roles, evidence, s)
    cl.assumptions.extend(anion.assumptions)
    dent = denticities(cl, comp, evidence)
    outcomes = composition_outcomes(comp, alt, roles.roles, dent, anion, evidence, cl.cation, cl.salt, s)
    if not outcomes.outcomes:
        cl.status = "failed"
        cl.failure_reason = ("no component coordinates K+ (" + ", ".join(r.reason.text for r in roles.roles) +
                             "): the salt would not dissolve")
        return cl
    return decision(cl, comp, roles, sol, anion, outcomes, dent, evidence)


@dataclass
class RoleStep:
    """Step 1: the role of every component on its own evidence, after the physical diluent check."""

    roles: list[Role]
    reasons: list[Reason]  # the roles' reasons, then the diluent check's
    checks: dict = field(default_factory=dict)  # name -> roles.DiluentCheck
    check_reasons: list[Reason] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # why a role could not be found (no classification)


@dataclass
class AnionStep:
    """Step 2: does the anion enter the K+ shell? The MD predicate (None: MD does not decide or
    is absent), and whether the solvating power may close the predicate for this blend."""

    md_anion: bool | None
    anion_cn: float | None
    anion_err: float
    band: object  # solvating.reference_band of the run's references
    blend_gfn2: bool  # roles of a blend rest on 1:1 GFN2-xTB binding: "conventional" is not trusted
    reasons: list[Reason]
    assumptions: list[str]


@dataclass
class CompositionStep:
    """Step 3: the class of every combination of undecided roles, with the composition's reasons."""

    outcomes: dict[str, list[str]]  # class -> the diluent sets that give it
    reasons: list[Reason]
    open_anion: bool  # did descriptors leave the anion predicate open?
    open_donors: bool  # ... or the donor count?
    anion_why: list[str]  # why the anion predicate stayed open, one phrase per cause
    pmf_decided: bool = False  # did the K+-anion PMF (pmf.csv) decide the weak-solvent predicate anywhere?


def start_classification(formulation, molecule: Callable, evidence: Evidence, s: ClassificationSettings,
                         origin: str) -> tuple[Classification, Composition, list[Composition], dict | None]:
    """The classification's identity, the composition (and its salt-density variants) and the MD row."""
    salt = molecule(formulation.salt)
    fid = formulation.id
    cl = Classification(
        id=fid, origin=origin, salt=salt.name, cation=getattr(salt, "cation", None), anion=getattr(salt, "anion", None),
        concentration_mol_per_L=float(formulation.concentration_mol_per_L),
        components=[(molecule(n).name, float(r)) for n, r in formulation.components],
        ratio_basis=getattr(formulation, "ratio_basis", "volume") or "volume",
        reported_class=getattr(formulation, "reported_class", None) or None,
        set=getattr(formulation, "set", None),
    )
    cs = s.composition
    comp = compose(formulation, molecule, cs)
    alt = salt_volume_variants(formulation, molecule, cs, salt)
    cl.composition = comp.to_dict()
    cl.assumptions = list(comp.assumptions)
    md_row = evidence.solvation_row(fid) if s.use_md else None
    if md_row is not None and (md_row.get("status") or "ok") != "ok":
        cl.assumptions.append(f"MD record of {fid} is {md_row.get('status')}: classified from descriptors")
        md_row = None
    return cl, comp, alt, md_row


def component_roles(comp: Composition, fid: str, cation: str, molecule: Callable, evidence: Evidence,
                    s: ClassificationSettings, d_max: float, md_row: dict | None, *, salt: str = "") -> RoleStep:
    """Step 1: each component's role on its own evidence: an additive by volume fraction, else
    from MD (shell vs bulk share) where the formulation's run has it, else from preferential
    solvation against another component of the blend (prefsolv.csv) where its interval clears
    the threshold, else from descriptors (binding energy, donor atoms); then the physical
    diluent check of a blend (:func:`.roles.physical_diluent_check`)."""
    # the thresholds this step applies, read once
    additive_max = s.min_component_volume_fraction
    share_ratio_max = s.md_diluent_shell_share_ratio_max
    uncertainty = BindingUncertainty(s.gfn2_uncertainty_kcal_per_mol, s.dft_uncertainty_kcal_per_mol)
    dielectric_min, references = s.salt_dissolution_dielectric_min, s.solvating_power_references
    roles: list[Role] = []
    missing, extra_notes = [], []
    for name in comp.names:
        a = comp.component(name)
        if len(comp.names) > 1 and a.volume_fraction < additive_max:
            roles.append(Role(name, False, Reason(
                "role", name, f"{name}: volume fraction {_f(a.volume_fraction, 3)} < "
                f"{additive_max:g}: an additive, not a diluent",
                quantity="volume_fraction", op="<", threshold=additive_max,
                value=a.volume_fraction, evidence="composition", decided=False), "composition"))
            continue
        role = None
        if md_row is not None:
            crow = evidence.coordination_row(fid, name, molecule)
            role = md_role(name, crow, share_ratio_max, evidence.canonical_smiles(name)) if crow else None
        pref_note = None
        if role is None and len(comp.names) > 1:
            prow = evidence.prefsolv_row(name, [n for n in comp.names if n != name], salt)
            role = prefsolv_role(name, prow, share_ratio_max, evidence.canonical_smiles(name)) if prow else None
            if role is not None and role.diluent is None:  # measured, not resolved: a note; binding decides
                pref_note, role = role.reason, None
        if role is None:
            b = evidence.binding(name, cation, uncertainty)
            r = descriptor_role(name, evidence.donor_free(name), b, d_max,
                                donors=evidence.binding_donors(name, cation))
            if isinstance(r, str):
                missing.append(r)
                continue
            role = r
            if pref_note is not None:
                extra_notes.append(Reason("note", name, pref_note.text + " (its binding energy is used instead)",
                                          evidence="md-prefsolv"))
        roles.append(role)
    if missing:
        return RoleStep([], [], missing=missing)
    checks = physical_diluent_check(roles, molecule, evidence, cation, dielectric_min, references)
    role_reasons = [r.reason for r in roles] + extra_notes
    roles, check_reasons = apply_diluent_check(roles, checks)
    return RoleStep(roles, role_reasons + check_reasons, checks, check_reasons)


def salt_dissolution(cl: Classification, formulation, comp: Composition, roles: RoleStep, molecule: Callable,
                     evidence: Evidence, s: ClassificationSettings, known) -> dict | None:
    """Can the salt dissolve at all (enough solvating liquid; a polar enough solvent or a reported
    formulation)? The :func:`.solubility.dissolution` verdict, or None after marking ``cl`` failed."""
    if (undissolved := too_little_solvent(comp, roles.roles, s.min_solvating_volume_fraction)) is not None:
        cl.status, cl.failure_reason = "failed", undissolved["text"]
        cl.reasons = roles.reasons + [Reason(**undissolved)]
        return None
    sol = dissolution(formulation, comp, roles.roles, molecule, evidence, s.salt_dissolution_dielectric_min,
                      s.hce_min_concentration_mol_per_L, known)
    if sol["state"] == "unlikely":
        cl.status, cl.failure_reason = "failed", sol["reason"]["text"]
        cl.decide_by = sol["decide"]
        cl.reasons = roles.reasons + [Reason(**sol["reason"])]
        return None
    return sol


def anion_participation(md_row: dict | None, fid: str, cation: str, roles: RoleStep, evidence: Evidence,
                        s: ClassificationSettings) -> AnionStep:
    """Step 2: the anion-rich predicate from MD (:func:`.md_anion.md_anion_predicate`) where the run
    has it; and whether a blend's solvating power may close it without MD (not when its roles
    rest on 1:1 GFN2-xTB binding, unless every component is a pi-donor or conventional solvent)."""
    anion_cn, anion_err = md_value(md_row, "anion_cn") if md_row is not None else (None, 0.0)
    reasons: list[Reason] = []
    assumptions: list[str] = []
    md_anion = None
    pred = md_anion_predicate(md_row, s, Reason) if md_row is not None else None
    if pred is not None:
        md_anion = pred[0]
        reasons.append(pred[1])
        if md_anion is None:  # an MD value that does not decide adds nothing: the descriptors decide as without it
            reasons.append(Reason("note", "md_undecided", "MD leaves the anion predicate open, so composition and "
                                  "solvating power decide it, as without MD (their reasons below)"))
    elif md_row is not None:
        assumptions.append(f"MD record of {fid} has no anion_cn: anion-richness from composition only")
    band = reference_band(evidence.tables, cation, s.solvating_power_references)
    rs, checks = roles.roles, roles.checks
    blend_gfn2 = len([r for r in rs if r.evidence != "composition"]) > 1 and any(
        r.evidence in ("gfn2", "calibrated_gfn2") for r in rs)
    if blend_gfn2 and checks and all(c.firm for c in checks.values()):
        # each component is a pi-donor or a conventional solvent on its own: none can be an
        # unrecognized antisolvent (a comparison of solvating powers alone is not enough: GFN2-xTB
        # values, e.g. DBE's, are themselves what fails there)
        blend_gfn2 = False
        shown = {r.subject for r in roles.check_reasons}
        reasons.extend(r for n, chk in checks.items() if n not in shown for r in chk.reasons)
        reasons.append(Reason("note", "blend", "a blend of solvents: every component is a pi-donor solvent or a "
                              f"conventional solvent on its own ({', '.join(checks)}; see their reasons), so the "
                              "solvating power decides the anion predicate as for one solvent"))
    if blend_gfn2:
        reasons.append(Reason("note", "blend", "a blend whose roles rest on 1:1 GFN2-xTB binding: a solvating power "
                              "at or above the references' does not close the anion predicate (1:1 binding does not "
                              "recognize non-fluorinated antisolvents such as DBE or 1,4-dioxane as diluents)"))
    return AnionStep(md_anion, anion_cn, anion_err, band, blend_gfn2, reasons, assumptions)


def denticities(cl: Classification, comp: Composition, evidence: Evidence) -> dict[str, int]:
    """Denticity of each component's 1:1 complex (binding.csv); 1 with an assumption when absent."""
    dent = {}
    for name in comp.names:
        d = evidence.denticity(name, cl.cation)
        if d is None:
            d = 1
            cl.assumptions.append(f"no 1:1 binding mode of {name}: counted as monodentate")
        dent[name] = d
    return dent


def composition_outcomes(comp: Composition, alt: list[Composition], roles: list[Role], dent: dict,
                         anion: AnionStep, evidence: Evidence, cation: str, salt: str,
                         s: ClassificationSettings) -> CompositionStep:
    """Step 3: follow every combination of the undecided roles: the solvent donor atoms per salt
    against the K+ coordination number, the HCE concentration, and (without a deciding MD value)
    the solvating power relative to the references give the anion options; each combination's
    class is :func:`rules.decide` of the three predicates."""
    c = comp.concentration_mol_per_L
    undecided = [r.name for r in roles if r.diluent is None]
    fixed_dil = [r.name for r in roles if r.diluent is True]
    outcomes: dict[str, list[str]] = {}
    comp_reasons: dict[tuple, list[Reason]] = {}
    sp_decisions: dict[tuple, tuple] = {}
    pmf_decided = False  # did the K+-anion PMF (pmf.csv) decide the weak-solvent predicate anywhere?
    all_dil_skipped = False
    open_anion = open_donors = False
    anion_why: list[str] = []
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
            fluorinated = frozenset(n for n in solv if evidence.has_C_F(n))
            sp_decisions[key] = solvating_decision(evidence.tables, solv, cation, anion.band, fluorinated)
            pmf = pmf_decision(evidence.pmf, solv, salt, s.pmf_weak_ddg_max_kcal_per_mol,
                               s.pmf_outer_mean_force_max_kcal_per_mol_A)
            r = solvating_reason(sp_decisions[key], anion.band, Reason)
            if pmf[0] is not None:  # a resolved K+-anion PMF decides instead of the GFN2-xTB solvating power
                sp_decisions[key], r = (pmf[0], pmf[1], 0.0, pmf[2]), None
                pmf_decided = True
            for x in (r, pmf_reason(pmf, Reason, s.pmf_weak_ddg_max_kcal_per_mol)):
                if x is not None:
                    comp_reasons[key].append(x)
        for few in x_options:
            hce = hce_c and few and not dil
            if anion.md_anion is not None:
                rich_options = [anion.md_anion]
            else:  # no MD, or MD that does not decide: composition and solvating power (classify.solvating)
                weak = sp_decisions[key][0]
                overridden = weak is False and anion.blend_gfn2
                if overridden:  # an unrecognized antisolvent could still be a diluent
                    weak = None
                rich_options, opened = anion_options(few, hce, bool(dil), weak)
                open_anion = open_anion or opened
                why = _anion_open_why(sp_decisions[key], few, overridden) if opened else ""
                if why and why not in anion_why:
                    anion_why.append(why)
            for rich in rich_options:
                k = decide(rich, bool(dil), hce)
                outcomes.setdefault(k, []).append("+".join(dil) or "no diluent")
    reasons = [r for rs in comp_reasons.values() for r in rs]
    if all_dil_skipped:
        reasons.append(Reason("note", "solubility", "the case in which every component is a diluent is excluded: "
                                                    "some component must dissolve the salt"))
    return CompositionStep(outcomes, reasons, open_anion, open_donors, anion_why, pmf_decided)


def decision(cl: Classification, comp: Composition, roles: RoleStep, sol: dict, anion: AnionStep,
             outcomes: CompositionStep, dent: dict, evidence: Evidence) -> Classification:
    """Step 4: the label (every class the combinations reach), its confidence, the features and
    role table, what evidence would decide an open label, and the reasons in order."""
    rs = roles.roles
    fid, anion_cn = cl.id, anion.anion_cn
    undecided = [r.name for r in rs if r.diluent is None]
    fixed_dil = [r.name for r in rs if r.diluent is True]
    classes = [k for k in CLASSES if k in outcomes.outcomes]
    cl.classes = classes
    cl.label = label_of(classes)
    # a class on a salt that may not reach this concentration is never confident (solubility.dissolution)
    cl.confidence = "high" if len(classes) == 1 and sol["state"] != "unverified" else "low"
    cl.evidence = "md" if anion_cn is not None else ("md-pmf" if outcomes.pmf_decided else (
        "md-prefsolv" if any(r.evidence == "md-prefsolv" for r in rs) else "descriptors"))
    solv0 = [n for n in comp.names if n not in fixed_dil] or comp.names
    x0 = 1.0 / salt_to_solvent_ratio(comp, solv0)
    donors0 = donors_per_salt(comp, solv0, dent)
    cl.features = {
        "concentration_mol_per_L": comp.concentration_mol_per_L, "diluents": fixed_dil, "undecided": undecided,
        "solvating": [r.name for r in rs if r.diluent is False],
        "x_local": x0, "x_all": 1.0 / comp.salt_to_all_solvent, "donors_per_salt": donors0, "denticity": dent,
        "anion_cn": anion_cn, "anion_cn_err": anion.anion_err if anion_cn is not None else None,
        "md_anion": anion.md_anion,
        "role_evidence": {r.name: r.evidence for r in rs}, "solubility": sol["state"],
        "binding_evidence": {r.name: r.reason.evidence for r in rs if r.reason.quantity == "-E_bind_kcal_per_mol"},
    }
    cl.roles = [{"name": r.name, "role": r.text, "evidence": r.evidence,
                 "volume_fraction": comp.component(r.name).volume_fraction,
                 "solvent_per_salt": comp.component(r.name).solvent_per_salt,
                 "value": r.reason.value, "threshold": r.reason.threshold, "err": r.reason.err,
                 "quantity": r.reason.quantity} for r in rs]
    if len(classes) > 1:
        cl.decide_by = _open_decide_by(fid, rs, anion_cn, outcomes, evidence)
    if sol["state"] == "unverified":
        cl.decide_by = "; ".join(x for x in (cl.decide_by, sol["decide"]) if x)
    reasons = roles.reasons + [Reason(**sol["reason"])] + anion.reasons + outcomes.reasons
    cl.reasons = [_label_reason(cl, outcomes.outcomes)] + reasons
    if cl.evidence == "md" and any(r.evidence != "md" for r in rs if r.evidence != "composition"):
        cl.assumptions.append("some component roles from descriptors: no MD coordination row for "
                              + ", ".join(r.name for r in rs if r.evidence not in ("md", "composition")))
    return cl


def _open_decide_by(fid: str, rs: list[Role], anion_cn, outcomes: CompositionStep, evidence: Evidence) -> str:
    """What would decide a label that names more than one class."""
    decide_by = []
    undecided = [r.name for r in rs if r.diluent is None]
    if undecided:
        ev = {r.name: r.evidence for r in rs if r.diluent is None}
        who = undecided[0] if len(undecided) == 1 else "each of " + ", ".join(undecided)
        why = "its binding energy does not decide: see its role reason"
        if "md" in ev.values():
            why = "its MD shell share is within its error of the diluent threshold"
            failing = [n for n in undecided if known_failure(evidence.canonical_smiles(n), "md")]
            if failing:
                why = (f"MD is known to misplace {', '.join(failing)} in the K+ shell (see the role reason): "
                       "a model that reproduces its weak coordination, or an experiment")
        decide_by.append(f"whether {who} stays out of the K+ shell ({why})")
    if outcomes.open_donors and anion_cn is None:
        decide_by.append("whether the solvent donor atoms per salt fill the K+ shell (within the "
                         "salt-density uncertainty of the K+ coordination number)")
    if outcomes.open_anion:
        decide_by.append("whether the anion enters the K+ shell at this composition ("
                         + "; ".join(outcomes.anion_why) + ": see the solvating-power reason"
                         + ("; and the MD anion CN per K+ is within its uncertainty of its threshold"
                            if anion_cn is not None else "") + ")")
    text = "open: needs MD to decide " + "; ".join(decide_by) + ": " + (
        _md_cmd(fid) if anion_cn is None or "md" not in {r.evidence for r in rs}
        else "a longer MD run or more seeds")
    if any(r.evidence == "gfn2" for r in rs if r.diluent is None):
        text += ", or DFT binding energies (the dft stage)"
    return text


def _anion_open_why(decision: tuple, few: bool, blend_override: bool) -> str:
    """Why the solvating-power evidence leaves the anion predicate open, in one phrase with its
    numbers (the decision is :func:`solvscreen.classify.solvating.solvating_decision`'s)."""
    weak, best, u, text = decision
    if blend_override:
        return (f"{best.name}'s solvating power says conventional, but the blend's roles rest on 1:1 GFN2-xTB "
                "binding, which does not recognize non-fluorinated antisolvents as diluents")
    if best is None:
        return text  # no reference, or no solvating power for a component
    if weak is None and "fluorinated" in text:
        return (f"{best.name}'s solvating power {best.value:.1f} kcal/mol is at or above the weakest reference's, "
                f"but {best.name} is fluorinated and GFN2-xTB does not weaken K+ binding by fluorination")
    if weak is None:
        return (f"{best.name}'s solvating power {best.value:.1f} ± {u:.1f} kcal/mol is within its uncertainty "
                "of the weakest reference's")
    if few and weak is False:
        return (f"too few solvent donor atoms per salt to fill the K+ shell, while {best.name}'s solvating power "
                "says conventional")
    return text


def donors_per_salt(comp: Composition, solv: list[str], dent: dict) -> float:
    """Solvent donor atoms per salt: sum of (molecules per salt) x (1:1 denticity) over ``solv``."""
    return sum(comp.component(n).solvent_per_salt * dent[n] for n in solv)


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
    md_open = cl.evidence == "md" and cl.features.get("md_anion") is None
    head = (f"{cl.label} ({cl.evidence} evidence{', anion predicate from descriptors' if md_open else ''}, "
            f"confidence {cl.confidence})")
    text = head + ": " + "; ".join(parts)
    if cl.decide_by.startswith("open: "):
        text += f". Open: {cl.decide_by[6:]}"
    elif cl.decide_by:
        text += f". Would decide: {cl.decide_by}"
    return Reason("label", cl.label, text)
