"""Run a bench coroutine to its end, turning Ctrl-C into a cancellation it can handle.

Python's default SIGINT handler raises ``KeyboardInterrupt`` wherever the main thread
happens to be, which can tear an episode or a connection pool apart half-way and leave
close calls running after the loop is gone ("Task exception was never retrieved",
"Unclosed client session"). Here Ctrl-C cancels the main task instead: it closes its
episodes and sessions in order, judges what finished, and returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run_until_interrupted(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(main)``, except that Ctrl-C cancels ``main`` (which should catch it)."""
    loop = asyncio.new_event_loop()
    task = loop.create_task(main)
    handled = False
    with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
        loop.add_signal_handler(signal.SIGINT, task.cancel)  # posix, main thread only
        handled = True
    try:
        while True:
            try:
                return loop.run_until_complete(task)
            except KeyboardInterrupt:  # no signal handler here: cancel and wait once more
                if task.done():
                    raise
                task.cancel()
    finally:
        if handled:
            loop.remove_signal_handler(signal.SIGINT)
        close_loop(loop)


def close_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel what is left, let it finish its ``finally`` blocks, then close the loop."""
    pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for leftover in pending:
        leftover.cancel()
    if pending:
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    with contextlib.suppress(RuntimeError):
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.run_until_complete(loop.shutdown_default_executor())
    loop.close()
