"""Three-valued threshold decisions: ``passed``, ``failed`` or ``inconclusive``.

A point estimate above a threshold says little on five episodes: the interval around it
says how sure the run is. So a threshold on a metric with an interval is decided by the
whole interval: ``passed`` when all of it clears the threshold, ``failed`` when all of it
misses, ``inconclusive`` when it straddles the threshold. A threshold written on a bound
(``win_rate.lower>=0.5``), an ``==`` threshold, or one on a figure without an interval
(``mean_steps``, ``pass@k``, a ``min``/``max``/``sum`` metric, a mean of one episode) is
decided by its single number.

What an inconclusive threshold means for the gate is the user's choice (``Inconclusive``):
``estimate`` (the default: settled by the point estimate, as gates did before, so no
existing gate changes its exit code), ``fail``, ``pass``, or ``error`` (the run ends with
the exit code :data:`INCONCLUSIVE_EXIT`, apart from a pass and a fail).

The interval's level is the gate's (95% by default); the sequential rule of
:mod:`pytest_mesocosm.scoring.sequential` asks for wider ones as it looks more often.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import Literal

from pytest_mesocosm.scoring.estimators import Z95, wilson_interval
from pytest_mesocosm.scoring.metrics import MetricSummary

Decision = Literal["passed", "failed", "inconclusive"]
Inconclusive = Literal["estimate", "fail", "pass", "error"]
INCONCLUSIVE_MODES: tuple[str, ...] = ("estimate", "fail", "pass", "error")
INCONCLUSIVE_EXIT = 6  # neither pytest (0-5) nor the mesocosm CLI (0-5, 130) use it
DEFAULT_ALPHA = 0.05


def z_for(alpha: float) -> float:
    """The two-sided normal quantile of a ``1 - alpha`` interval (1.96 for 0.05)."""
    if math.isclose(alpha, DEFAULT_ALPHA):
        return Z95
    return NormalDist().inv_cdf(1 - alpha / 2)


@dataclass(frozen=True)
class Interval:
    """The interval a decision was made on, and its level."""

    lower: float
    upper: float
    confidence: float  # e.g. 0.95


def decision_interval(summary: MetricSummary, alpha: float) -> Interval | None:
    """The metric's interval at level ``1 - alpha``; None when it has none.

    At the default level it is the one the table shows. At another level: Wilson's for
    a pass rate, mean ± z·SE for a mean; a median keeps its 95% bootstrap interval
    (the sequential rule does not cover medians, as the README says).
    """
    lower, upper = summary.interval()
    if lower is None or upper is None or summary.value is None:
        return None
    if math.isclose(alpha, DEFAULT_ALPHA) or summary.aggregation == "median":
        return Interval(lower, upper, 1 - DEFAULT_ALPHA)
    z = z_for(alpha)
    if summary.aggregation == "pass_rate":
        low, high = wilson_interval(round(summary.value * summary.n), summary.n, z)
    elif summary.stderr is not None:
        low, high = summary.value - z * summary.stderr, summary.value + z * summary.stderr
    else:
        return None
    return Interval(low, high, 1 - alpha)


def decide(op: str, target: float, interval: Interval) -> Decision:
    """``passed`` if every value of the interval meets ``op target``, ``failed`` if none
    does, else ``inconclusive``. ``>=`` and ``>`` (and ``<=`` and ``<``) read alike on an
    interval: its ends are not values the metric is known to take."""
    if op in (">=", ">"):
        if interval.lower >= target:
            return "passed"
        return "failed" if interval.upper < target else "inconclusive"
    if op in ("<=", "<"):
        if interval.upper <= target:
            return "passed"
        return "failed" if interval.lower > target else "inconclusive"
    raise ValueError(f"no interval decision for operator {op!r}")


def settle(decision: Decision, estimate_passed: bool, mode: Inconclusive) -> bool:
    """Whether a threshold counts as held by the gate, once its decision is known."""
    if decision != "inconclusive":
        return decision == "passed"
    if mode == "estimate":
        return estimate_passed
    return mode == "pass"
