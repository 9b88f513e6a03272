"""Pass thresholds and the gate that turns run metrics into a yes/no for CI.

A threshold is ``NAME[.lower|.upper] OP NUMBER`` with OP one of ``>= > <= < ==``:
``win_rate>=0.6`` checks the aggregate, ``win_rate.lower>=0.5`` the lower end of its
95% interval (so a lucky small sample does not pass). NAME is a scoring metric, a
built-in extra (``mean_steps``, ``invalid_action_rate``, ``total_cost``, ...) or
``pass@K`` / ``pass^K`` from repeated seeds.

A threshold on a metric with an interval is also decided on the interval (``passed``,
``failed`` or ``inconclusive``, see :mod:`pytest_mesocosm.scoring.decide`); the gate's
``inconclusive`` mode says what an undecided one counts as.

The gate also fails when more episodes ended in ``env_error``/``model_error`` than
allowed, when a thresholded figure has no value, and when nothing could be scored:
an unscored run never passes.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from pytest_mesocosm.errors import ScoringError
from pytest_mesocosm.scoring.decide import (
    DEFAULT_ALPHA,
    Decision,
    Inconclusive,
    decide,
    decision_interval,
    settle,
)
from pytest_mesocosm.scoring.metrics import EXTRA_NAMES, RunMetrics

SYNTAX = (
    "expected NAME[.lower|.upper] OP NUMBER with OP one of >=, >, <=, <, == "
    "(e.g. 'win_rate>=0.6', 'win_rate.lower>=0.5', 'invalid_action_rate<=0.1')"
)
_PATTERN = re.compile(
    r"^\s*(?P<name>[A-Za-z_][\w\-]*(?:[@^]\d+)?)(?:\.(?P<bound>value|lower|upper))?"
    r"\s*(?P<op>>=|<=|==|>|<)\s*(?P<value>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$"
)
_PASS_K = re.compile(r"^pass[@^](?P<k>\d+)$")


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


OPERATORS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
    "==": _close,
}


class ThresholdError(ScoringError, ValueError):
    """A threshold string is malformed or names no metric (a user mistake)."""


@dataclass(frozen=True)
class Threshold:
    """One parsed threshold; ``text`` is how it is shown back to the user."""

    metric: str
    bound: str  # "value" | "lower" | "upper"
    op: str
    value: float

    @property
    def subject(self) -> str:
        """What is checked: ``win_rate`` or ``win_rate.lower``."""
        return self.metric if self.bound == "value" else f"{self.metric}.{self.bound}"

    @property
    def text(self) -> str:
        return f"{self.subject}{self.op}{self.value:g}"


def _is_pass_k(name: str) -> bool:
    match = _PASS_K.match(name)
    return match is not None and int(match.group("k")) >= 1


def parse_threshold(text: str, names: Iterable[str] | None = None) -> Threshold:
    """Parse ``"win_rate.lower>=0.5"``; with ``names`` (the scoring's metric names) check
    that the metric exists. Raise ThresholdError with the accepted syntax otherwise."""
    metrics = list(names) if names is not None else None
    listing = (
        f"; names: {', '.join([*metrics, *EXTRA_NAMES])}, pass@K, pass^K"
        if metrics is not None else ""
    )
    match = _PATTERN.match(text)
    if not match:
        raise ThresholdError(f"cannot read threshold {text!r}: {SYNTAX}{listing}")
    name, bound = match.group("name"), match.group("bound") or "value"
    builtin = name in EXTRA_NAMES or _is_pass_k(name)
    if metrics is not None and name not in metrics and not builtin:
        raise ThresholdError(f"threshold {text!r} names no metric {name!r}{listing}")
    if bound != "value" and builtin and (metrics is None or name not in metrics):
        raise ThresholdError(
            f"threshold {text!r}: {name} has no interval; drop '.{bound}' "
            "(intervals exist for scoring metrics only)"
        )
    return Threshold(name, bound, match.group("op"), float(match.group("value")))


def parse_thresholds(texts: Iterable[str], names: Iterable[str] | None = None) -> list[Threshold]:
    """Parse several thresholds at once (flags, ini lines, the manifest's extension key)."""
    metrics = list(names) if names is not None else None
    return [parse_threshold(t, metrics) for t in texts]


def actual_value(metrics: RunMetrics, threshold: Threshold) -> float | None:
    """The figure a threshold is checked against; ``None`` when it has no value."""
    name = threshold.metric
    if name in metrics.metrics:
        summary = metrics.metrics[name]
        if threshold.bound == "value":
            return summary.value
        lower, upper = summary.interval()
        return lower if threshold.bound == "lower" else upper
    if name in EXTRA_NAMES:
        return metrics.extras.get(name)
    match = _PASS_K.match(name)
    if match:
        table = metrics.pass_at_k if "@" in name else metrics.pass_hat_k
        return table.get(int(match.group("k")))
    known = ", ".join([*metrics.metrics, *EXTRA_NAMES])
    raise ThresholdError(
        f"threshold {threshold.text!r} names no metric {name!r}; names: {known}, pass@K, pass^K"
    )


@dataclass(frozen=True)
class CheckResult:
    """One threshold checked: the text, the figure found, the three-valued decision (and
    the interval it was made on, if any) and whether the gate counts it as held."""

    threshold: str
    metric: str
    actual: float | None
    passed: bool
    decision: Decision = "failed"
    lower: float | None = None
    upper: float | None = None
    confidence: float | None = None

    def describe(self) -> str:
        """``win_rate>=0.6 inconclusive: 0.7 in [0.397, 0.892] (95%)``."""
        shown = "-" if self.actual is None else f"{self.actual:.3g}"
        if self.lower is None or self.upper is None or self.confidence is None:
            return f"{self.threshold} {self.decision}: {shown}"
        return (f"{self.threshold} {self.decision}: {shown} in [{self.lower:.3f}, "
                f"{self.upper:.3f}] ({self.confidence * 100:.4g}%)")


@dataclass
class GateResult:
    """The gate's verdict, each check, and a one-line reason per failure.

    ``decision`` is ``inconclusive`` only in the ``error`` mode with nothing else failed;
    ``inconclusive`` lists every undecided threshold, whatever the mode made of it.
    """

    passed: bool
    checks: list[CheckResult] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    decision: Decision = "failed"
    inconclusive: list[str] = field(default_factory=list)
    mode: str = "estimate"
    sequential: dict[str, Any] | None = None  # the rule's look, when one decided the run

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _missing_reason(metrics: RunMetrics, threshold: Threshold) -> str:
    if threshold.metric in metrics.metrics:
        summary = metrics.metrics[threshold.metric]
        what = "interval" if threshold.bound != "value" else "value"
        return (
            f"{threshold.text}: {threshold.metric} has no {what} "
            f"({summary.n} of {metrics.total} episodes scored)"
        )
    return f"{threshold.text}: {threshold.metric} has no value in this run"


def _error_reason(metrics: RunMetrics, allowed_errors: int) -> str | None:
    counts = {s: metrics.outcomes.get(s, 0) for s in ("env_error", "model_error")}
    if sum(counts.values()) <= allowed_errors:
        return None
    parts = [f"{n} in {status}" for status, n in counts.items() if n]
    total = sum(counts.values())
    noun = "episode" if total == 1 else "episodes"
    return f"{total} {noun} ended in error ({', '.join(parts)}); allowed errors: {allowed_errors}"


def check_threshold(
    metrics: RunMetrics, threshold: Threshold, *, mode: Inconclusive = "estimate",
    alpha: float = DEFAULT_ALPHA,
) -> CheckResult:
    """One threshold: decided on the metric's interval at ``1 - alpha`` when it has one
    (and the threshold is on its value), else on its single number."""
    actual = actual_value(metrics, threshold)
    if actual is None:
        return CheckResult(threshold.text, threshold.metric, None, False)
    held = OPERATORS[threshold.op](actual, threshold.value)
    summary = metrics.metrics.get(threshold.metric)
    interval = None
    if summary is not None and threshold.bound == "value" and threshold.op != "==":
        interval = decision_interval(summary, alpha)
    if interval is None:
        decision: Decision = "passed" if held else "failed"
        return CheckResult(threshold.text, threshold.metric, actual, held, decision)
    decision = decide(threshold.op, threshold.value, interval)
    return CheckResult(threshold.text, threshold.metric, actual, settle(decision, held, mode),
                       decision, interval.lower, interval.upper, interval.confidence)


def _check_reason(check: CheckResult, threshold: Threshold, mode: str) -> str:
    if check.decision == "inconclusive" and mode != "estimate":
        return f"{check.describe()}; counted as failed (inconclusive mode: {mode})"
    return f"{threshold.text} missed: {threshold.subject} is {check.actual:.4g}"


def evaluate_gate(
    metrics: RunMetrics, thresholds: Iterable[Threshold], *, allowed_errors: int = 0,
    inconclusive: Inconclusive = "estimate", alpha: float = DEFAULT_ALPHA,
) -> GateResult:
    """Check every threshold and the error budget; the run passes only if all hold.

    Undecided thresholds count as ``inconclusive`` says; in the ``error`` mode a run whose
    only shortfall is undecided thresholds gets the decision ``inconclusive``.
    """
    checks: list[CheckResult] = []
    reasons: list[str] = []
    undecided = inconclusive == "error"
    for threshold in thresholds:
        check = check_threshold(metrics, threshold, mode="fail" if undecided else inconclusive,
                                alpha=alpha)
        checks.append(check)
        if check.actual is None:
            reasons.append(_missing_reason(metrics, threshold))
        elif not check.passed and not (undecided and check.decision == "inconclusive"):
            reasons.append(_check_reason(check, threshold, inconclusive))
    error = _error_reason(metrics, allowed_errors)
    if error:
        reasons.append(error)
    if metrics.total == 0:
        reasons.append("no episodes ran")
    elif metrics.scored == 0:
        reasons.append(
            f"no episode could be scored for {metrics.primary_metric} "
            f"(0 of {metrics.total} episodes); see the outcomes and problems"
        )
    open_ = [c.describe() for c in checks if c.decision == "inconclusive"]
    passed = not reasons and not (undecided and open_)
    decision: Decision = "passed" if passed else "failed"
    if undecided and open_ and not reasons:
        decision = "inconclusive"
    return GateResult(passed, checks, reasons, decision, open_, inconclusive)
