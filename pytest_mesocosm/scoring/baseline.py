"""Compare a run with a baseline run: per-metric deltas and per-episode changes.

Episodes are paired by ``(seed, repeat)``, so a regression names the seeds that
passed before and fail now instead of only moving an average. The baseline is
usually the results.json of an earlier run folder, read with
:func:`pytest_mesocosm.traces.load_results`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pytest_mesocosm.engine.outcomes import EpisodeResult
from pytest_mesocosm.scoring.metrics import (
    EpisodeScore,
    Metric,
    RunMetrics,
    as_scoring,
    score_episode,
    score_run,
)

_TOLERANCE = 1e-9


@dataclass(frozen=True)
class MetricDelta:
    """One metric before and now; ``drop`` is how much worse it got (negative: better)."""

    name: str
    before: float | None
    now: float | None
    higher_is_better: bool = True

    @property
    def delta(self) -> float | None:
        if self.before is None or self.now is None:
            return None
        return self.now - self.before

    @property
    def drop(self) -> float | None:
        delta = self.delta
        if delta is None:
            return None
        return -delta if self.higher_is_better else delta


@dataclass(frozen=True)
class EpisodeChange:
    """One paired episode whose verdict or value moved under one metric."""

    label: str
    metric: str
    before: float | None
    now: float | None
    passed_before: bool | None
    passed_now: bool | None
    status_before: str
    status_now: str


@dataclass
class Comparison:
    """Deltas per metric, what got better or worse per episode, and unpaired episodes."""

    deltas: dict[str, MetricDelta]
    better: list[EpisodeChange] = field(default_factory=list)
    worse: list[EpisodeChange] = field(default_factory=list)
    only_before: list[str] = field(default_factory=list)
    only_now: list[str] = field(default_factory=list)

    def regressed(self, max_drop: float) -> list[str]:
        """One line per metric that got worse by more than ``max_drop`` (or lost its value)."""
        lines = []
        for d in self.deltas.values():
            if d.before is not None and d.now is None:
                lines.append(f"{d.name} has no scored value now (was {d.before:.3f})")
            elif d.drop is not None and d.drop > max_drop + _TOLERANCE:
                lines.append(
                    f"{d.name} got worse: {d.before:.3f} -> {d.now:.3f} "
                    f"({d.delta:+.3f}; allowed drop {max_drop:g})"
                )
        return lines


def _key(result: EpisodeResult) -> tuple[int | None, int]:
    return result.seed, result.repeat


def _score(metric: Metric, result: EpisodeResult) -> EpisodeScore:
    if not result.scoreable:
        return EpisodeScore(None, None)
    return score_episode(metric, result)


def _direction(metric: Metric, before: EpisodeScore, now: EpisodeScore, higher: bool) -> int:
    """+1 better, -1 worse, 0 same. Pass-rate metrics compare verdicts, others values;
    losing a score (error, unreadable) is worse, gaining one is better."""
    if (before.passed is None) != (now.passed is None):
        return 1 if before.passed is None else -1
    if metric.is_pass_rate or before.value is None or now.value is None:
        if before.passed == now.passed:
            return 0
        return 1 if now.passed else -1
    diff = now.value - before.value
    if abs(diff) <= _TOLERANCE:
        return 0
    return 1 if (diff > 0) == higher else -1


def compare_to_baseline(
    current: Iterable[EpisodeResult],
    baseline: Iterable[EpisodeResult],
    scoring: Any,
    *,
    metrics_now: RunMetrics | None = None,
    metrics_before: RunMetrics | None = None,
) -> Comparison:
    """Pair episodes by (seed, repeat) and report what changed under every metric."""
    spec = as_scoring(scoring)
    now_by = {_key(r): r for r in current}
    before_by = {_key(r): r for r in baseline}
    metrics_now = metrics_now or score_run(spec, now_by.values())
    metrics_before = metrics_before or score_run(spec, before_by.values())
    deltas = {}
    for metric in spec.metrics:
        now_summary = metrics_now.metrics.get(metric.name)
        before_summary = metrics_before.metrics.get(metric.name)
        deltas[metric.name] = MetricDelta(
            metric.name,
            before_summary.value if before_summary else None,
            now_summary.value if now_summary else None,
            spec.higher_is_better,
        )
    comparison = Comparison(deltas)
    order = sorted(now_by.keys() & before_by.keys(), key=lambda k: (k[0] is None, k[0] or 0, k[1]))
    for key in order:
        old, new = before_by[key], now_by[key]
        for metric in spec.metrics:
            was, is_ = _score(metric, old), _score(metric, new)
            direction = _direction(metric, was, is_, spec.higher_is_better)
            if direction:
                change = EpisodeChange(
                    new.label, metric.name, was.value, is_.value, was.passed, is_.passed,
                    old.status.value, new.status.value,
                )
                (comparison.better if direction > 0 else comparison.worse).append(change)
    comparison.only_before = sorted(before_by[k].label for k in before_by.keys() - now_by.keys())
    comparison.only_now = sorted(now_by[k].label for k in now_by.keys() - before_by.keys())
    return comparison


def _verdict(passed: bool | None, value: float | None, status: str) -> str:
    if passed is None:
        return status if status in ("env_error", "model_error") else "unscored"
    shown = "pass" if passed else "fail"
    return f"{value:.3g} ({shown})" if value is not None else shown


def format_comparison(comparison: Comparison) -> str:
    """Plain-text report of a comparison, for the pytest summary and the CLI."""
    lines = ["baseline comparison:"]
    for d in comparison.deltas.values():
        before = "-" if d.before is None else f"{d.before:.3f}"
        now = "-" if d.now is None else f"{d.now:.3f}"
        delta = "" if d.delta is None else f" ({d.delta:+.3f})"
        lines.append(f"  {d.name}: {before} -> {now}{delta}")
    for title, changes in (("worse", comparison.worse), ("better", comparison.better)):
        for c in changes:
            lines.append(
                f"  {title}: {c.label} {c.metric}: "
                f"{_verdict(c.passed_before, c.before, c.status_before)} -> "
                f"{_verdict(c.passed_now, c.now, c.status_now)}"
            )
    if comparison.only_before:
        lines.append(f"  only in baseline: {', '.join(comparison.only_before)}")
    if comparison.only_now:
        lines.append(f"  not in baseline: {', '.join(comparison.only_now)}")
    return "\n".join(lines)
