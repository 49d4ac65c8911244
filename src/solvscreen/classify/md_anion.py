"""The anion-rich predicate from MD evidence (one solvation.csv row).

Two kinds of MD row:

* a **run-until-decided** row (screening and production presets: ``judged_lo``/``judged_hi``
  present): the interval that bracketing starts give, judged either against the absolute
  threshold (``criterion = absolute``: anion CN per K+ vs ``md_anion_cn_min``) or against a
  reference run of the same salt and concentration in a conventional solvent (``criterion
  = reference``: the CN difference vs ``md_reference_anion_cn_excess_min``, in which the
  force field's common ion-pairing bias cancels);
* a **fixed-length** row (smoke preset, or overrides): one value with its block error and
  the measured seed spread of a short or long run against ``md_anion_cn_min``.
"""

from __future__ import annotations

from .evidence import md_value

_WHAT = {True: "anion-rich sheath", False: "solvent-separated sheath", None: "anion-richness undecided"}


def _band(lo: float, hi: float, thr: float) -> str:
    if hi < thr:
        return "<"
    if lo >= thr:
        return ">="
    return "in"


def md_anion_predicate(md_row: dict, s, reason_cls) -> tuple[bool | None, object] | None:
    """(decided value or None, Reason) of the anion-rich predicate; None without an anion CN."""
    anion_cn, anion_err = md_value(md_row, "anion_cn")
    if anion_cn is None:
        return None
    lo, hi = md_value(md_row, "judged_lo")[0], md_value(md_row, "judged_hi")[0]
    if lo is not None and hi is not None:
        return _decided_row(md_row, anion_cn, lo, hi, s, reason_cls)
    ns = md_value(md_row, "ns_production")[0]
    short = ns is not None and ns < s.md_short_run_max_ns
    spread = s.md_anion_cn_seed_spread_short if short else s.md_anion_cn_seed_spread
    u = max(anion_err, spread)
    op = _band(anion_cn - u, anion_cn + u, s.md_anion_cn_min)
    dec = {"<": False, ">=": True, "in": None}[op]
    extra = ""
    ssip, cip, agg = (md_value(md_row, k)[0] for k in ("ssip_fraction", "cip_fraction", "agg_fraction"))
    if None not in (ssip, cip, agg):
        extra = f"; SSIP/CIP/AGG {ssip:.2f}/{cip:.2f}/{agg:.2f}"
    sym = {"<": "<", ">=": ">=", "in": "within its uncertainty of"}[op]
    return dec, reason_cls(
        "predicate", "anion-rich sheath",
        f"anion CN per K+ {anion_cn:.2f} ± {u:.2f} (MD, block error and the seed spread of "
        f"{'a short run' if short else 'a long run'}{extra}) {sym} {s.md_anion_cn_min:g}: {_WHAT[dec]}",
        quantity="anion_cn", op=op, threshold=s.md_anion_cn_min, value=anion_cn, err=u, unit="anions per K+",
        evidence="md", decided=dec)


def _decided_row(row: dict, anion_cn: float, lo: float, hi: float, s, reason_cls):
    crit = (row.get("criterion") or "absolute").strip()
    status = (row.get("stop_status") or "").strip()
    ns = md_value(row, "ns_per_start")[0]
    runs = f"{row.get('starts') or 'bracketing starts'}, {ns:g} ns each" if ns is not None else "bracketing starts"
    if crit == "reference":
        thr = s.md_reference_anion_cn_excess_min
        rlo, rhi = md_value(row, "reference_anion_cn_lo")[0], md_value(row, "reference_anion_cn_hi")[0]
        quantity, unit = "anion_cn_minus_reference", "anions per K+"
        head = (f"anion CN per K+ minus that of the reference {row.get('reference_formulation')} "
                f"(same salt and concentration in a conventional solvent, same protocol): "
                f"[{lo:.2f}, {hi:.2f}] (own [{md_value(row, 'anion_cn_lo')[0]:.2f}, "
                f"{md_value(row, 'anion_cn_hi')[0]:.2f}], reference [{rlo:.2f}, {rhi:.2f}]; MD, {runs}, {status})")
    else:
        thr = s.md_anion_cn_min
        quantity, unit = "anion_cn", "anions per K+"
        head = f"anion CN per K+ in [{lo:.2f}, {hi:.2f}] (MD, absolute threshold, {runs}, {status})"
    op = _band(lo, hi, thr)
    dec = {"<": False, ">=": True, "in": None}[op]
    sym = {"<": "wholly <", ">=": "wholly >=", "in": "contains"}[op]
    text = f"{head} {sym} {thr:g}: {_WHAT[dec]}"
    if op == "in":
        text = f"{head}: the interval {sym} {thr:g}: {_WHAT[dec]}"
    return dec, reason_cls("predicate", "anion-rich sheath", text, quantity=quantity, op=op, threshold=thr,
                           value=0.5 * (lo + hi), err=0.5 * (hi - lo), unit=unit, evidence="md", decided=dec)
