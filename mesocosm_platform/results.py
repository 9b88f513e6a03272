"""A platform run read back as the engine's episode results, and followed to its end.

The platform's Episode documents become :class:`~pytest_mesocosm.engine.outcomes.EpisodeResult`
records, so a platform run is scored, gated and printed by the very code that scores a
local run (``score_run``, ``evaluate_gate``, ``format_metrics_table``), not a second copy.

Status mapping: ``completed``/``truncated``/``timeout`` keep their names; ``failed`` and
``cancelled`` become ``env_error`` (not scored, and counted against the gate's error
budget): the platform does not tell an environment failure from a model failure, and its
``terminal_info.error`` is kept as the episode's error text.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mesocosm_platform.api import BenchApi
from mesocosm_platform.states import FINISHED_EPISODE_STATUSES, TERMINAL_RUN_STATUSES
from pytest_mesocosm.engine.outcomes import EpisodeResult, EpisodeStatus
from pytest_mesocosm.errors import PlatformError
from pytest_mesocosm.scoring.gate import GateResult, Threshold, evaluate_gate
from pytest_mesocosm.scoring.metrics import RunMetrics, score_run

_STATUSES = {
    "completed": EpisodeStatus.COMPLETED,
    "truncated": EpisodeStatus.TRUNCATED,
    "timeout": EpisodeStatus.TIMEOUT,
}
DEFAULT_POLL_S = 1.0


class RunTimeout(PlatformError):
    """A followed run did not end within the time given."""


def _seconds(start: Any, end: Any) -> float:
    try:
        return max((datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds(),
                   0.0)
    except (TypeError, ValueError):
        return 0.0


def episode_result(episode: dict[str, Any]) -> EpisodeResult:
    """One platform Episode document as the engine's result record."""
    info = episode.get("terminal_info") or {}
    if not isinstance(info, dict):
        info = {"value": info}
    raw_status = str(episode.get("status"))
    status = _STATUSES.get(raw_status, EpisodeStatus.ENV_ERROR)
    error = None
    if status is EpisodeStatus.ENV_ERROR:
        error = str(info.get("error") or info.get("reason") or f"episode {raw_status}")
    tokens = info.get("total_tokens")
    return EpisodeResult(
        episode_id=str(episode.get("id")),
        seed=episode.get("seed"),
        status=status,
        error=error,
        reason=info.get("reason") if isinstance(info.get("reason"), str) else None,
        total_reward=float(episode.get("total_reward") or 0.0),
        steps=int(episode.get("steps") or 0),
        last_info=info,
        prompt_tokens=int(tokens) if isinstance(tokens, (int, float)) else 0,
        wall_seconds=_seconds(episode.get("started_at"), episode.get("ended_at")),
    )


@dataclass
class RunVerdict:
    """A finished platform run scored the local way: metrics, gate and the raw documents."""

    run: dict[str, Any]
    episodes: list[dict[str, Any]]
    results: list[EpisodeResult]
    metrics: RunMetrics
    gate: GateResult


def judge_platform_run(
    run: dict[str, Any],
    episodes: Iterable[dict[str, Any]],
    scoring: dict[str, Any],
    thresholds: Iterable[Threshold] = (),
    *,
    allowed_errors: int = 0,
) -> RunVerdict:
    """Score the run's episodes with the domain's scoring block and gate them."""
    docs = list(episodes)
    results = [episode_result(ep) for ep in docs]
    metrics = score_run(scoring, results)
    gate = evaluate_gate(metrics, thresholds, allowed_errors=allowed_errors)
    return RunVerdict(run, docs, results, metrics, gate)


def follow_run(
    api: BenchApi,
    run_id: str,
    *,
    on_progress: Callable[[dict[str, Any], list[dict[str, Any]]], None] | None = None,
    interval: float = DEFAULT_POLL_S,
    timeout: float | None = None,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Poll the run and its episodes until the run is terminal; returns both.

    ``on_progress(run, episodes)`` is called after every poll (a progress bar hangs on it).
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        run = api.get_run(run_id)
        episodes = api.run_episodes(run_id)
        if on_progress is not None:
            on_progress(run, episodes)
        if run.get("status") in TERMINAL_RUN_STATUSES:
            return run, episodes
        if deadline is not None and time.monotonic() >= deadline:
            raise RunTimeout(
                f"run {run_id} is still {run.get('status')} after {timeout:g} s; follow it "
                f"with `mesocosm run get {run_id}` or raise --timeout"
            )
        time.sleep(interval)


def finished_count(episodes: Iterable[dict[str, Any]]) -> int:
    return sum(1 for ep in episodes if ep.get("status") in FINISHED_EPISODE_STATUSES)
