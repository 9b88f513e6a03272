"""The live episodes of one server: one env instance per ``episode_id``.

Each episode carries an ``asyncio.Lock`` so calls on it never overlap (a blocking env's
step runs in a thread while other episodes keep going), a step counter for error
messages, and the time it was last used so idle episodes can be reaped: a harness
that crashes mid-run must not leak env instances in a long-lived adapter.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pytest_mesocosm.sdk.env import BaseEnv

log = logging.getLogger("pytest_mesocosm.sdk")

T = TypeVar("T")


@dataclass(eq=False)
class Episode:
    """One episode's env instance and bookkeeping."""

    env: BaseEnv
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    steps: int = 0
    last_used: float = field(default_factory=time.monotonic)
    closed: bool = False


class Episodes:
    """The registry of live episodes, with idle reaping and close-all on shutdown."""

    def __init__(self, env_class: type[BaseEnv], *, idle_timeout: float | None) -> None:
        self.env_class = env_class
        self.idle_timeout = idle_timeout
        self._live: dict[str, Episode] = {}
        self._reaper: asyncio.Task[None] | None = None

    def __len__(self) -> int:
        return len(self._live)

    def get(self, episode_id: str) -> Episode | None:
        return self._live.get(episode_id)

    async def create(self, episode_id: str) -> Episode:
        """Build a fresh env instance for ``episode_id`` and register it."""
        env = await self.call(self.env_class)
        existing = self._live.get(episode_id)
        if existing is not None:  # a concurrent reset of the same id registered one first
            await self.call(env.close)
            return existing
        episode = self._live[episode_id] = Episode(env)
        return episode

    def discard(self, episode_id: str, episode: Episode) -> bool:
        """Unregister ``episode`` if it is still the one live under ``episode_id``."""
        if self._live.get(episode_id) is episode:
            del self._live[episode_id]
            return True
        return False

    async def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run env code inline (fast envs) or in a worker thread (``blocking = True``)."""
        if self.env_class.blocking:
            return await asyncio.to_thread(fn, *args, **kwargs)
        return fn(*args, **kwargs)

    async def close(self, episode: Episode, *, held: bool = False) -> None:
        """Close an unregistered episode once, after any call in flight on it finishes.

        ``held`` says the caller already holds the episode's lock.
        """
        if not held:
            async with episode.lock:
                return await self.close(episode, held=True)
        if not episode.closed:
            episode.closed = True
            await self.call(episode.env.close)

    async def close_quietly(self, episode_id: str, episode: Episode, *, held: bool = False) -> None:
        """Close where nobody waits for an answer (reaper, shutdown, failed reset): log only."""
        try:
            await self.close(episode, held=held)
        except Exception:
            log.exception("close() of episode %r raised", episode_id)

    async def close_all(self) -> None:
        live, self._live = self._live, {}
        for episode_id, episode in live.items():
            await self.close_quietly(episode_id, episode)

    def start_reaper(self) -> None:
        if self.idle_timeout is not None:
            self._reaper = asyncio.get_running_loop().create_task(self._reap(self.idle_timeout))

    async def stop(self) -> None:
        """Stop reaping and close every live episode (the server is shutting down)."""
        if self._reaper is not None:
            self._reaper.cancel()
            await asyncio.gather(self._reaper, return_exceptions=True)
        await self.close_all()

    async def _reap(self, timeout: float) -> None:
        interval = min(30.0, max(0.05, timeout / 4))
        while True:
            await asyncio.sleep(interval)
            cutoff = time.monotonic() - timeout
            for episode_id, episode in list(self._live.items()):
                if episode.last_used < cutoff and not episode.lock.locked():
                    self.discard(episode_id, episode)
                    log.info("closing episode %r: idle for over %g s", episode_id, timeout)
                    await self.close_quietly(episode_id, episode)
