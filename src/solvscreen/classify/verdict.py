"""The one-line verdict of a classification: its label and confidence and the number that
decided it, or, for a label naming several classes, what is open and the step that would
decide it. At most :data:`MAX_WORDS` words, built only from the classification's own
:class:`~solvscreen.classify.result.Reason` fields (value, error, operator, threshold), so it
is true for the numbers it quotes: every reason it quotes satisfies :meth:`Reason.holds`.

Examples (the numbers are a run's)::

    HCE, high confidence: DGM 2.96 ± 0.41 donor atoms per salt < 6 (K+ shell) at 4 M ≥ 3 M
    LCE, high confidence: anion CN 0.62 ± 0.15 per K+ (MD) < 1
    LCE|WSE, low confidence: open, needs MD (anion CN per K+): anion-rich? DEE solvating power
        25.1 ± 1.2 vs 26.0 kcal/mol (weakest reference DME)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

#: The most words a verdict may have (the report's first screen shows it whole).
MAX_WORDS = 30

_SYM = {"<": "<", ">=": "≥", "<=": "≤", ">": ">", "in": "vs"}
_ANION_CN = ("anion_cn", "anion_cn_minus_reference")


@dataclass
class Verdict:
    """The verdict line and the reasons whose numbers it quotes."""

    text: str
    quoted: list = field(default_factory=list)

    def __str__(self) -> str:
        return self.text


def words(text: str) -> int:
    """Words as a reader counts them: whitespace-separated tokens."""
    return len(str(text or "").split())


def _fmt(v: float | None, nd: int) -> str:
    return "?" if v is None else f"{v:.{nd}f}"


def _name_of(reason) -> str:
    """The component a reason speaks of: a role's subject, or the ``NAME:`` its text starts with."""
    if reason.kind == "role":
        return reason.subject
    head = reason.text.split(":", 1)[0]
    return head if head and len(head.split()) == 1 else ""


def claim(reason, named: bool = True) -> str:
    """``what value ± err op threshold unit`` of one reason, in a few words (``named``: with
    the component's name in front, for the quantities of one component)."""
    q, v, e, t, op = reason.quantity, reason.value, reason.err or 0.0, reason.threshold, reason.op
    sym = _SYM.get(op, op)
    pm = lambda nd: f" ± {e:.{nd}f}" if e else ""  # noqa: E731
    if q == "anion_cn":
        return f"anion CN {_fmt(v, 2)}{pm(2)} per K+ (MD) {sym} {t:g}"
    if q == "anion_cn_minus_reference":
        ref = re.search(r"the reference (\S+) \(", reason.text)
        return (f"anion CN above {ref.group(1) + chr(39) + 's' if ref else 'its reference run'}"
                f" [{_fmt(v - e, 2)}, {_fmt(v + e, 2)}] per K+ (MD) {sym} {t:g}")
    if q == "donors_per_salt":
        who = reason.subject.removeprefix("donors per salt (").removesuffix(" solvating)")
        return f"{who} {_fmt(v, 2)}{pm(2)} donor atoms per salt {sym} {t:g} (K+ shell)"
    if q == "concentration_mol_per_L":
        return f"{v:g} M {sym} {t:g} M"
    if q == "solvating_power_kcal_per_mol":
        who = _name_of(reason)
        ref = re.search(r"the weakest reference, ([^;)]+)", reason.text)
        return (f"{who + ' ' if who else ''}solvating power {_fmt(v, 1)}{pm(1)} {sym} {t:.1f} kcal/mol "
                f"(weakest reference{' ' + ref.group(1) if ref else ''})")
    if q == "ddG_assoc_vs_reference_kcal_per_mol":
        who = _name_of(reason)
        ref = re.search(r"dG_assoc minus (\S+)'s", reason.text)
        return (f"{who + ' ' if who else ''}K+–anion ΔG_assoc minus {ref.group(1) if ref else 'the reference'}'s "
                f"[{_fmt(v - e, 2)}, {_fmt(v + e, 2)}] kcal/mol (MD PMF) {sym} {t:g}")
    who = reason.subject + " " if named else ""
    if q == "-E_bind_kcal_per_mol":
        return f"{who}−E_bind {_fmt(v, 1)}{pm(1)} {sym} {t:.1f} kcal/mol"
    if q == "shell_share_ratio":
        return f"{who}K+-shell/bulk share {_fmt(v, 2)}{pm(2)} (MD) {sym} {t:g}"
    if q == "donor atoms":
        return f"{reason.subject} has no donor atom"
    if q in ("volume_fraction", "solvating_volume_fraction"):
        who = reason.subject if reason.kind == "role" else "solvating components"
        return f"{who} volume fraction {_fmt(v, 3)} {sym} {t:g}"
    if v is not None and t is not None and op:
        return f"{reason.subject} {v:.3g}{pm(2)} {sym} {t:g} {reason.unit}".strip()
    return reason.subject


def _first(reasons, *, quantity=None, decided="any", kind=None):
    for r in reasons:
        if quantity is not None and (r.quantity not in quantity if isinstance(quantity, tuple) else r.quantity != quantity):
            continue
        if kind is not None and r.kind != kind:
            continue
        if decided != "any" and r.decided is not decided:
            continue
        return r
    return None


def _fit(head: str, parts: list[str], sep: str = "; ") -> str:
    """``head`` plus as many of ``parts`` (in order) as fit in :data:`MAX_WORDS` words."""
    out = head
    used = 0
    for p in parts:
        cand = out + (sep if used else "") + p
        if words(cand) > MAX_WORDS:
            break
        out, used = cand, used + 1
    return out


def _failed(cl) -> Verdict:
    sol = _first(cl.reasons, quantity="solvating_volume_fraction")
    if sol is not None:
        return Verdict(f"not classified: the salt would not dissolve ({claim(sol)})", [sol])
    why = (cl.failure_reason or "failed").strip()
    prefix = "cannot classify without binding energies:"
    if why.startswith(prefix):
        names = [p.split(":", 1)[0].strip() for p in why[len(prefix):].split(";") if p.strip()]
        why = "no binding energy for " + ", ".join(dict.fromkeys(names))
    text = "not classified: " + why
    if words(text) > MAX_WORDS:
        text = " ".join(text.split()[:MAX_WORDS - 1]) + " …"
    return Verdict(text)


def _anion_rich_reason(cl):
    """The reason that made the sheath anion-rich (or not) in a single-class label."""
    rs = cl.reasons
    rich = cl.classes[0] != "LCE"
    md = _first(rs, quantity=_ANION_CN, decided=rich)
    if md is not None:
        return md
    if cl.classes[0] in ("HCE", "LHCE"):
        few = _first(rs, quantity="donors_per_salt", decided=True)
        if few is not None:
            return few
    return _first(rs, quantity=("ddG_assoc_vs_reference_kcal_per_mol", "solvating_power_kcal_per_mol"), decided=rich)


def _decided(cl) -> Verdict:
    k = cl.classes[0]
    head = f"{k}, {cl.confidence} confidence: "
    quoted, parts = [], []
    r = _anion_rich_reason(cl)
    if r is not None:
        quoted.append(r)
        text = claim(r)
        if k == "HCE":
            # the HCE threshold (c >= its minimum), not a solubility comparison (c <= a reported one)
            c = next((x for x in cl.reasons if x.quantity == "concentration_mol_per_L" and x.decided is True
                      and x.op == ">="), None) or _first(cl.reasons, quantity="concentration_mol_per_L", decided=True)
            if c is not None:
                quoted.append(c)
                text += f" at {claim(c)}"
        parts.append(text)
    if k == "LHCE":
        dil = [x for x in cl.reasons if x.kind == "role" and x.decided is True]
        for d in dil:
            quoted.append(d)
            parts.append(claim(d) + ": a diluent")
    if not parts:
        parts.append("see the evidence")
    text = _fit(head, parts)
    return Verdict(text, [q for q in quoted if claim(q) in text])


def _step(cl) -> str:
    """The step that would decide, as the classifier's ``decide_by`` names it: MD where the
    formulation has no MD anion CN or no MD roles, else a longer run; DFT for GFN2-xTB roles."""
    f = cl.features or {}
    role_ev = f.get("role_evidence") or {}
    if f.get("anion_cn") is None or "md" not in role_ev.values():
        roles_open = any(r.decided is None for r in cl.reasons if r.kind == "role")
        step = "MD (anion CN, K+-shell shares)" if roles_open else "MD (anion CN per K+)"
    else:
        step = "a longer MD run or more seeds"
    if any(ev == "gfn2" for n, ev in role_ev.items() if n in (f.get("undecided") or [])):
        step += " or DFT binding"
    return step


def _open(cl) -> Verdict:
    head = f"{cl.label}, {cl.confidence} confidence: open, needs {_step(cl)}: "
    rs = cl.reasons
    quoted, parts = [], []
    und, seen = [], set()
    for r in rs:  # one open role reason per component (binding and solvating power may both be open)
        if r.kind == "role" and r.decided is None and r.subject not in seen:
            seen.add(r.subject)
            und.append(r)
    if len(und) == 1:
        quoted.append(und[0])
        parts.append(f"is {und[0].subject} a diluent? ({claim(und[0], named=False)})")
    elif und:
        names = ", ".join(r.subject for r in und)
        same = len({(r.quantity, r.err, r.threshold, r.op) for r in und}) == 1 and und[0].value is not None
        if same and und[0].quantity == "-E_bind_kcal_per_mol":
            vals = ", ".join(f"{r.value:.1f}" for r in und)
            parts.append(f"are {names} diluents? (−E_bind {vals} ± {und[0].err:.1f} vs {und[0].threshold:.1f} kcal/mol)")
        else:
            parts.append(f"are {names} diluents? (roles within their uncertainty)")
    md = _first(rs, quantity=_ANION_CN)
    if md is not None and md.decided is None:
        quoted.append(md)
        parts.append(claim(md))
    elif md is None and "whether the anion enters" in (cl.decide_by or ""):
        sp = _first(rs, quantity="solvating_power_kcal_per_mol", decided=None)
        if sp is not None:
            quoted.append(sp)
            parts.append("anion-rich? " + claim(sp))
        elif any(r.kind == "note" and r.subject == "blend" for r in rs):
            parts.append("anion-rich? 1:1 binding cannot rule out an antisolvent in this blend")
        elif _first(rs, quantity="solvating_power_kcal_per_mol") is None:
            parts.append("anion-rich? no solvating-power evidence")
        else:
            parts.append("anion-rich? too few donors per salt, solvating power says conventional")
    don = _first(rs, quantity="donors_per_salt", decided=None)
    if don is not None:
        quoted.append(don)
        parts.append(claim(don))
    if not parts:
        parts.append("see the evidence")
    text = _fit(head, parts)
    return Verdict(text, [q for q in quoted if claim(q) in text or claim(q, named=False) in text])


def verdict_of(cl) -> Verdict:
    """The verdict of a :class:`~solvscreen.classify.result.Classification`."""
    if not cl.ok:
        return _failed(cl)
    if not cl.classes:
        return Verdict("no class")
    return _decided(cl) if len(cl.classes) == 1 else _open(cl)
