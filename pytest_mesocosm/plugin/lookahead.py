"""Which items this pytest process will run next, in order, so episodes can start early.

Run alone, a process runs ``session.items`` in order. Under pytest-xdist a worker runs
what the controller sends it: the index it popped after the current item and its queue
of pending indices (``WorkerInteractor.nextitem_index`` and ``.torun`` in xdist 3). Only
those are looked at, so a worker never starts an episode another worker will run. If
xdist's internals change shape, the look-ahead shrinks to the next item and episodes
still run, only fewer at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


def _interactor(config: pytest.Config) -> Any:
    for plugin in config.pluginmanager.get_plugins():
        if type(plugin).__name__ == "WorkerInteractor" and hasattr(plugin, "torun"):
            return plugin
    return None


def _worker_queue(config: pytest.Config) -> list[int] | None:
    """The indices (into session.items) this xdist worker has been told to run next."""
    interactor = _interactor(config)
    if interactor is None:
        return None
    try:
        with interactor.torun.lock() as queue:
            pending = list(queue)
        following = [interactor.nextitem_index, *pending]
    except (AttributeError, TypeError):
        return None
    indices = []
    for index in following:
        if not isinstance(index, int):  # the shutdown marker: nothing after it
            break
        indices.append(index)
    return indices


class Lookahead:
    """Yields the items after a given one, in the order this process will run them."""

    def __init__(self, session: pytest.Session):
        self.session = session
        self._positions: dict[str, int] | None = None
        self._next: dict[str, pytest.Item | None] = {}

    def remember_next(self, item: pytest.Item, nextitem: pytest.Item | None) -> None:
        """What pytest said runs after ``item``: the fallback when nothing else is known."""
        self._next[item.nodeid] = nextitem

    def after(self, item: pytest.Item) -> Iterator[pytest.Item]:
        items = self.session.items
        if hasattr(item.config, "workerinput"):
            queue = _worker_queue(item.config)
            if queue is not None:
                yield from (items[i] for i in queue if 0 <= i < len(items))
                return
            nextitem = self._next.get(item.nodeid)
            if nextitem is not None:
                yield nextitem
            return
        if self._positions is None:
            self._positions = {it.nodeid: i for i, it in enumerate(items)}
        start = self._positions.get(item.nodeid)
        if start is not None:
            yield from items[start + 1:]
