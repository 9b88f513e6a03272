"""Say on screen why a run is waiting on its model, without one line per call.

A hung or failing model otherwise means minutes of silence: every episode waits out the
model timeout once per attempt. Notices go to whoever :func:`listen` s (the CLI prints
them on stderr, the plugin on pytest's terminal; not logging, which pytest would capture
into some item's report), at most one every :data:`QUIET_SECONDS` per agent, so many
parallel episodes waiting on the same model make one line, not many.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")
Listener = Callable[[str], None]
_listeners: list[Listener] = []

QUIET_SECONDS = 15.0  # at least this long between two notices of one agent
SLOW_AFTER = 10.0  # a call pending this long (or half the model timeout) is reported


def listen(listener: Listener) -> Callable[[], None]:
    """Hear every notice of this process from now on; returns the call that stops it."""
    _listeners.append(listener)
    return lambda: _listeners.remove(listener) if listener in _listeners else None


def notify(message: str) -> None:
    """Tell every listener (nobody listening: the notice is dropped)."""
    for listener in list(_listeners):
        listener(message)


class WaitNotices:
    """Rate-limited notices about one agent's model calls."""

    def __init__(self, model: str):
        self.model = model
        self._last = float("-inf")

    def say(self, message: str) -> None:
        now = time.monotonic()
        if now - self._last >= QUIET_SECONDS:
            self._last = now
            notify(f"{self.model}: {message}")

    async def watch(self, call: Awaitable[T], timeout: float, retries: int) -> T:
        """Await ``call``; if it is still pending after a while, say so once."""
        after = min(SLOW_AFTER, timeout / 2)
        task = asyncio.ensure_future(call)
        try:
            done, _ = await asyncio.wait({task}, timeout=after)
            if not done:
                self.say(f"no answer for {after:g} s yet (model timeout {timeout:g} s, "
                         f"{retries} retries: the model timeout and retries options set them)")
            return await task
        finally:
            task.cancel()
