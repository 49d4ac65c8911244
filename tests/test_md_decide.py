"""The run-until-decided rule (solvscreen.md.decide) on its own: intervals, stop statuses, and
synthetic relaxations from both sides of an equilibrium value."""

from __future__ import annotations

import numpy as np
import pytest

from solvscreen.md.decide import (
    Interval,
    bracket,
    difference,
    reference_stop,
    approaches,
    start_estimate,
    starts_agree,
    stop_decision,
)


def test_the_estimate_reads_the_last_window_and_the_interval_spans_both_starts():
    series = [5.0] * 50 + [1.0, 1.2] * 25  # the start's memory in the first half is left out
    e = start_estimate(series, "aggregated", 1, window=0.5, n_blocks=5, first_frames=10)
    assert e.mean == pytest.approx(1.1) and e.n_frames == 50 and e.first == 5.0 and e.err < 0.05
    d = start_estimate([0.2, 0.4] * 50, "dispersed", 1)
    iv = bracket([e, d], z=2.0)
    assert iv.lo == pytest.approx(d.mean - 2 * d.err) and iv.hi == pytest.approx(e.mean + 2 * e.err)
    assert difference(Interval(1.0, 2.0), Interval(0.3, 0.5)) == Interval(0.5, 1.7)
    with pytest.raises(ValueError):
        bracket([e])


def test_stop_statuses():
    assert stop_decision(Interval(1.1, 1.5), 1.0, 50, 100, 1000).status == "running"  # before the minimum
    d = stop_decision(Interval(1.1, 1.5), 1.0, 100, 100, 1000)
    assert (d.stop, d.status, d.side) == (True, "decided", "above") and "1.10" in d.reason
    assert stop_decision(Interval(0.2, 0.9), 1.0, 100, 100, 1000).side == "below"
    # wholly below, but no start came down to it (both still rising): not a bound yet
    assert stop_decision(Interval(0.2, 0.9), 1.0, 100, 100, 1000, from_above=False).status == "running"
    # straddles the threshold far from it: an optimistic 1/t shrinkage could still clear it
    assert stop_decision(Interval(0.2, 1.4), 1.0, 100, 100, 1000).status == "running"
    # straddles it near the centre late in the run, starts agreeing: cannot clear it before the cap
    d = stop_decision(Interval(0.8, 1.3), 1.0, 800, 100, 1000, agree=True)
    assert (d.stop, d.status, d.side) == (True, "undecided", None)
    # ... but while the starts still disagree the centre means little: go on
    assert stop_decision(Interval(0.8, 1.3), 1.0, 800, 100, 1000, agree=False).status == "running"
    a, b = start_estimate([1.0, 1.1] * 20, "a", 1), start_estimate([2.0, 2.1] * 20, "d", 1)
    assert starts_agree([a, a]) and not starts_agree([a, b])
    assert approaches([start_estimate([3.0] * 10 + [1.0] * 10, "aggregated", 1, first_frames=5)]) == (True, False)
    assert stop_decision(Interval(0.2, 1.4), 1.0, 1000, 100, 1000).status == "cap"
    assert reference_stop(Interval(0.5, 0.7), 100, 100, 1000, 0.15).status == "decided"
    assert reference_stop(Interval(0.3, 0.9), 100, 100, 1000, 0.15).status == "running"
    assert reference_stop(Interval(0.3, 0.9), 1000, 100, 1000, 0.15).status == "cap"
    assert reference_stop(Interval(0.3, 2.9), 100, 100, 1000, None).status == "decided"


def _relax(start, eq, tau_ps, t_ps, dt_ps, rng, noise=0.3):
    t = np.arange(dt_ps, t_ps + 1e-9, dt_ps)
    return eq + (start - eq) * np.exp(-t / tau_ps) + noise * rng.standard_normal(t.size)


@pytest.mark.parametrize("eq,threshold,expect", [(1.6, 1.0, "above"), (0.4, 1.0, "below"), (1.0, 1.0, None),
                                                  (1.3, 1.0, "above"), (0.7, 1.0, "below")])
def test_bracketing_relaxations_stop_on_the_right_side_or_not_at_all(eq, threshold, expect):
    """Two starts relax to the same value from 3 anions per K+ and from 0 (tau 80 ps, per-frame
    noise 0.3); chunks of 50 ps; the rule must never decide the wrong side, and must decide a
    clear case well before the cap."""
    rng = np.random.default_rng(7)
    cap, chunk, dt = 1000.0, 50.0, 1.0
    agg, dis = _relax(3.0, eq, 80, cap, dt, rng), _relax(0.0, eq, 80, cap, dt, rng)
    t = chunk
    while True:
        n = int(t / dt)
        est = [start_estimate(agg[:n], "aggregated", 1), start_estimate(dis[:n], "dispersed", 1)]
        above, below = approaches(est)
        d = stop_decision(bracket(est), threshold, t, 100, cap, agree=starts_agree(est), from_above=above,
                          from_below=below)
        if d.stop:
            break
        t += chunk
    assert d.side == expect, d.reason
    if expect is not None:
        assert t <= 400, d.reason
    else:
        assert d.status in ("undecided", "cap")
