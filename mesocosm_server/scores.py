"""Run scores exactly as the hosted service computes them (PLATFORM_API.md section 7),
and this project's honest summary beside them (counts, outcomes, intervals).
"""

from __future__ import annotations

import math
import statistics
from typing import Any

from pytest_mesocosm.engine.outcomes import EpisodeResult
from pytest_mesocosm.scoring.metrics import score_run

SCOREABLE = ("completed", "truncated", "timeout")


def _value(metric: dict[str, Any], episode: dict[str, Any]) -> float | None:
    if metric["type"] == "episode_reward":
        value = episode["total_reward"]
    elif metric["type"] == "terminal_field":
        raw: Any = (episode.get("terminal_info") or {}).get(metric.get("field") or "")
        try:
            value = float(raw)
        except (TypeError, ValueError):
            return None
    else:
        return None
    return value if math.isfinite(value) else None


def _aggregate(metric: dict[str, Any], values: list[float]) -> float:
    if not values:
        return 0.0
    how = metric.get("aggregation", "mean")
    if how == "pass_rate":
        threshold = float(metric.get("pass_threshold") or 0.0)
        return sum(v > threshold for v in values) / len(values)
    if how == "median":
        return float(statistics.median(values))
    if how == "max":
        return max(values)
    if how == "min":
        return min(values)
    if how == "sum":
        return float(sum(values))
    return sum(values) / len(values)


def hosted_scores(scoring: dict[str, Any], episodes: list[dict[str, Any]]) -> dict[str, float]:
    """``{metric: value}`` in the scoring block's order; judge metrics are 0.0, as hosted."""
    kept = [e for e in episodes if e["status"] in SCOREABLE]
    scores: dict[str, float] = {}
    for metric in scoring["metrics"]:
        if metric["type"] in ("trajectory_judge", "human_judge"):
            scores[metric["name"]] = 0.0
            continue
        values = [v for e in kept if (v := _value(metric, e)) is not None]
        scores[metric["name"]] = _aggregate(metric, values)
    return scores


def enough_scoreable(episodes: list[dict[str, Any]], ratio: float) -> bool:
    if not episodes:
        return False
    return sum(e["status"] in SCOREABLE for e in episodes) / len(episodes) >= ratio


def honest_summary(scoring: dict[str, Any], results: list[EpisodeResult]) -> dict[str, Any]:
    """Scored/total, every outcome counted, each metric with its interval, from the engine."""
    metrics = score_run(scoring, results)
    return {
        "scored": metrics.scored,
        "total": metrics.total,
        "outcomes": metrics.outcomes,
        "primary_metric": metrics.primary_metric,
        "metrics": {
            name: {"value": m.value, "n": m.n, "interval": list(m.interval())}
            for name, m in metrics.metrics.items()
        },
        "problems": metrics.problems,
    }
