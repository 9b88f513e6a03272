"""Export a local run folder as the hosted platform's replay JSON (``run export``).

The format is the one ``GET /v1/runs/{id}/export`` answers, so showcase viewers
replay local runs unchanged::

    {schema_version: "1", exported_at, visibility, domain_id, domain_name,
     binding_vow_version, run, episodes, traces: {episode_id: [event]},
     replay: {episode_id: [turn]}}

where a turn is ``{step, timestamp, observation, reasoning, model, action, reward,
terminated, truncated, info}``. A run written with ``complete=False`` (or an
``interrupted: true`` extra) exports as ``cancelled``. Hosted episode statuses are ``completed``,
``truncated``, ``timeout`` and ``failed``; our ``invalid``, ``env_error`` and
``model_error`` become ``failed`` and the exact status stays in ``episode.mesocosm``.
``include_reasoning=False`` strips reasoning, ``<think>`` blocks and system prompts,
as the platform does for viewers who do not own the run.
The shape is pinned by ``schemas/replay.schema.json``.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]

from pytest_mesocosm.engine.outcomes import EpisodeStatus
from pytest_mesocosm.engine.traces import (
    RunFolder,
    TraceError,
    read_results,
    read_trace,
    results_of,
    utc_iso,
    write_json_atomic,
)

SCHEMA_VERSION = "1"
HOSTED_STATUS = {
    EpisodeStatus.COMPLETED: "completed",
    EpisodeStatus.TRUNCATED: "truncated",
    EpisodeStatus.TIMEOUT: "timeout",
    EpisodeStatus.INVALID: "failed",
    EpisodeStatus.ENV_ERROR: "failed",
    EpisodeStatus.MODEL_ERROR: "failed",
}
_PRIVATE_KEYS = frozenset({"reasoning", "system_prompt"})
_THINK = re.compile(r"<(think|thinking)>.*?</\1>\s*", re.DOTALL | re.IGNORECASE)


def replay_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the replay export, shipped with the package."""
    text = resources.files("pytest_mesocosm").joinpath("schemas/replay.schema.json").read_text(
        encoding="utf-8"
    )
    schema: dict[str, Any] = json.loads(text)
    return schema


def validate_export(data: Any) -> None:
    """Raise TraceError naming the first place where ``data`` breaks the replay schema."""
    validator = jsonschema.Draft202012Validator(replay_schema())
    error = jsonschema.exceptions.best_match(validator.iter_errors(data))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
        raise TraceError(f"replay export breaks the schema at {where}: {error.message}")


def _redact(value: Any) -> Any:
    """Drop reasoning and system prompts anywhere in ``value`` (a copy)."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key in _PRIVATE_KEYS:
                continue
            if key == "messages" and isinstance(item, list):
                item = [m for m in item if not (isinstance(m, dict) and m.get("role") == "system")]
            out[key] = _redact(item)
        return out
    if isinstance(value, list):
        return [_redact(v) for v in value]
    if isinstance(value, str):
        return _THINK.sub("", value)
    return value


def _epoch(iso: str | None) -> float | None:
    if not iso:
        return None
    try:
        return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _at(start: float | None, t: Any) -> str | None:
    return utc_iso(start + float(t)) if start is not None and isinstance(t, (int, float)) else None


def _unwrap(observation: Any) -> Any:
    """The wire's ``{"data", "content_type"}`` envelope gives its data; anything else as is."""
    if isinstance(observation, dict) and "data" in observation and set(observation) <= {
        "data", "content_type"
    }:
        return observation["data"]
    return observation


def replay_turns(events: list[dict[str, Any]], model: str | None) -> list[dict[str, Any]]:
    """Replay turns: the observation seen, the reasoning, the action and what it earned."""
    start = next(
        (_epoch(e.get("started_at")) for e in events if e.get("event") == "episode_start"), None
    )
    turns: list[dict[str, Any]] = []
    observation: Any = None
    reasoning: Any = None
    for event in events:
        kind = event.get("event")
        if kind == "episode_start":
            model = event.get("model") or model
        elif kind == "observation":
            observation = event.get("data")
        elif kind == "model_call":
            reasoning = event.get("reasoning")
        elif kind == "step_result":
            turns.append({
                "step": event.get("step", len(turns) + 1),
                "timestamp": _at(start, event.get("t")),
                "observation": observation,
                "reasoning": reasoning,
                "model": model,
                "action": event.get("action"),
                "reward": event.get("reward"),
                "terminated": bool(event.get("terminated", False)),
                "truncated": bool(event.get("truncated", False)),
                "info": event.get("info") or {},
            })
            observation, reasoning = _unwrap(event.get("observation")), None
    return turns


def _episode_times(events: list[dict[str, Any]]) -> tuple[str | None, str | None]:
    start_iso = next(
        (e.get("started_at") for e in events if e.get("event") == "episode_start"), None
    )
    start = _epoch(start_iso)
    end = next((e.get("t") for e in reversed(events) if e.get("event") == "episode_end"), None)
    return (utc_iso(start) if start is not None else None), _at(start, end)


def _domain(manifest: dict[str, Any]) -> tuple[str, str, str | None]:
    name = manifest.get("name") or manifest.get("domain_name")
    slug = re.sub(r"[^a-z0-9]+", "-", str(name).lower()).strip("-") if name else ""
    domain_id = str(manifest.get("id") or manifest.get("domain_id") or slug or "local")
    vow = manifest.get("binding_vow") or {}
    version = vow.get("version") if isinstance(vow, dict) else None
    return domain_id, str(name or domain_id), version or manifest.get("binding_vow_version")


def _run_config(
    config: dict[str, Any], domain_id: str, version: str | None, episodes: int
) -> dict[str, Any]:
    """The hosted run's config shape (the POST /v1/runs body), with ours kept whole."""
    agent = config.get("agent") or {}
    return {
        "domain_id": domain_id,
        "binding_vow_version": version,
        "agent_config": {
            "model": agent.get("model"),
            "system_prompt": agent.get("system_prompt"),
            "techniques": [],
            "temperature": agent.get("temperature", 0.0),
            "max_tokens": agent.get("max_tokens", 512),
        },
        "seed_set": config.get("seeds"),
        "num_episodes": episodes,
        "max_parallel": config.get("parallel", 1),
        "mesocosm": config,
    }


def export_run(
    run_dir: Path, *, manifest: dict[str, Any] | None = None, include_reasoning: bool = True
) -> dict[str, Any]:
    """Build the replay JSON of a run folder (results.json plus its traces)."""
    folder = RunFolder.open(run_dir)
    data = read_results(folder.results_path)
    results = results_of(data, folder.results_path)
    domain_id, domain_name, version = _domain(manifest or data.get("manifest") or {})
    config = data.get("config") or {}
    model = (config.get("agent") or {}).get("model")
    episodes, traces, replay = [], {}, {}
    for result in results:
        path = folder.trace_file(result)
        events = read_trace(path) if path else []
        started_at, ended_at = _episode_times(events)
        episodes.append({
            "id": result.episode_id,
            "run_id": folder.run_id,
            "seed": result.seed,
            "status": HOSTED_STATUS[result.status],
            "started_at": started_at,
            "ended_at": ended_at,
            "steps": result.steps,
            "total_reward": result.total_reward,
            "terminal_info": result.last_info,
            "mesocosm": {
                "status": result.status.value,
                "repeat": result.repeat,
                "reason": result.reason,
                "error": result.error,
                "invalid_actions": result.invalid_actions,
                "prompt_tokens": result.prompt_tokens,
                "completion_tokens": result.completion_tokens,
                "cost": result.cost,
                "wall_seconds": result.wall_seconds,
            },
        })
        traces[result.episode_id] = events
        replay[result.episode_id] = replay_turns(events, model)
    metrics = data.get("metrics") or {}
    complete = bool(data.get("complete", True)) and not data.get("interrupted", False)
    export: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "exported_at": utc_iso(),
        "visibility": "private",
        "domain_id": domain_id,
        "domain_name": domain_name,
        "binding_vow_version": version,
        "run": {
            "id": folder.run_id,
            "config": _run_config(config, domain_id, version, len(results)),
            "status": "completed" if complete else "cancelled",
            "created_at": data.get("created_at"),
            "completed_at": data.get("updated_at") if complete else None,
            "scores": {k: v.get("value") for k, v in (metrics.get("metrics") or {}).items()},
            "requester_id": None,
            "team_id": None,
            "env_id": None,
            "mesocosm": {
                "complete": complete,
                "metrics": metrics or None,
                "gate": data.get("gate"),
                "scoring": (data.get("manifest") or {}).get("scoring"),
            },
        },
        "episodes": episodes,
        "traces": traces,
        "replay": replay,
    }
    if not include_reasoning:
        export["run"] = _redact(export["run"])
        export["traces"] = _redact(traces)
        export["replay"] = {
            eid: [{**_redact(turn), "reasoning": None} for turn in turns]
            for eid, turns in replay.items()
        }
    return export


def write_export(
    run_dir: Path,
    out_path: Path,
    *,
    manifest: dict[str, Any] | None = None,
    include_reasoning: bool = True,
) -> Path:
    """Export a run folder to ``out_path`` (written atomically); return the path."""
    data = export_run(run_dir, manifest=manifest, include_reasoning=include_reasoning)
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    write_json_atomic(out_path, data)
    return out_path
