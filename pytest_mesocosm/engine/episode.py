"""One episode, start to end: the only copy of the loop in the project.

reset -> observe -> ask the agent -> step -> ... until the env ends the episode or a
limit does; ``/close`` always runs. Episode-level failures never raise out of
:func:`run_episode`: they become the ``status`` of the returned
:class:`~pytest_mesocosm.outcomes.EpisodeResult`, so one broken episode never stops a
run. Only cancellation (Ctrl-C) propagates, after the trace has been closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from typing import Any

from pytest_mesocosm.adapter import AdapterClient
from pytest_mesocosm.agents.base import Agent, AgentContext, AgentReply, TaskInfo, Turn
from pytest_mesocosm.engine.config import EpisodeLimits
from pytest_mesocosm.engine.outcomes import (
    FEEDBACK_CHARS,
    EpisodeResult,
    EpisodeStatus,
    trim,
)
from pytest_mesocosm.engine.traces import TraceWriter
from pytest_mesocosm.errors import (
    ActionRejected,
    AdapterError,
    AgentError,
)

INTERRUPTED = "interrupted"  # the trace's end status of an episode cut short (Ctrl-C)


@dataclass
class EpisodeSpec:
    """Which episode to play and under which limits."""

    episode_id: str
    seed: int | None
    repeat: int = 0
    limits: EpisodeLimits = field(default_factory=EpisodeLimits)
    scenario_params: dict[str, Any] = field(default_factory=dict)


class _EpisodeEnded(Exception):
    """Internal: unwinds the loop with the final status once an outcome is decided."""

    def __init__(self, status: EpisodeStatus, reason: str | None = None, error: str | None = None):
        super().__init__(error or reason or status.value)
        self.status = status
        self.reason = reason
        self.error = error


class _Episode:
    """The mutable state of one running episode, and the steps that change it."""

    def __init__(
        self,
        spec: EpisodeSpec,
        client: AdapterClient,
        agent: Agent,
        task: TaskInfo,
        trace: TraceWriter | None,
    ):
        self.spec = spec
        self.client = client
        self.agent = agent
        self.task = task
        self.trace = trace
        self.result = EpisodeResult(
            episode_id=spec.episode_id, seed=spec.seed, repeat=spec.repeat,
            status=EpisodeStatus.COMPLETED,
        )
        self.history: list[Turn] = []
        self.started = time.monotonic()
        self.waiting_since: float | None = None  # set while a model call is pending

    def _event(self, event: str, **data: Any) -> None:
        if self.trace is not None:
            self.trace.write(event, **data)

    async def play(self) -> None:
        limits = self.spec.limits
        observation = await self.client.reset(
            self.spec.episode_id, self.spec.seed, self.spec.scenario_params
        )
        data, content_type = observation.data, observation.content_type
        system_prompt = observation.system_prompt
        info: dict[str, Any] = {}
        self._event("observation", step=0, data=data, content_type=content_type)
        while True:
            if limits.max_steps is not None and self.result.steps >= limits.max_steps:
                raise _EpisodeEnded(EpisodeStatus.TRUNCATED, reason="step_limit")
            ctx = AgentContext(
                task=self.task, episode_id=self.spec.episode_id, seed=self.spec.seed,
                step=self.result.steps, observation=data, content_type=content_type,
                env_system_prompt=system_prompt, info=info, history=self.history,
            )
            action, raw_text, step = await self._act_until_accepted(ctx)
            self.result.steps += 1
            self.result.rewards.append(step.reward)
            self.result.total_reward += step.reward
            info = step.info
            self.result.last_info = info
            data, content_type = step.observation.data, step.observation.content_type
            if step.system_prompt is not None:
                system_prompt = step.system_prompt
            self.history.append(Turn(observation=ctx.observation, raw_text=raw_text,
                                     action=action, reward=step.reward))
            self._event(
                "step_result", step=self.result.steps, action=action, observation=data,
                content_type=content_type, reward=step.reward, terminated=step.terminated,
                truncated=step.truncated, info=info,
            )
            if step.terminated:
                raise _EpisodeEnded(EpisodeStatus.COMPLETED)
            if step.truncated:
                raise _EpisodeEnded(EpisodeStatus.TRUNCATED, reason="env")

    async def _act_until_accepted(self, ctx: AgentContext) -> tuple[Any, str, Any]:
        """Ask the agent until the env accepts an action or the invalid budget is spent."""
        rejections = 0
        while True:
            reply = await self._ask(ctx)
            if reply.parse_error is None:
                self._event("action", step=ctx.step, action=reply.action)
                try:
                    return reply.action, reply.raw_text, await self.client.step(
                        self.spec.episode_id, reply.action
                    )
                except ActionRejected as exc:
                    reason = _detail_text(exc.detail) or str(exc)
            else:
                reason = reply.parse_error
            reason = trim(reason, FEEDBACK_CHARS)  # an env may echo a huge action back
            self.result.reject(reason)
            rejections += 1
            self._event("invalid_action", step=ctx.step, action=reply.action,
                        raw_text=reply.raw_text, reason=reason)
            self.history.append(Turn(observation=ctx.observation, raw_text=reply.raw_text,
                                     action=reply.action, feedback=reason))
            if rejections > self.spec.limits.invalid_retries:
                raise _EpisodeEnded(EpisodeStatus.INVALID, reason="invalid_action_budget",
                                    error=f"invalid action at step {ctx.step + 1}: {reason}")
            ctx.feedback = reason

    async def _ask(self, ctx: AgentContext) -> AgentReply:
        limits = self.spec.limits
        self.waiting_since = time.monotonic()
        reply = await self.agent.act(ctx)
        self.waiting_since = None
        result = self.result
        result.prompt_tokens += reply.prompt_tokens
        result.completion_tokens += reply.completion_tokens
        if reply.cached:  # from the cassette: no call made, nothing paid
            result.cache_hits += 1
            result.saved_tokens += reply.prompt_tokens + reply.completion_tokens
            result.saved_cost += reply.cost
        else:
            result.model_calls += 1
            result.cost += reply.cost
            result.cache_misses += reply.cached is False
        self._event(
            "model_call", step=ctx.step, messages=reply.messages, raw_text=reply.raw_text,
            reasoning=reply.reasoning, prompt_tokens=reply.prompt_tokens,
            completion_tokens=reply.completion_tokens, cost=reply.cost, latency=reply.latency,
            cached=reply.cached,
        )
        if limits.max_tokens_total is not None and result.tokens > limits.max_tokens_total:
            raise _EpisodeEnded(EpisodeStatus.TRUNCATED, reason="token_budget")
        if limits.max_cost is not None and result.cost + result.saved_cost > limits.max_cost:
            raise _EpisodeEnded(EpisodeStatus.TRUNCATED, reason="cost_budget")
        return reply


def _model_stall(episode: _Episode, budget: float | None) -> str | None:
    """Why a wall-clock timeout is the model's fault, or None when the play ran out of time.

    The deadline fired during a model call that had been pending for at least half the
    episode's budget: the model hung, or kept failing and backing off (a 429 asking to
    wait longer than the budget). That is a ``model_error``, not a lost game.
    """
    if episode.waiting_since is None or not budget:
        return None
    waited = time.monotonic() - episode.waiting_since
    if waited < budget / 2:
        return None
    return (f"the model gave no usable answer for {waited:.1f} s, past the episode's "
            f"max_wall_seconds={budget:g} (it hung, failed, or asked to wait longer); "
            "lower the model timeout/retries or check the model server")


def _detail_text(detail: Any) -> str:
    return detail if isinstance(detail, str) else ("" if detail is None else str(detail))


async def run_episode(
    spec: EpisodeSpec,
    *,
    client: AdapterClient,
    agent: Agent,
    task: TaskInfo,
    trace: TraceWriter | None = None,
) -> EpisodeResult:
    """Play one episode and return its result; never raises for an episode-level failure.

    ``spec.limits.max_wall_seconds`` bounds the whole episode (status ``timeout``);
    ``max_steps`` ends it as ``truncated`` with reason ``step_limit``; token and cost
    budgets end it as ``truncated`` too. The env's ``/close`` runs in every case.
    """
    episode = _Episode(spec, client, agent, task, trace)
    result = episode.result
    episode._event("episode_start", episode_id=spec.episode_id, seed=spec.seed,
                   repeat=spec.repeat, model=getattr(agent, "name", None), domain=task.name)
    ended = None  # how the trace says it ended, when it is not the result's status
    try:
        await asyncio.wait_for(episode.play(), timeout=spec.limits.max_wall_seconds)
    except (asyncio.CancelledError, KeyboardInterrupt):
        ended = INTERRUPTED
        raise
    except _EpisodeEnded as end:
        result.status, result.reason, result.error = end.status, end.reason, end.error
    except asyncio.TimeoutError:
        stalled = _model_stall(episode, spec.limits.max_wall_seconds)
        if stalled is not None:  # time lost on a failing model is not the player's loss
            result.status, result.error = EpisodeStatus.MODEL_ERROR, stalled
        else:
            result.status, result.reason = EpisodeStatus.TIMEOUT, "max_wall_seconds"
            result.error = f"episode ran past max_wall_seconds={spec.limits.max_wall_seconds}"
    except AdapterError as exc:
        result.status, result.error = EpisodeStatus.ENV_ERROR, str(exc)
    except AgentError as exc:
        result.status, result.error = EpisodeStatus.MODEL_ERROR, str(exc)
    finally:
        result.wall_seconds = time.monotonic() - episode.started
        await _close_quietly(client, spec.episode_id)
        episode._event(
            "episode_end", status=ended or result.status.value, reason=result.reason,
            error=result.error,
            total_reward=result.total_reward, steps=result.steps,
            invalid_actions=result.invalid_actions, prompt_tokens=result.prompt_tokens,
            completion_tokens=result.completion_tokens, cost=result.cost,
            model_calls=result.model_calls, cache_hits=result.cache_hits,
            cache_misses=result.cache_misses, saved_tokens=result.saved_tokens,
            saved_cost=result.saved_cost,
            wall_seconds=result.wall_seconds, terminal_info=result.last_info,
        )
    return result


async def _close_quietly(client: AdapterClient, episode_id: str) -> None:
    """``/close`` in ``finally``: a dead adapter must not mask the episode's own outcome.

    A cancellation (Ctrl-C) arriving meanwhile waits for the close to finish, so no close
    call is left running after the session's connection pool is gone.
    """
    closing = asyncio.ensure_future(client.close(episode_id))
    with contextlib.suppress(AdapterError, asyncio.CancelledError):
        try:
            await asyncio.shield(closing)
        except asyncio.CancelledError:
            await closing
