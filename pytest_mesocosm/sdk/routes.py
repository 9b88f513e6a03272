"""The five routes of the adapter wire contract, as plain async functions of a decoded body.

Each handler takes the request's JSON object and answers ``(status, body bytes)``; HTTP
itself (reading, size limits, sending) is the server's job. Exceptions raised by env
code become the contract's answers: :class:`InvalidAction` 422, ``NotImplementedError``
501, anything else 500 with ``"<ExcType>: msg"`` (and a traceback in the adapter's log,
where an env author looks).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from pytest_mesocosm.sdk import wire
from pytest_mesocosm.sdk.env import BaseEnv, InvalidAction
from pytest_mesocosm.sdk.episodes import Episode, Episodes, log

Answer = tuple[int, bytes]


def error(status: int, detail: str) -> Answer:
    return status, wire.dumps({"detail": detail})


def _failed(exc: Exception, episode_id: str | None, call: str) -> Answer:
    """The contract's answer to an exception raised by env code (or found in its output)."""
    if isinstance(exc, wire.WireError):
        if exc.status >= 500:
            log.error("episode %r: %s", episode_id, exc.detail)
        return error(exc.status, exc.detail)
    if isinstance(exc, InvalidAction):
        return error(422, str(exc) or f"{call} raised InvalidAction")
    if isinstance(exc, NotImplementedError):
        return error(501, str(exc) or f"{call} is not implemented")
    log.error("%s raised in episode %r", call, episode_id, exc_info=exc)
    return error(500, f"{type(exc).__name__}: {exc}")


def _unknown(episode_id: str) -> wire.WireError:
    return wire.WireError(404, f"unknown episode_id {episode_id!r}; call /reset first (an "
                               "episode ends at /close, or when it has been idle too long)")


def _apply(env: BaseEnv, action: Any) -> Any:
    return env.step(env.parse_action(action))


class Contract:
    """``/health``, ``/reset``, ``/step``, ``/render`` and ``/close`` over one registry."""

    def __init__(self, episodes: Episodes) -> None:
        self.episodes = episodes
        self.env_name = episodes.env_class.__name__

    async def _locked(self, episode_id: str) -> Episode:
        """The live episode with its lock held, or a 404."""
        episode = self.episodes.get(episode_id)
        if episode is None:
            raise _unknown(episode_id)
        await episode.lock.acquire()
        if episode.closed:
            episode.lock.release()
            raise _unknown(episode_id)
        return episode

    async def health(self, body: dict[str, Any]) -> Answer:
        return 200, wire.dumps({"status": "ok", "env": self.env_name,
                                "episodes": len(self.episodes)})

    async def reset(self, body: dict[str, Any]) -> Answer:
        episode_id = wire.episode_id_of(body)
        seed = wire.seed_of(body)
        params = wire.scenario_params_of(body)
        episodes = self.episodes
        unknown = wire.unknown_params(episodes.env_class, params)
        if unknown:  # a TypeError inside reset would be a 500, blaming the env
            return error(400, f"scenario_params {', '.join(map(repr, unknown))} are not "
                              f"parameters of {self.env_name}.reset(); drop them or add them")
        try:
            episode = episodes.get(episode_id) or await episodes.create(episode_id)
        except Exception as exc:
            return _failed(exc, episode_id, f"{self.env_name}()")
        async with episode.lock:
            if episode.closed:
                return error(409, f"episode {episode_id!r} was closed during reset; reset again")
            try:
                payload = wire.reset_body(await episodes.call(episode.env.reset, seed, **params))
            except Exception as exc:
                # A failed reset leaves no episode behind: its state is undefined.
                if episodes.discard(episode_id, episode):
                    await episodes.close_quietly(episode_id, episode, held=True)
                return _failed(exc, episode_id, "reset()")
            episode.steps = 0
            episode.last_used = time.monotonic()
        return 200, payload

    async def step(self, body: dict[str, Any]) -> Answer:
        episode_id = wire.episode_id_of(body)
        action = body.get("action")

        async def advance(episode: Episode) -> bytes:
            result = await self.episodes.call(_apply, episode.env, action)
            episode.steps += 1
            return wire.step_body(result, episode.steps)

        return await self._on_episode(episode_id, "step()", advance)

    async def render(self, body: dict[str, Any]) -> Answer:
        episode_id = wire.episode_id_of(body)
        mode = wire.mode_of(body)

        async def draw(episode: Episode) -> bytes:
            return wire.render_body(await self.episodes.call(episode.env.render, mode))

        return await self._on_episode(episode_id, "render()", draw)

    async def _on_episode(
        self, episode_id: str, what: str, work: Callable[[Episode], Awaitable[bytes]]
    ) -> Answer:
        """Run ``work`` on a live episode under its lock; an env exception is its answer."""
        episode = await self._locked(episode_id)
        try:
            return 200, await work(episode)
        except Exception as exc:
            return _failed(exc, episode_id, what)
        finally:
            episode.last_used = time.monotonic()
            episode.lock.release()

    async def close(self, body: dict[str, Any]) -> Answer:
        episode_id = wire.episode_id_of(body)
        episode = self.episodes.get(episode_id)
        if episode is not None and self.episodes.discard(episode_id, episode):
            try:
                await self.episodes.close(episode)
            except Exception as exc:
                return _failed(exc, episode_id, "close()")
        return 200, b"{}"
