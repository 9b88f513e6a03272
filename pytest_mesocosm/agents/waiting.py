"""Say on screen why a run is waiting on its model, without one line per call.

A hung or failing model otherwise means minutes of silence: every episode waits out the
model timeout once per attempt. The notices go to the ``pytest_mesocosm.model`` logger
(the CLI and the plugin print it), at most one every :data:`QUIET_SECONDS` per agent, so
many parallel episodes waiting on the same model make one line, not many.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")
log = logging.getLogger("pytest_mesocosm.model")

QUIET_SECONDS = 15.0  # at least this long between two notices of one agent
SLOW_AFTER = 10.0  # a call pending this long (or half the model timeout) is reported


class WaitNotices:
    """Rate-limited notices about one agent's model calls."""

    def __init__(self, model: str):
        self.model = model
        self._last = float("-inf")

    def say(self, message: str) -> None:
        now = time.monotonic()
        if now - self._last >= QUIET_SECONDS:
            self._last = now
            log.warning("%s: %s", self.model, message)

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
