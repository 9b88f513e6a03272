"""The one place the server calls the engine: play one episode of a run.

The run's stored config and the domain's vow become the engine's ``TaskInfo``,
``EpisodeLimits`` and ``AgentOptions``; the engine's ``run_episode`` plays against the
domain's endpoint (the hosted prompt profile, with the contexts of the techniques the
run asks for); the result comes back as the engine's record plus the hosted
episode fields (status, terminal_info) and the trace events, kept in memory and stored
in the database with the episode's final state, and passed on as written to watch the
episode live (live.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from pytest_mesocosm.adapter import AdapterClient
from pytest_mesocosm.agents import TaskInfo, TechniqueUse, make_agent
from pytest_mesocosm.engine.config import AgentOptions, EpisodeLimits
from pytest_mesocosm.engine.episode import EpisodeSpec, run_episode
from pytest_mesocosm.engine.export import HOSTED_STATUS
from pytest_mesocosm.engine.outcomes import EpisodeResult, EpisodeStatus
from pytest_mesocosm.engine.traces import TraceWriter, json_safe, utc_iso
from pytest_mesocosm.errors import MesocosmError

OLLAMA_MIN_TOKENS = 512  # the hosted worker's floor for ollama/ models
ENV_TIMEOUT = 60.0  # seconds per adapter request, as hosted


class EventRecorder:
    """Collects trace events in memory, passing each to ``on_event`` as it is written;
    stands where the engine expects a TraceWriter."""

    def __init__(self, on_event: Callable[[dict[str, Any]], None] | None = None) -> None:
        self.events: list[dict[str, Any]] = []
        self.on_event = on_event
        self.started_at = time.time()
        self._t0 = time.monotonic()

    def write(self, event: str, **fields: Any) -> None:
        record = {"event": event, "t": round(time.monotonic() - self._t0, 6), **fields}
        if event == "episode_start":
            record.setdefault("started_at", utc_iso(self.started_at))
        self.events.append(json_safe(record))
        if self.on_event is not None:
            self.on_event(self.events[-1])


@dataclass
class Played:
    result: EpisodeResult
    status: str  # the hosted episode status
    terminal_info: dict[str, Any]
    events: list[dict[str, Any]]


def agent_options(agent_config: dict[str, Any]) -> AgentOptions:
    model = str(agent_config["model"])
    if model.startswith("google/gemini-"):
        model = "gemini/" + model[len("google/"):]
    max_tokens = int(agent_config.get("max_tokens") or 4096)
    if model.startswith("ollama"):
        max_tokens = max(max_tokens, OLLAMA_MIN_TOKENS)
    return AgentOptions(model=model, temperature=float(agent_config.get("temperature") or 0.0),
                        max_tokens=max_tokens, system_prompt=agent_config.get("system_prompt"),
                        prompt_style="hosted")


def episode_limits(vow: dict[str, Any], step_cap: int, token_budget: int) -> EpisodeLimits:
    rules = vow.get("episode") or {}
    declared = rules.get("max_steps")
    return EpisodeLimits(
        max_steps=min(declared, step_cap) if declared else step_cap,
        max_wall_seconds=rules.get("max_wall_seconds"),
        max_tokens_total=token_budget,
    )


def hosted_outcome(result: EpisodeResult, limits: EpisodeLimits,
                   vow: dict[str, Any], step_cap: int) -> tuple[str, dict[str, Any]]:
    """The hosted status and terminal_info of an engine result (PLATFORM_API.md 5.4, 5.5)."""
    tokens = result.tokens
    if result.status is EpisodeStatus.TRUNCATED and result.reason == "env":
        return "completed", {**result.last_info, "total_tokens": tokens}
    if result.status is EpisodeStatus.TRUNCATED and result.reason == "token_budget":
        return "failed", {"reason": "token_budget_exceeded", "total_tokens": tokens,
                          "budget": limits.max_tokens_total}
    if result.status is EpisodeStatus.TRUNCATED:
        info = dict(result.last_info)
        return "truncated", {**info, "reason": info.get("reason") or "step_limit",
                             "max_steps": limits.max_steps,
                             "declared_max_steps": (vow.get("episode") or {}).get("max_steps"),
                             "platform_max_steps": step_cap, "total_tokens": tokens}
    if result.status is EpisodeStatus.TIMEOUT:
        return "timeout", {"reason": "wall_time_limit", "total_tokens": tokens}
    if result.status is EpisodeStatus.COMPLETED:
        return "completed", {**result.last_info, "total_tokens": tokens}
    return HOSTED_STATUS[result.status], {"error": result.error or result.status.value}


def techniques(agent_config: dict[str, Any]) -> tuple[TechniqueUse, ...]:
    """The techniques a run asked for (the create route checked the vow declares them);
    the hosted profile adds their contexts to the prompt."""
    return tuple(TechniqueUse(str(t["technique_id"]), dict(t.get("params") or {}))
                 for t in agent_config.get("techniques") or [])


async def play(
    *, episode_id: str, seed: int | None, env_url: str, domain: dict[str, Any],
    run_config: dict[str, Any], step_cap: int, token_budget: int,
    on_event: Callable[[dict[str, Any]], None] | None = None,
) -> Played:
    """Play one episode; every failure ends as a ``failed`` episode, never an exception.
    ``on_event`` sees each trace event as it is written."""
    vow = domain["binding_vow"]
    limits = episode_limits(vow, step_cap, token_budget)
    recorder = EventRecorder(on_event)
    agent_config = run_config["agent_config"]
    task = TaskInfo(name=domain.get("name") or vow.get("domain_id", ""),
                    description=vow.get("description") or None,
                    action_space=vow.get("action_space") or {"type": "text"},
                    observation_space=vow.get("observation_space") or {"type": "json"},
                    system_prompt=agent_config.get("system_prompt"),
                    domain_description=vow.get("description") or None,
                    techniques=techniques(agent_config))
    spec = EpisodeSpec(episode_id=episode_id, seed=seed, limits=limits)
    try:
        agent = make_agent(agent_options(run_config["agent_config"]))
    except MesocosmError as exc:
        result = EpisodeResult(episode_id=episode_id, seed=seed,
                               status=EpisodeStatus.MODEL_ERROR, error=str(exc))
        return Played(result, "failed", {"error": str(exc)}, [])
    try:
        async with AdapterClient(env_url, timeout=ENV_TIMEOUT) as client:
            result = await run_episode(spec, client=client, agent=agent, task=task,
                                       trace=cast(TraceWriter, recorder))
    finally:
        await agent.aclose()
    status, terminal_info = hosted_outcome(result, limits, vow, step_cap)
    return Played(result, status, json_safe(terminal_info), recorder.events)
