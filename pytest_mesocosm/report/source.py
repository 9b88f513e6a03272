"""The one reader of what a report shows: a run folder, its results.json, or a run export.

Everything the report knows about a run goes through :func:`load_source`, which turns
any of the three into the same :class:`RunSource`. When the run folder or the export
format changes, this module is the one to adapt; the view model and the templates only
read a ``RunSource``.

An export is what ``mesocosm run export`` writes (or the hosted platform's
``GET /v1/runs/{id}/export``): its ``traces`` hold our trace events when it came from a
local run, and only the platform's replay turns otherwise; both are kept.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_mesocosm.engine.outcomes import EpisodeResult, EpisodeStatus
from pytest_mesocosm.engine.traces import (
    RESULTS_FILE,
    RESULTS_SCHEMA,
    RunFolder,
    TraceError,
    read_results,
    read_trace,
    results_of,
)

TRACE_EVENTS = frozenset({"episode_start", "observation", "step_result", "episode_end"})


@dataclass
class EpisodeRecord:
    """One episode as read: its result fields, and its trace events or replay turns."""

    episode_id: str
    seed: int | None
    status: str  # ours (completed ... model_error), or the platform's ("failed")
    repeat: int = 0
    reason: str | None = None
    error: str | None = None
    total_reward: float | None = None
    steps: int = 0
    invalid_actions: int = 0
    tokens: int | None = None
    cost: float | None = None
    wall_seconds: float | None = None
    last_info: dict[str, Any] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)  # our trace, when there is one
    turns: list[dict[str, Any]] = field(default_factory=list)  # the platform's replay turns

    @property
    def label(self) -> str:
        base = f"seed={self.seed}"
        return f"{base}-r{self.repeat}" if self.repeat else base

    def result(self) -> EpisodeResult | None:
        """The engine's record of this episode (for scoring), if its status is ours."""
        if self.status not in {s.value for s in EpisodeStatus}:
            return None
        return EpisodeResult(
            episode_id=self.episode_id, seed=self.seed, status=EpisodeStatus(self.status),
            repeat=self.repeat, error=self.error, reason=self.reason,
            total_reward=self.total_reward or 0.0, steps=self.steps, last_info=self.last_info,
            invalid_actions=self.invalid_actions,
        )


@dataclass
class RunSource:
    """One run as the report sees it, whichever file it came from."""

    kind: str  # "run folder" or "export"
    path: Path
    run_id: str
    name: str
    domain_id: str | None = None
    version: str | None = None
    model: str | None = None
    created_at: str | None = None
    complete: bool = True
    config: dict[str, Any] = field(default_factory=dict)
    scoring: dict[str, Any] | None = None
    metrics: dict[str, Any] | None = None  # RunMetrics.to_dict(), when the run has them
    scores: dict[str, float | None] = field(default_factory=dict)  # the platform's bare scores
    gate: dict[str, Any] | None = None  # GateResult.to_dict(), when the run recorded it
    episodes: list[EpisodeRecord] = field(default_factory=list)

    def results(self) -> list[EpisodeResult]:
        return [r for r in (e.result() for e in self.episodes) if r is not None]


def load_source(path: Path) -> RunSource:
    """Read a run folder, a results.json or an export JSON; one-line TraceError otherwise."""
    path = Path(path)
    if path.is_dir() or path.name == RESULTS_FILE:
        return _from_run_folder(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise TraceError(f"cannot read {path}: {exc}") from exc
    if isinstance(data, dict) and data.get("schema") == RESULTS_SCHEMA:
        return _from_run_folder(path)
    if isinstance(data, dict) and "schema_version" in data and "episodes" in data:
        return _from_export(path, data)
    raise TraceError(
        f"{path} is neither a run folder, a results.json nor a run export; give "
        ".mesocosm/runs/<run_id> or the file `mesocosm run export -o FILE` wrote"
    )


def _from_run_folder(path: Path) -> RunSource:
    """A run folder, its results.json, or a copy of one (``--mesocosm-report``) elsewhere:
    traces are found through the paths the results hold, else next to the file."""
    data = read_results(path)
    folder = RunFolder(path if path.is_dir() else path.parent, data.get("run_id"),
                       data.get("created_at"))
    manifest = data.get("manifest") or {}
    config = data.get("config") or {}
    episodes = []
    for result in results_of(data, folder.results_path):
        trace = folder.trace_file(result)
        episodes.append(EpisodeRecord(
            episode_id=result.episode_id, seed=result.seed, status=result.status.value,
            repeat=result.repeat, reason=result.reason, error=result.error,
            total_reward=result.total_reward, steps=result.steps,
            invalid_actions=result.invalid_actions, tokens=result.tokens, cost=result.cost,
            wall_seconds=result.wall_seconds, last_info=result.last_info,
            events=read_trace(trace) if trace else [],
        ))
    return RunSource(
        kind="run folder", path=folder.path, run_id=folder.run_id,
        name=str(manifest.get("name") or manifest.get("domain_id") or folder.run_id),
        domain_id=manifest.get("domain_id"), version=manifest.get("binding_vow_version"),
        model=(config.get("agent") or {}).get("model"), created_at=data.get("created_at"),
        complete=bool(data.get("complete", True)) and not data.get("interrupted", False),
        config=config, scoring=manifest.get("scoring"), metrics=data.get("metrics") or None,
        gate=data.get("gate"), episodes=episodes,
    )


def _from_export(path: Path, data: dict[str, Any]) -> RunSource:
    run = data.get("run") or {}
    ours = run.get("mesocosm") or {}
    config = run.get("config") or {}
    traces = data.get("traces") or {}
    replay = data.get("replay") or {}
    episodes = []
    for episode in data.get("episodes") or []:
        extra = episode.get("mesocosm") or {}
        eid = str(episode.get("id"))
        events = [e for e in traces.get(eid) or [] if isinstance(e, dict)]
        prompt, completion = extra.get("prompt_tokens"), extra.get("completion_tokens")
        episodes.append(EpisodeRecord(
            episode_id=eid, seed=episode.get("seed"),
            status=str(extra.get("status") or episode.get("status") or "unknown"),
            repeat=int(extra.get("repeat") or 0), reason=extra.get("reason"),
            error=extra.get("error") or episode.get("error"),
            total_reward=episode.get("total_reward"), steps=int(episode.get("steps") or 0),
            invalid_actions=int(extra.get("invalid_actions") or 0),
            tokens=None if prompt is None or completion is None else int(prompt + completion),
            cost=extra.get("cost"),
            wall_seconds=extra.get("wall_seconds"),
            last_info=episode.get("terminal_info") or {},
            events=events if any(e.get("event") in TRACE_EVENTS for e in events) else [],
            turns=[t for t in replay.get(eid) or [] if isinstance(t, dict)],
        ))
    agent = config.get("agent_config") or {}
    local_config = config.get("mesocosm")
    return RunSource(
        kind="export", path=path, run_id=str(run.get("id") or path.stem),
        name=str(data.get("domain_name") or data.get("domain_id") or path.stem),
        domain_id=data.get("domain_id"), version=data.get("binding_vow_version"),
        model=agent.get("model"), created_at=run.get("created_at"),
        complete=run.get("status") == "completed",
        config=local_config if isinstance(local_config, dict) else config,
        scoring=ours.get("scoring"), metrics=ours.get("metrics") or None,
        scores=dict(run.get("scores") or {}), gate=ours.get("gate"), episodes=episodes,
    )
