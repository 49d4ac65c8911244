"""Run until decided: the anion-CN interval of bracketing starts and the stop rule (pure numpy).

An MD run of a few hundred ps does not reach the equilibrium ion pairing of an ether
electrolyte (K-FSI contacts live hundreds of ps), so one trajectory's mean carries the
memory of its start. Two starts that approach equilibrium from opposite sides fix that:

* ``aggregated`` starts above any equilibrium anion CN per K+ (the ions packed together),
  ``dispersed`` starts at 0 (every K+ solvent-separated); each relaxes towards the same
  equilibrium value, so the mean of each over the latest window stays on its own side of
  it (for a monotonic relaxation) and the equilibrium value lies between them;
* per start: the mean anion CN per K+ over the last ``window`` fraction of its production
  frames, with a block standard error (``n_blocks`` blocks);
* the **interval** spanned by both starts: [min(mean - z SE), max(mean + z SE)]: it
  contains the equilibrium value up to the statistical error (z = 2: ~95 % per start).

After every chunk the interval is compared with the decision threshold (anion CN per K+
>= threshold: anion-rich; or, with a reference run of the same salt and concentration in a
conventional solvent, the CN *difference* interval [lo - ref_hi, hi - ref_lo] against the
excess threshold). The run stops:

* ``decided``: the interval lies wholly on one side of the threshold (after at least the
  minimum production);
* ``undecided``: the starts agree (their own intervals overlap: the memory of the starts is
  gone, what is left is statistics), and the interval shrunk as 1/sqrt(t) to the cap still
  contains the threshold around the current centre: more time cannot decide it. While the
  starts still disagree the centre says little, so the run goes on;
* ``cap``: the production reached the cap without a decision.

A reference run (no threshold of its own) stops ``decided`` when its interval half-width is
at most ``halfwidth`` (``precise``), else at the cap.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .speciation import block_average


@dataclass(frozen=True)
class StartEstimate:
    """One start's anion CN per K+ over the decision window."""

    kind: str
    seed: int
    mean: float
    err: float  # block standard error
    n_frames: int  # frames in the window
    first: float  # the mean of the first chunk's frames: where the start began

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Interval:
    lo: float
    hi: float

    @property
    def center(self) -> float:
        return 0.5 * (self.lo + self.hi)

    @property
    def halfwidth(self) -> float:
        return 0.5 * (self.hi - self.lo)

    def to_dict(self) -> dict:
        return {"lo": self.lo, "hi": self.hi}


def start_estimate(series, kind: str, seed: int, *, window: float = 0.5, n_blocks: int = 5,
                   first_frames: int = 1) -> StartEstimate:
    """Mean and block SE of the last ``window`` fraction of a per-frame CN series."""
    x = np.asarray(series, float)
    if x.size == 0:
        raise ValueError(f"start {kind}/{seed}: no production frames")
    k = max(1, int(round(window * x.size)))
    w = x[-k:]
    m, e = block_average(w, n_blocks)
    if not np.isfinite(e):
        e = float(np.std(w, ddof=1)) if w.size > 1 else float("inf")
    return StartEstimate(kind, seed, m, e, int(w.size), float(np.mean(x[:max(1, first_frames)])))


def bracket(estimates: list[StartEstimate], z: float = 2.0) -> Interval:
    """The interval spanned by the starts, each widened by ``z`` standard errors."""
    if len(estimates) < 2:
        raise ValueError("bracketing needs at least two starts")
    return Interval(min(e.mean - z * e.err for e in estimates), max(e.mean + z * e.err for e in estimates))


def difference(own: Interval, ref: Interval) -> Interval:
    """Interval of (own - reference) for two independent intervals."""
    return Interval(own.lo - ref.hi, own.hi - ref.lo)


@dataclass(frozen=True)
class StopDecision:
    stop: bool
    status: str  # running | decided | undecided | cap
    side: str | None  # above | below (of the threshold) when decided
    reason: str

    def to_dict(self) -> dict:
        return asdict(self)


def _fmt(x: float) -> str:
    return f"{x:.2f}"


def starts_agree(estimates: list[StartEstimate], z: float = 2.0) -> bool:
    """Whether every start's own interval (mean +- z SE) overlaps every other's."""
    return max(e.mean - z * e.err for e in estimates) <= min(e.mean + z * e.err for e in estimates)


def approaches(estimates: list[StartEstimate]) -> tuple[bool, bool]:
    """(some start came down to its window mean, some start came up to it): a start that began
    above its current mean approaches from above, one that began below from below."""
    return any(e.first >= e.mean for e in estimates), any(e.first <= e.mean for e in estimates)


def stop_decision(iv: Interval, threshold: float, t_ps: float, min_ps: float, cap_ps: float,
                  what: str = "anion CN per K+", *, agree: bool = False, fixed_halfwidth: float = 0.0,
                  from_above: bool = True, from_below: bool = True) -> StopDecision:
    """Stop or go on after ``t_ps`` of production per start (module docstring). ``agree``: the
    starts agree; ``fixed_halfwidth``: the part of the half-width that more time does not
    shrink (a finished reference run's); ``from_above``/``from_below``: a start approaches
    from that side (:func:`approaches`). A value wholly below the threshold is decided only
    when a start approaches from above (its upper end is then a bound, not a start that has
    not yet risen), and wholly above only when one approaches from below."""
    span = f"{what} in [{_fmt(iv.lo)}, {_fmt(iv.hi)}] after {t_ps:g} ps per start"
    if t_ps + 1e-9 < min_ps:
        return StopDecision(False, "running", None, f"{span}: below the minimum production {min_ps:g} ps")
    if iv.lo >= threshold and from_below:
        return StopDecision(True, "decided", "above", f"decided: {span}, wholly >= {threshold:g}")
    if iv.hi < threshold and from_above:
        return StopDecision(True, "decided", "below", f"decided: {span}, wholly < {threshold:g}")
    if (iv.lo >= threshold or iv.hi < threshold) and t_ps + 1e-9 < cap_ps:
        side = "below" if iv.lo >= threshold else "above"
        return StopDecision(False, "running", None, f"{span}: no start approaches from {side} yet: going on")
    if t_ps + 1e-9 >= cap_ps:
        return StopDecision(True, "cap", None, f"undecided at the cap: {span} contains {threshold:g}")
    projected = max(iv.halfwidth - fixed_halfwidth, 0.0) * np.sqrt(t_ps / cap_ps) + fixed_halfwidth
    if agree and abs(iv.center - threshold) < projected:
        return StopDecision(True, "undecided", None,
                            f"undecided: {span} contains {threshold:g}; the starts agree, and shrunk as 1/sqrt(t) "
                            f"to the cap {cap_ps:g} ps (half-width {_fmt(projected)} about {_fmt(iv.center)}) "
                            "it still would")
    return StopDecision(False, "running", None, f"{span} contains {threshold:g}: going on")


def reference_stop(iv: Interval, t_ps: float, min_ps: float, cap_ps: float, halfwidth: float | None
                   ) -> StopDecision:
    """Stop rule of a reference run: precise enough, or the cap; ``halfwidth`` None: at the
    minimum production (the bracketing interval as it is)."""
    span = f"anion CN per K+ in [{_fmt(iv.lo)}, {_fmt(iv.hi)}] after {t_ps:g} ps per start"
    if t_ps + 1e-9 < min_ps:
        return StopDecision(False, "running", None, f"{span}: below the minimum production {min_ps:g} ps")
    if halfwidth is None:
        return StopDecision(True, "decided", None, f"bounds: {span} (the preset's reference stops at its "
                                                   "minimum production; the interval bounds the reference value)")
    if iv.halfwidth <= halfwidth:
        return StopDecision(True, "decided", None, f"precise: {span}, half-width {_fmt(iv.halfwidth)} <= {halfwidth:g}")
    if t_ps + 1e-9 >= cap_ps:
        return StopDecision(True, "cap", None, f"at the cap: {span}, half-width {_fmt(iv.halfwidth)} > {halfwidth:g}")
    return StopDecision(False, "running", None, f"{span}: half-width {_fmt(iv.halfwidth)} > {halfwidth:g}")
