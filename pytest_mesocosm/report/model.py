"""The view model: plain data the templates and the viewer get, built from a RunSource.

Nothing here formats HTML; it decides what is shown (metrics with intervals and where
they sit on a scale, outcome counts, the episode rows, the verdict, the comparison with a
baseline) so that tests can check the report's content without a browser.
"""

from __future__ import annotations

import math
from typing import Any

from pytest_mesocosm.engine.outcomes import EpisodeStatus
from pytest_mesocosm.report.replay import episode_replay
from pytest_mesocosm.report.source import RunSource
from pytest_mesocosm.scoring.baseline import compare_to_baseline
from pytest_mesocosm.scoring.gate import ThresholdError, evaluate_gate, parse_threshold
from pytest_mesocosm.scoring.metrics import RunMetrics

OUTCOMES = [s.value for s in EpisodeStatus]


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _scale(points: list[float | None]) -> tuple[float, float]:
    """The axis of an interval chart: [0, 1] when everything fits, else padded bounds."""
    known = [p for p in points if p is not None]
    if not known or (min(known) >= 0 and max(known) <= 1):
        return 0.0, 1.0
    low, high = min(min(known), 0.0), max(known)
    if high == low:
        high = low + 1
    return low, high


def _pos(value: float | None, low: float, high: float) -> float | None:
    return None if value is None else round(100 * (value - low) / (high - low), 2)


def metric_views(source: RunSource) -> list[dict[str, Any]]:
    """Each metric with its value, interval, thresholds and chart positions (0-100)."""
    metrics = (source.metrics or {}).get("metrics") or {}
    primary = (source.metrics or {}).get("primary_metric")
    checks = (source.gate or {}).get("checks") or []
    views = []
    names = list(metrics) or list(source.scores)
    for name in names:
        data = metrics.get(name) or {"value": source.scores.get(name)}
        value = _number(data.get("value"))
        lower = _number(data.get("lower"))
        upper = _number(data.get("upper"))
        if lower is None:
            lower = _number(data.get("bootstrap_lower"))
            upper = _number(data.get("bootstrap_upper"))
        marks = [c for c in checks if c.get("metric") == name]
        targets = [_threshold_value(str(c.get("threshold", ""))) for c in marks]
        low, high = _scale([value, lower, upper, *targets])
        views.append({
            "name": name, "primary": name == primary, "aggregation": data.get("aggregation"),
            "value": value, "lower": lower, "upper": upper, "n": data.get("n"),
            "scale": [low, high],
            "x": {"value": _pos(value, low, high), "lower": _pos(lower, low, high),
                  "upper": _pos(upper, low, high)},
            "thresholds": [
                {"text": c.get("threshold"), "passed": bool(c.get("passed")),
                 "x": _pos(t, low, high)}
                for c, t in zip(marks, targets, strict=True)
            ],
        })
    return views


def _threshold_value(text: str) -> float | None:
    try:
        return parse_threshold(text).value
    except ThresholdError:
        return None


def outcome_counts(source: RunSource) -> list[dict[str, Any]]:
    """Episodes per outcome in the fixed order, with each one's share of the bar."""
    counts = dict.fromkeys(OUTCOMES, 0)
    for episode in source.episodes:
        counts[episode.status] = counts.get(episode.status, 0) + 1
    total = sum(counts.values()) or 1
    return [{"status": s, "count": n, "share": round(100 * n / total, 3)}
            for s, n in counts.items()]


def verdict(source: RunSource) -> dict[str, Any]:
    """The gate's verdict as recorded; else the default gate (no thresholds) on the metrics."""
    if source.gate is not None:
        return {"passed": bool(source.gate.get("passed")),
                "reasons": list(source.gate.get("reasons") or []), "recorded": True}
    if not source.metrics:
        return {"passed": None, "reasons": ["this run carries no metrics"], "recorded": False}
    gate = evaluate_gate(RunMetrics.from_dict(source.metrics), [])
    return {"passed": gate.passed, "reasons": gate.reasons, "recorded": False}


def episode_rows(source: RunSource) -> list[dict[str, Any]]:
    """One row per episode for the table (seed, outcome, reward, steps, tokens, wall)."""
    return [{
        "id": e.episode_id, "label": e.label, "seed": e.seed, "repeat": e.repeat,
        "status": e.status, "reward": _number(e.total_reward), "steps": e.steps,
        "tokens": e.tokens, "wall": _number(e.wall_seconds), "invalid": e.invalid_actions,
        "error": (e.error or "").strip().splitlines()[0][:200] if e.error else "",
    } for e in source.episodes]


def config_rows(source: RunSource) -> list[tuple[str, str]]:
    """The run's settings as flat ``key: value`` pairs (``agent.model``, ``limits.max_steps``)."""
    rows: list[tuple[str, str]] = []

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict) and value:
            for key, item in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), item)
        else:
            rows.append((prefix, "-" if value is None else str(value)))

    walk("", source.config)
    return rows


def comparison(source: RunSource, baseline: RunSource) -> dict[str, Any]:
    """Per-seed differences and the engine's paired comparison with a baseline run."""
    scoring = source.scoring or baseline.scoring
    now_by = {(e.seed, e.repeat): e for e in source.episodes}
    before_by = {(e.seed, e.repeat): e for e in baseline.episodes}
    pairs = []
    paired = sorted(now_by.keys() & before_by.keys(), key=lambda k: (k[0] is None, k[0] or 0, k[1]))
    for key in paired:
        new, old = now_by[key], before_by[key]
        now_r, before_r = _number(new.total_reward), _number(old.total_reward)
        pairs.append({
            "label": new.label, "status_before": old.status, "status_now": new.status,
            "reward_before": before_r, "reward_now": now_r,
            "delta": None if now_r is None or before_r is None else now_r - before_r,
        })
    view: dict[str, Any] = {"baseline": baseline.run_id, "pairs": pairs, "note": None,
                            "deltas": [], "worse": [], "better": [], "only_before": [],
                            "only_now": []}
    if scoring is None:
        view["note"] = "no scoring block in either run: only rewards are compared"
        return view
    metrics_now = RunMetrics.from_dict(source.metrics) if source.metrics else None
    metrics_before = RunMetrics.from_dict(baseline.metrics) if baseline.metrics else None
    result = compare_to_baseline(source.results(), baseline.results(), scoring,
                                 metrics_now=metrics_now, metrics_before=metrics_before)
    view["deltas"] = [{"name": d.name, "before": d.before, "now": d.now, "delta": d.delta,
                       "worse": (d.drop or 0) > 0} for d in result.deltas.values()]
    for side in ("worse", "better"):
        view[side] = [{"label": c.label, "metric": c.metric, "before": c.before, "now": c.now,
                       "status_before": c.status_before, "status_now": c.status_now}
                      for c in getattr(result, side)]
    view["only_before"], view["only_now"] = result.only_before, result.only_now
    return view


def run_view(source: RunSource, index: int, baseline: RunSource | None = None) -> dict[str, Any]:
    """Everything one run's section shows; ``replays`` go to the viewer as JSON."""
    extras = (source.metrics or {}).get("extras") or {}
    return {
        "index": index, "kind": source.kind, "path": str(source.path), "run_id": source.run_id,
        "name": source.name, "domain_id": source.domain_id, "version": source.version,
        "model": source.model, "created_at": source.created_at, "complete": source.complete,
        "scored": (source.metrics or {}).get("scored"), "total": len(source.episodes),
        "problems": (source.metrics or {}).get("problems") or [],
        "extras": {k: v for k, v in extras.items() if v is not None},
        "verdict": verdict(source), "metrics": metric_views(source),
        "outcomes": outcome_counts(source), "episodes": episode_rows(source),
        "config": config_rows(source),
        "comparison": comparison(source, baseline) if baseline is not None else None,
        "replays": {e.episode_id: episode_replay(e) for e in source.episodes},
    }
