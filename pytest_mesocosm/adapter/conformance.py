"""Contract checks against a live adapter, one small function per rule.

In the manner of Gymnasium's ``env_checker``: each rule returns :class:`Finding` records
whose message says what is wrong and what to change. Breaking the wire contract or a
promise of the binding vow is a ``fail``; what lenient clients tolerate, or what may be
fine for this env, is a ``warn``. Rules the vow switches off report nothing. Every
episode the checker opens is closed again, whatever happens.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from pytest_mesocosm.adapter import (
    AdapterClient,
    Observation,
    parse_flag,
    parse_observation,
    parse_reward,
)
from pytest_mesocosm.errors import (
    ActionRejected,
    AdapterError,
    AdapterUnreachable,
    EnvError,
    EpisodeNotFound,
)

Status = Literal["pass", "fail", "warn"]
HEALTH_SHAPE = '{"status": "ok", "env": <class name>, "episodes": <live count>}'
STEP_KEYS = ("observation", "reward", "terminated", "truncated", "info")
DEFAULT_PROBE_STEPS = 10
MAX_PROBE_STEPS = 50


@dataclass
class Finding:
    """The verdict of one rule: ``check`` names it, ``message`` says what to fix."""

    check: str
    status: Status
    message: str


def _preview(value: Any, limit: int = 120) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def _as_dict(vow: Any) -> dict[str, Any]:
    if vow is None:
        return {}
    if isinstance(vow, dict):
        return vow
    if hasattr(vow, "model_dump"):
        return dict(vow.model_dump(by_alias=True))
    raise TypeError(f"vow must be a dict or a pydantic model, not {type(vow).__name__}")


def _midpoint(bounds: Any) -> Any:
    """Middle of continuous bounds given as {low, high}, [low, high] or [[low, high], ...]."""
    if isinstance(bounds, dict) and "low" in bounds and "high" in bounds:
        low, high = bounds["low"], bounds["high"]
        if isinstance(low, list) and isinstance(high, list):
            return [(a + b) / 2 for a, b in zip(low, high, strict=False)]
        return (low + high) / 2
    if isinstance(bounds, list) and len(bounds) == 2 and all(
        isinstance(b, (int, float)) for b in bounds
    ):
        return (bounds[0] + bounds[1]) / 2
    if isinstance(bounds, list) and all(isinstance(b, list) and len(b) == 2 for b in bounds):
        return [(b[0] + b[1]) / 2 for b in bounds]
    return 0.0


def probe_action(action_space: dict[str, Any] | None) -> Any:
    """An action the vow's action space allows, to exercise /step without a model."""
    space = action_space or {}
    kind = space.get("type", "text")
    if kind == "discrete":
        values = space.get("enum_values") or [0]
        return values[0]
    if kind == "continuous":
        return _midpoint(space.get("bounds"))
    if kind == "json":
        return {}
    return "hello"


@dataclass
class _Probe:
    """What the rules share: the client, the vow's promises, and the episodes to close."""

    client: AdapterClient
    vow: dict[str, Any]
    seeds: tuple[int, ...]
    action: Any
    opened: list[str] = field(default_factory=list)
    firsts: dict[int, Observation] = field(default_factory=dict)

    def promise(self, section: str, key: str) -> Any:
        return (self.vow.get(section) or {}).get(key)

    def reward_range(self) -> tuple[float | None, float | None]:
        bounds = self.promise("reward", "range")
        if isinstance(bounds, dict):
            return bounds.get("low"), bounds.get("high")
        if isinstance(bounds, (list, tuple)) and len(bounds) == 2:
            return bounds[0], bounds[1]
        return None, None

    async def reset(self, seed: int | None) -> tuple[str, Any]:
        """Open an episode; returns its id and the raw reset body."""
        episode_id = f"conformance-{uuid.uuid4().hex[:12]}"
        self.opened.append(episode_id)
        payload: dict[str, Any] = {"episode_id": episode_id, "seed": seed, "scenario_params": {}}
        return episode_id, await self.client.request("POST", "/reset", payload)

    async def first_observation(self, seed: int) -> Observation:
        if seed not in self.firsts:
            self.firsts[seed] = parse_observation((await self.reset(seed))[1])
        return self.firsts[seed]

    async def close_all(self) -> None:
        async def close(episode_id: str) -> None:
            with contextlib.suppress(AdapterError):
                await self.client.close(episode_id)

        await asyncio.gather(*(close(e) for e in self.opened))
        self.opened.clear()


async def check_health(p: _Probe) -> list[Finding]:
    """GET /health answers 200 with the contract's body."""
    body = await p.client.request("GET", "/health")
    if not isinstance(body, dict) or body.get("status") != "ok":
        return [Finding("health", "fail", f"GET /health answered {_preview(body)}; "
                        f"answer 200 with {HEALTH_SHAPE}")]
    missing = [k for k in ("env", "episodes") if k not in body]
    if missing:
        return [Finding("health", "warn", f"GET /health lacks {', '.join(missing)}; "
                        f"the contract's health body is {HEALTH_SHAPE}")]
    return [Finding("health", "pass", f"GET /health answers {_preview(body)}")]


async def check_reset(p: _Probe) -> list[Finding]:
    """POST /reset works; a bare observation body is tolerated but warned about."""
    _, body = await p.reset(p.seeds[0])
    # raises EnvError on a wrong content_type/system_prompt
    p.firsts[p.seeds[0]] = parse_observation(body)
    if not (isinstance(body, dict) and "data" in body):
        return [Finding("reset", "warn", f"POST /reset answered a bare observation "
                        f"{_preview(body)}; lenient clients take it as the observation, but the "
                        'contract\'s reset body is {"data", "content_type", "system_prompt"}')]
    return [Finding("reset", "pass", "POST /reset answers {data, content_type, system_prompt}")]


async def check_reset_null_seed(p: _Probe) -> list[Finding]:
    """seed=null is how a run without --seeds resets; it must work."""
    try:
        parse_observation((await p.reset(None))[1])
    except EnvError as exc:
        return [Finding("reset_null_seed", "fail", f"POST /reset with seed null failed: {exc}; "
                        "reset must accept seed=None (then pick any scenario)")]
    return [Finding("reset_null_seed", "pass", "POST /reset with seed null works")]


async def check_deterministic_reset(p: _Probe) -> list[Finding]:
    """Same seed, same first observation: what makes runs comparable and traces replayable."""
    promised = p.promise("episode", "deterministic_reset")
    if promised is False:
        return []
    for seed in p.seeds:
        first = await p.first_observation(seed)
        again = parse_observation((await p.reset(seed))[1])
        if (first.data, first.content_type) != (again.data, again.content_type):
            fix = ("derive every random choice from the seed (random.Random(seed)), or set "
                   "binding_vow.episode.deterministic_reset to false")
            if promised is None:
                fix += " (the vow does not promise deterministic_reset, so this is a warning)"
            return [Finding("deterministic_reset", "fail" if promised else "warn",
                            f"reset(seed={seed}) twice gave different observations: "
                            f"{_preview(first.data)} then {_preview(again.data)}; {fix}")]
    return [Finding("deterministic_reset", "pass",
                    f"the same seed gives the same first observation (seeds {p.seeds})")]


async def check_seed_varies(p: _Probe) -> list[Finding]:
    """Seeds that all look alike hint that the seed is ignored (or only picks hidden state)."""
    seeds = tuple(dict.fromkeys(p.seeds))
    if p.promise("episode", "supports_seed") is False or len(seeds) < 2:
        return []
    firsts = [await p.first_observation(s) for s in seeds]
    if all(obs.data == firsts[0].data for obs in firsts):
        return [Finding("seed_varies", "warn",
                        f"reset with seeds {seeds} gave the same first observation "
                        f"{_preview(firsts[0].data)}; fine if the seed only picks hidden state "
                        "(a secret word), otherwise the seed is ignored: use it, or set "
                        "binding_vow.episode.supports_seed to false")]
    return [Finding("seed_varies", "pass", f"seeds {seeds} give different first observations")]


def _step_shape_problems(body: Any) -> tuple[list[str], list[str]]:
    """(failures, warnings) of one raw step body against the contract's shape."""
    if not isinstance(body, dict):
        return [f"the body {_preview(body)} is not a JSON object {{{', '.join(STEP_KEYS)}}}"], []
    fails: list[str] = []
    warns: list[str] = []
    missing = [k for k in STEP_KEYS if k not in body]
    if missing:
        fails.append(f"the body lacks {', '.join(missing)} (got keys {sorted(body)}); "
                     f"answer {{{', '.join(STEP_KEYS)}}}")
    for flag in ("terminated", "truncated"):
        if flag not in body or isinstance(body[flag], bool):
            continue
        try:
            parse_flag(flag, body[flag])
            warns.append(f"{flag!r} is {body[flag]!r}, not a JSON boolean")
        except EnvError as exc:
            fails.append(str(exc))
    if body.get("info") is not None and not isinstance(body["info"], dict):
        fails.append(f"'info' is {_preview(body['info'])}; it must be a JSON object")
    obs = body.get("observation")
    if "observation" in body and not (isinstance(obs, dict) and "data" in obs):
        warns.append('the observation is a bare value, not {"data", "content_type"}')
    return fails, warns


def _reward_problem(p: _Probe, body: Any, step: int) -> tuple[Status, str] | None:
    if not isinstance(body, dict) or "reward" not in body:
        return None  # reported by the shape check
    try:
        reward = parse_reward(body["reward"])
    except EnvError:
        return "fail", (f"step {step}: the reward {_preview(body['reward'])} is not a finite "
                        "number; return a finite float (NaN and infinity cannot be scored)")
    low, high = p.reward_range()
    if (low is not None and reward < low) or (high is not None and reward > high):
        return "fail", (f"step {step}: reward {reward:g} is outside binding_vow.reward.range "
                        f"[{low}, {high}]; fix the reward or widen the range")
    if isinstance(body["reward"], str):
        return "warn", f"step {step}: the reward {body['reward']!r} is a string, not a number"
    return None


def _episode_over(body: Any) -> bool:
    """Stop probing at the end of the episode, or at a body too broken to tell."""
    try:
        return parse_flag("terminated", body["terminated"]) or parse_flag(
            "truncated", body["truncated"])
    except (EnvError, KeyError, TypeError):
        return True


async def _play_probe(p: _Probe, episode_id: str) -> tuple[list[Any], ActionRejected | None]:
    """Step the probe action until the episode ends; returns the raw bodies seen."""
    limit = min(p.promise("episode", "max_steps") or DEFAULT_PROBE_STEPS, MAX_PROBE_STEPS)
    bodies: list[Any] = []
    while len(bodies) < limit:
        payload = {"episode_id": episode_id, "action": p.action}
        try:
            bodies.append(await p.client.request("POST", "/step", payload))
        except ActionRejected as exc:
            return bodies, exc
        if _episode_over(bodies[-1]):
            break
    return bodies, None


def _judge_shape(bodies: list[Any]) -> Finding:
    for step, body in enumerate(bodies, 1):
        fails, warns = _step_shape_problems(body)
        if fails or warns:
            return Finding("step", "fail" if fails else "warn",
                           f"step {step}: " + "; ".join(fails + warns))
    return Finding("step", "pass", f"{len(bodies)} step answers have the contract's shape")


def _judge_rewards(p: _Probe, bodies: list[Any]) -> list[Finding]:
    seen = 0
    for step, body in enumerate(bodies, 1):
        problem = _reward_problem(p, body, step)
        if problem is not None:
            return [Finding("reward", *problem)]
        seen += isinstance(body, dict) and "reward" in body
    if not seen:
        return []  # no reward to judge; the shape check says why
    low, high = p.reward_range()
    span = f" and within [{low}, {high}]" if low is not None or high is not None else ""
    return [Finding("reward", "pass", f"{seen} rewards, all finite{span}")]


async def check_step(p: _Probe) -> list[Finding]:
    """Play the probe action through an episode; judge every body's shape and reward."""
    episode_id, _ = await p.reset(p.seeds[0])
    try:
        bodies, rejected = await _play_probe(p, episode_id)
    except EnvError as exc:
        return [Finding("step", "fail", f"POST /step with action {p.action!r} failed: {exc}")]
    hosted = [] if rejected is None else [_hosted_422(p, rejected)]
    if not bodies and rejected is not None:
        return [Finding("step", "pass", f"the env rejected the probe action {p.action!r} with "
                        f"422 ({rejected.detail}), a valid answer; no step body was seen: pass "
                        "an action it accepts as sample_action to check step bodies and rewards"),
                *hosted]
    return [_judge_shape(bodies), *_judge_rewards(p, bodies), *hosted]


def _hosted_422(p: _Probe, rejected: ActionRejected) -> Finding:
    """InvalidAction is this project's extension: the hosted runner fails on a 422."""
    return Finding("invalid_action", "warn", f"the env answered 422 (InvalidAction) to "
                   f"{_preview(p.action)}: here the model is asked again, but the hosted "
                   "platform's runner fails the episode on a 422; to run there, answer a "
                   "step with a penalty reward and the reason in the observation instead")


async def check_unknown_episode(p: _Probe) -> list[Finding]:
    """An unknown episode is 404, so the harness can tell a lost episode from a bad step."""
    payload = {"episode_id": f"conformance-unknown-{uuid.uuid4().hex[:12]}", "action": p.action}
    try:
        await p.client.request("POST", "/step", payload)
    except EpisodeNotFound:
        return [Finding("unknown_episode", "pass", "POST /step on an unknown episode is 404")]
    except EnvError as exc:
        return [Finding("unknown_episode", "fail", f"POST /step on an unknown episode_id "
                        f"answered {exc.status}; answer 404 so a lost episode is told apart")]
    return [Finding("unknown_episode", "fail", "POST /step on an unknown episode_id answered "
                    "200; answer 404 so a lost episode is told apart from a step")]


async def check_close_twice(p: _Probe) -> list[Finding]:
    """close is called in `finally`, sometimes twice; the second must not fail."""
    episode_id, _ = await p.reset(p.seeds[0])
    await p.client.request("POST", "/close", {"episode_id": episode_id})
    p.opened.remove(episode_id)
    try:
        await p.client.request("POST", "/close", {"episode_id": episode_id})
    except EpisodeNotFound:
        return [Finding("close_twice", "warn", "POST /close on a closed episode answered 404; "
                        "the contract answers {} for an unknown id (the harness tolerates it)")]
    return [Finding("close_twice", "pass", "closing an episode twice answers 200 both times")]


Rule = Callable[[_Probe], Awaitable[list[Finding]]]
RULES: tuple[Rule, ...] = (
    check_health, check_reset, check_reset_null_seed, check_deterministic_reset,
    check_seed_varies, check_step, check_unknown_episode, check_close_twice,
)
_PREREQUISITES = frozenset({check_health, check_reset})  # nothing else runs if these raise


async def acheck_adapter(
    url: str,
    *,
    vow: Any = None,
    seeds: tuple[int, ...] = (0, 1, 2),
    sample_action: Any = None,
    timeout: float = 30.0,
) -> list[Finding]:
    """Run every rule against the adapter at ``url``; see :func:`check_adapter`."""
    vow_dict = _as_dict(vow)
    action = sample_action if sample_action is not None else probe_action(
        vow_dict.get("action_space"))
    findings: list[Finding] = []
    async with AdapterClient(url, timeout=timeout) as client:
        probe = _Probe(client, vow_dict, tuple(seeds) or (0,), action)
        try:
            for rule in RULES:
                try:
                    findings.extend(await rule(probe))
                except AdapterError as exc:
                    findings.append(Finding(rule.__name__.removeprefix("check_"), "fail", str(exc)))
                    if isinstance(exc, AdapterUnreachable) or rule in _PREREQUISITES:
                        break
        finally:
            await probe.close_all()
    return findings


def check_adapter(
    url: str,
    *,
    vow: Any = None,
    seeds: tuple[int, ...] = (0, 1, 2),
    sample_action: Any = None,
    timeout: float = 30.0,
) -> list[Finding]:
    """Check the adapter at ``url`` against the wire contract and the vow's promises.

    ``vow`` is the manifest's ``binding_vow`` (a dict, or a model with ``model_dump``);
    it decides which promises are checked, the reward range and the probe action, unless
    ``sample_action`` is given. Sync wrapper: inside a running loop use acheck_adapter.
    """
    return asyncio.run(acheck_adapter(url, vow=vow, seeds=seeds, sample_action=sample_action,
                                      timeout=timeout))
