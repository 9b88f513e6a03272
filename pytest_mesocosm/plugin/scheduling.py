"""An xdist scheduler that keeps ``--mesocosm-parallel`` items queued on every worker.

xdist's default ``load`` scheduling hands each worker a few items at a time, so a
worker that wants to play P episodes at once (see :mod:`.runner`) would only ever see
two or three of its next items. This scheduler is the same load balancing, except that
a worker's queue is topped up to P items whenever more are waiting. It is used only
when ``-n`` picked the default ``--dist load`` and P > 1; any other ``--dist`` the user
asks for is left alone.
"""

from __future__ import annotations

from typing import Any

from xdist.scheduler import LoadScheduling  # type: ignore[import-untyped]


class QueueDepthScheduling(LoadScheduling):
    """``--dist load``, with at least ``depth`` items pending on each worker."""

    def __init__(self, config: Any, log: Any = None, *, depth: int):
        super().__init__(config, log)
        self.depth = depth

    def _top_up(self, node: Any) -> None:
        missing = self.depth - len(self.node2pending[node])
        if self.pending and missing > 0 and not node.shutting_down:
            self._send_tests(node, missing)

    def check_schedule(self, node: Any, duration: float = 0) -> None:
        super().check_schedule(node, duration=duration)
        self._top_up(node)

    def schedule(self) -> None:
        super().schedule()
        for node in self.nodes:
            self._top_up(node)
