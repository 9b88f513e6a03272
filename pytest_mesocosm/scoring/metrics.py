"""Turn finished episodes into run metrics: per-episode values, aggregates and intervals.

The manifest's scoring block says what a metric is (``episode_reward`` = sum of
rewards, ``terminal_field`` = a field of the last step's info) and how episodes are
folded into one number (``mean``, ``median``, ``min``, ``max``, ``sum``, ``pass_rate``).
The block may arrive as the manifest's pydantic models or as a plain dict; it is
normalised once, here, so nothing else depends on its shape.

Honesty rules (no score is inflated):

- ``env_error`` and ``model_error`` episodes are never scored, but always counted in
  :attr:`RunMetrics.outcomes` next to ``total`` and ``scored``.
- A value that cannot be read is a *problem* listed in :attr:`RunMetrics.problems`
  and the episode is not scored for that metric; it is never dropped silently.
- A pass needs ``value > pass_threshold`` (strictly). An ``invalid`` episode is always
  a fail; so is a ``truncated``/``timeout``/``invalid`` episode whose terminal field is
  missing (it never reached the end that sets it). A ``completed`` episode without the
  field is a problem: the environment did not report what the manifest promised.

Intervals (95%): Wilson score interval for ``pass_rate``; for ``mean`` the standard
error, a normal interval (mean ± 1.96·SE) and a percentile bootstrap interval; for
``median`` only the bootstrap interval; none for ``min``/``max``/``sum``. The bootstrap
resamples the sorted values with a fixed seed, so the same episodes always give the
same interval whatever order they finished in.

pass@k / pass^k use the primary metric's pass definition on seeds that were played
more than once (``repeat``), with the unbiased estimators averaged over seeds.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from pytest_mesocosm.engine.outcomes import EpisodeResult, EpisodeStatus, top_rejections
from pytest_mesocosm.errors import ScoringError
from pytest_mesocosm.scoring.estimators import (
    Z95,
    bootstrap_interval,
    pass_at_k,
    pass_hat_k,
    wilson_interval,
)

AGGREGATIONS = ("mean", "median", "min", "max", "sum", "pass_rate")
METRIC_TYPES = ("episode_reward", "terminal_field")
EXTRA_NAMES = (
    "mean_steps",
    "invalid_action_rate",
    "total_tokens",
    "mean_tokens",
    "total_cost",
    "total_wall_seconds",
    "mean_wall_seconds",
)

_TRUE_WORDS = frozenset({"true", "yes", "won", "win", "success", "pass"})
_FALSE_WORDS = frozenset({"false", "no", "lost", "loss", "fail"})


@dataclass(frozen=True)
class Metric:
    """One metric of the scoring block, normalised from a manifest model or a dict."""

    name: str
    type: str
    aggregation: str
    field: str | None = None
    pass_threshold: float = 0.0

    @property
    def is_pass_rate(self) -> bool:
        return self.aggregation == "pass_rate"


@dataclass(frozen=True)
class ScoringSpec:
    """The scoring block, normalised: the primary metric and every metric by name."""

    primary_metric: str
    higher_is_better: bool
    metrics: tuple[Metric, ...]

    @property
    def primary(self) -> Metric:
        return next(m for m in self.metrics if m.name == self.primary_metric)

    @property
    def names(self) -> list[str]:
        return [m.name for m in self.metrics]


def _get(obj: Any, key: str, default: Any = None) -> Any:
    """Read ``key`` from a dict or an attribute; enums give their value."""
    value = obj.get(key, default) if isinstance(obj, Mapping) else getattr(obj, key, default)
    return getattr(value, "value", value)


def as_metric(spec: Any) -> Metric:
    """Normalise one metric spec (``MetricSpec`` model, dict or :class:`Metric`)."""
    if isinstance(spec, Metric):
        return spec
    name = _get(spec, "name")
    mtype = _get(spec, "type")
    aggregation = _get(spec, "aggregation", "mean")
    fld = _get(spec, "field")
    where = f"scoring metric {name!r}"
    if not name or not isinstance(name, str):
        raise ScoringError(f"scoring metric without a name: {spec!r}; give every metric a 'name'")
    if mtype not in METRIC_TYPES:
        raise ScoringError(
            f"{where}: type {mtype!r} is not one of {', '.join(METRIC_TYPES)}; fix its 'type'"
        )
    if aggregation not in AGGREGATIONS:
        raise ScoringError(
            f"{where}: aggregation {aggregation!r} is not one of {', '.join(AGGREGATIONS)}; "
            "fix its 'aggregation'"
        )
    if mtype == "terminal_field" and not fld:
        raise ScoringError(f"{where}: type terminal_field needs a 'field' (a key of info)")
    threshold = _get(spec, "pass_threshold", 0.0)
    return Metric(
        name=name,
        type=mtype,
        aggregation=aggregation,
        field=fld,
        pass_threshold=0.0 if threshold is None else float(threshold),
    )


def as_scoring(scoring: Any) -> ScoringSpec:
    """Normalise a scoring block (the manifest's ``Scoring`` model or a plain dict)."""
    if isinstance(scoring, ScoringSpec):
        return scoring
    metrics = tuple(as_metric(m) for m in (_get(scoring, "metrics") or []))
    if not metrics:
        raise ScoringError("scoring block has no metrics; add at least one to 'scoring.metrics'")
    names = [m.name for m in metrics]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ScoringError(f"scoring metrics named twice: {', '.join(duplicates)}; rename one")
    primary = _get(scoring, "primary_metric") or names[0]
    if primary not in names:
        raise ScoringError(
            f"scoring.primary_metric {primary!r} names no metric; use one of {', '.join(names)}"
        )
    higher = _get(scoring, "higher_is_better", True)
    return ScoringSpec(primary, True if higher is None else bool(higher), metrics)


def read_number(value: Any) -> float | None:
    """Read a number, a bool or a yes/no word as a float; ``None`` if it is none of these."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE_WORDS:
            return 1.0
        if text in _FALSE_WORDS:
            return 0.0
        try:
            number = float(text)
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


class _MissingField(ScoringError):
    """The terminal field is absent from the last info (told apart from unreadable)."""


def metric_value(spec: Any, result: EpisodeResult) -> float:
    """The value of one metric for one episode; raise ScoringError if it cannot be read."""
    metric = as_metric(spec)
    if metric.type == "episode_reward":
        value = float(result.total_reward)
        if not math.isfinite(value):
            raise ScoringError(
                f"episode {result.label}: total reward is {value}, not a finite number; "
                "the env must return finite rewards"
            )
        return value
    fld = metric.field or ""
    if fld not in result.last_info:
        keys = ", ".join(sorted(map(str, result.last_info))) or "none"
        raise _MissingField(
            f"episode {result.label}: terminal field {fld!r} for metric {metric.name!r} "
            f"is missing from the last step's info (keys: {keys}); make step() put it in "
            "info or change the metric's 'field'"
        )
    raw = result.last_info[fld]
    number = read_number(raw)
    if number is None:
        raise ScoringError(
            f"episode {result.label}: terminal field {fld!r} = {raw!r} for metric "
            f"{metric.name!r} is not a number, a bool or a word like true/false, "
            "won/lost, pass/fail; make step() report a number"
        )
    return number


@dataclass(frozen=True)
class EpisodeScore:
    """One episode under one metric: its value, whether it passed, or why it was not scored."""

    value: float | None
    passed: bool | None
    problem: str | None = None

    @property
    def scored(self) -> bool:
        return self.passed is not None


def score_episode(spec: Any, result: EpisodeResult) -> EpisodeScore:
    """Score a scoreable episode under one metric, applying the rules in the module doc."""
    metric = as_metric(spec)
    try:
        value = metric_value(metric, result)
    except _MissingField as exc:
        if result.status is EpisodeStatus.COMPLETED:
            return EpisodeScore(None, None, str(exc))
        if metric.is_pass_rate:
            return EpisodeScore(None, False)
        return EpisodeScore(None, None, f"{exc} (episode ended {result.status.value})")
    except ScoringError as exc:
        return EpisodeScore(None, None, str(exc))
    passed = value > metric.pass_threshold and result.status is not EpisodeStatus.INVALID
    return EpisodeScore(value, passed)


@dataclass
class MetricSummary:
    """The aggregate of one metric over the scored episodes, with its interval if any."""

    name: str
    aggregation: str
    value: float | None
    n: int
    lower: float | None = None
    upper: float | None = None
    stderr: float | None = None
    bootstrap_lower: float | None = None
    bootstrap_upper: float | None = None
    higher_is_better: bool = True

    def interval(self) -> tuple[float | None, float | None]:
        """The interval to show and gate on: the analytic one, else the bootstrap one."""
        if self.lower is not None:
            return self.lower, self.upper
        return self.bootstrap_lower, self.bootstrap_upper


@dataclass
class RunMetrics:
    """Everything the run is judged on; JSON-safe via :meth:`to_dict` (results.json, xdist)."""

    metrics: dict[str, MetricSummary]
    primary_metric: str
    total: int
    scored: int
    outcomes: dict[str, int]
    extras: dict[str, float | None] = field(default_factory=dict)
    pass_at_k: dict[int, float] = field(default_factory=dict)
    pass_hat_k: dict[int, float] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    rejections: list[tuple[str, int]] = field(default_factory=list)  # most frequent first

    @property
    def primary(self) -> MetricSummary:
        return self.metrics[self.primary_metric]

    @property
    def errors(self) -> int:
        return self.outcomes.get("env_error", 0) + self.outcomes.get("model_error", 0)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["pass_at_k"] = {str(k): v for k, v in self.pass_at_k.items()}
        data["pass_hat_k"] = {str(k): v for k, v in self.pass_hat_k.items()}
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunMetrics:
        return cls(
            metrics={k: MetricSummary(**v) for k, v in data["metrics"].items()},
            primary_metric=data["primary_metric"],
            total=data["total"],
            scored=data["scored"],
            outcomes=dict(data["outcomes"]),
            extras=dict(data.get("extras", {})),
            pass_at_k={int(k): v for k, v in data.get("pass_at_k", {}).items()},
            pass_hat_k={int(k): v for k, v in data.get("pass_hat_k", {}).items()},
            problems=list(data.get("problems", [])),
            rejections=[(str(r), int(n)) for r, n in data.get("rejections", [])],
        )


_AGGREGATE: dict[str, Callable[[list[float]], float]] = {
    "mean": statistics.fmean, "median": statistics.median, "min": min, "max": max,
    "sum": math.fsum,
}


def running_value(metric: Metric, scores: Iterable[EpisodeScore]) -> float | None:
    """The metric's aggregate without intervals: cheap enough to show after every episode."""
    if metric.is_pass_rate:
        passes = [s.passed for s in scores if s.passed is not None]
        return sum(passes) / len(passes) if passes else None
    values = [s.value for s in scores if s.value is not None]
    return _AGGREGATE[metric.aggregation](values) if values else None


def summarize(metric: Metric, scores: list[EpisodeScore], higher_is_better: bool) -> MetricSummary:
    """Aggregate the scored episodes of one metric and attach its interval."""
    agg = metric.aggregation
    summary = MetricSummary(metric.name, agg, None, 0, higher_is_better=higher_is_better)
    if agg == "pass_rate":
        passes = [s.passed for s in scores if s.passed is not None]
        summary.n = len(passes)
        if passes:
            wins = sum(passes)
            p = wins / len(passes)
            summary.value = p
            summary.stderr = math.sqrt(p * (1 - p) / len(passes))
            summary.lower, summary.upper = wilson_interval(wins, len(passes))
        return summary
    values = [s.value for s in scores if s.value is not None]
    summary.n = len(values)
    if not values:
        return summary
    if agg == "mean":
        summary.value = statistics.fmean(values)
        if len(values) > 1:
            se = statistics.stdev(values) / math.sqrt(len(values))
            summary.stderr = se
            summary.lower, summary.upper = summary.value - Z95 * se, summary.value + Z95 * se
            summary.bootstrap_lower, summary.bootstrap_upper = bootstrap_interval(values, "mean")
    elif agg == "median":
        summary.value = statistics.median(values)
        if len(values) > 1:
            summary.bootstrap_lower, summary.bootstrap_upper = bootstrap_interval(
                values, "median"
            )
    else:
        summary.value = _AGGREGATE[agg](values)
    return summary


def _pass_k_tables(
    results: list[EpisodeResult], scores: list[EpisodeScore]
) -> tuple[dict[int, float], dict[int, float]]:
    """pass@k and pass^k for k = 1..fewest tries per seed, when some seed was repeated."""
    by_seed: dict[int | None, list[bool]] = {}
    for result, score in zip(results, scores, strict=True):
        if score.passed is not None:
            by_seed.setdefault(result.seed, []).append(score.passed)
    if not by_seed or max(len(v) for v in by_seed.values()) < 2:
        return {}, {}
    groups = [(len(v), sum(v)) for v in by_seed.values()]
    kmax = min(n for n, _ in groups)
    at = {k: pass_at_k(groups, k) for k in range(1, kmax + 1)}
    hat = {k: pass_hat_k(groups, k) for k in range(1, kmax + 1)}
    return at, hat


def _mean(total: float, n: int) -> float | None:
    return total / n if n else None


def run_extras(results: list[EpisodeResult]) -> dict[str, float | None]:
    """Built-in figures for every run.

    Steps and the invalid-action rate describe play, so they count scoreable episodes
    only; tokens, cost and wall time were spent either way, so they count every episode.
    Answers read from a cassette are counted apart (hits, misses, saved tokens and cost);
    their tokens stay in the totals, so a replayed run reads like the recorded one.
    """
    played = [r for r in results if r.scoreable]
    steps = sum(r.steps for r in played)
    invalid = sum(r.invalid_actions for r in played)
    tokens = sum(r.tokens for r in results)
    wall = math.fsum(r.wall_seconds for r in results)
    return {
        "mean_steps": _mean(steps, len(played)),
        "invalid_action_rate": _mean(invalid, steps + invalid),
        "total_tokens": float(tokens),
        "mean_tokens": _mean(tokens, len(results)),
        "total_cost": math.fsum(r.cost for r in results),
        "total_wall_seconds": wall,
        "mean_wall_seconds": _mean(wall, len(results)),
        "model_calls": float(sum(r.model_calls for r in results)),
        "cache_hits": float(sum(r.cache_hits for r in results)),
        "cache_misses": float(sum(r.cache_misses for r in results)),
        "saved_tokens": float(sum(r.saved_tokens for r in results)),
        "saved_cost": math.fsum(r.saved_cost for r in results),
    }


def _order(result: EpisodeResult) -> tuple[bool, int, int, str]:
    return (result.seed is None, result.seed or 0, result.repeat, result.episode_id)


Bounds = dict[str, tuple[float | None, float | None]]


def metric_bounds(manifest: Any) -> Bounds:
    """The values an ``episode_reward`` metric can take, from the vow's reward range.

    A ``binary`` reward is the episode's outcome, so one episode earns within the range;
    other types may reward every step, so a sum of up to ``max_steps`` rewards. Unknown
    when the vow gives no range (or no step limit for a sum); ``terminal_field`` metrics
    are whatever the env reports, so they are not bounded here.
    """
    vow = manifest.binding_vow
    span = vow.reward.range
    if span is None:
        return {}
    low, high = float(span.low), float(span.high)
    if vow.reward.type != "binary":
        steps = vow.episode.max_steps
        if steps is None:
            return {}
        low, high = min(low, low * steps), max(high, high * steps)
    return {m.name: (low, high) for m in manifest.scoring.metrics if m.type == "episode_reward"}


def _clip(summary: MetricSummary, bounds: tuple[float | None, float | None] | None) -> None:
    """Keep the intervals inside the values the metric can take (a mean of rewards <= 1
    cannot be 1.014, though mean + 1.96 SE can be)."""
    if bounds is None:
        return
    low, high = bounds
    for name in ("lower", "upper", "bootstrap_lower", "bootstrap_upper"):
        value = getattr(summary, name)
        if value is None:
            continue
        if low is not None:
            value = max(value, low)
        if high is not None:
            value = min(value, high)
        setattr(summary, name, value)


def score_run(
    scoring: Any, results: Iterable[EpisodeResult], bounds: Bounds | None = None
) -> RunMetrics:
    """Aggregate a run's episodes under the manifest's scoring block; ``bounds``
    (:func:`metric_bounds`) keeps intervals inside each metric's possible values."""
    spec = as_scoring(scoring)
    ordered = sorted(results, key=_order)
    played = [r for r in ordered if r.scoreable]
    summaries: dict[str, MetricSummary] = {}
    problems: list[str] = []
    primary_scores: list[EpisodeScore] = []
    for metric in spec.metrics:
        scores = [score_episode(metric, r) for r in played]
        problems.extend(s.problem for s in scores if s.problem)
        summaries[metric.name] = summarize(metric, scores, spec.higher_is_better)
        _clip(summaries[metric.name], (bounds or {}).get(metric.name))
        if metric.name == spec.primary_metric:
            primary_scores = scores
    at, hat = _pass_k_tables(played, primary_scores)
    outcomes = {status.value: 0 for status in EpisodeStatus}
    for r in ordered:
        outcomes[r.status.value] += 1
    return RunMetrics(
        metrics=summaries,
        primary_metric=spec.primary_metric,
        total=len(ordered),
        scored=summaries[spec.primary_metric].n,
        outcomes=outcomes,
        extras=run_extras(ordered),
        pass_at_k=at,
        pass_hat_k=hat,
        problems=problems,
        rejections=top_rejections(ordered),
    )
