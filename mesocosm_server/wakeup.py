"""Wake this process's worker the moment there may be work, from any thread.

Routes run in worker threads and commit before they answer; the worker sleeps on the
event loop. Without a wake-up, new episodes and freed slots wait for the next poll (the
poll stays, slower, for work enqueued by another server process on the same database).
"""

from __future__ import annotations

import asyncio


class Wakeup:
    """A thread-safe nudge for one asyncio task, bound to its loop when it starts waiting."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._event: asyncio.Event | None = None

    def bind(self) -> None:
        """Called by the waiting task, on its loop, before it first waits."""
        self._loop = asyncio.get_running_loop()
        self._event = asyncio.Event()

    def notify(self) -> None:
        """Safe from any thread; a no-op until the worker has started."""
        loop, event = self._loop, self._event
        if loop is not None and event is not None and not loop.is_closed():
            loop.call_soon_threadsafe(event.set)

    async def wait(self, timeout: float) -> None:
        """Until notified or ``timeout`` seconds pass; a notice during work is kept."""
        assert self._event is not None, "bind() first"
        try:
            await asyncio.wait_for(self._event.wait(), timeout)
        except asyncio.TimeoutError:
            return
        self._event.clear()
