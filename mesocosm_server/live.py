"""The trace events of the episodes this process is playing, for the trace sockets.

Episodes store their trace only when they end; a socket watching an episode that this
process plays subscribes here instead and gets the hosted events so far, then each new
one as the engine writes it. The worker, the engine and the sockets all run on the
server's one event loop (serve.py), so the hub needs no lock: every call comes from that
loop. A feed lives while its episode plays; nothing is kept once it ends.
"""

from __future__ import annotations

import asyncio
from typing import Any

from mesocosm_server.traces import HostedStream

Event = dict[str, Any]
Subscriber = asyncio.Queue[Event | None]  # None: the play is over


class _Feed:
    def __init__(self, episode_id: str) -> None:
        self.stream = HostedStream(episode_id)
        self.events: list[Event] = []  # final hosted events so far, for late subscribers
        self.subscribers: set[Subscriber] = set()


class LiveTraces:
    """Feeds by episode id: the worker opens, publishes to and closes them; sockets
    subscribe."""

    def __init__(self) -> None:
        self._feeds: dict[str, _Feed] = {}

    def open(self, episode_id: str) -> None:
        self._feeds[episode_id] = _Feed(episode_id)

    def publish(self, episode_id: str, event: Event) -> None:
        """One engine event as written; subscribers get the hosted events it makes final."""
        feed = self._feeds.get(episode_id)
        if feed is None:
            return
        for hosted in feed.stream.add(event):
            feed.events.append(hosted)
            for queue in feed.subscribers:
                queue.put_nowait(hosted)

    def close(self, episode_id: str) -> None:
        """The play is over (its trace is stored, or it was given up): subscribers are told
        and the feed is dropped."""
        feed = self._feeds.pop(episode_id, None)
        if feed is not None:
            for queue in feed.subscribers:
                queue.put_nowait(None)

    def subscribe(self, episode_id: str) -> Subscriber | None:
        """A queue holding the events so far, then every new one, then None when the play
        ends; None when this process is not playing the episode."""
        feed = self._feeds.get(episode_id)
        if feed is None:
            return None
        queue: Subscriber = asyncio.Queue()
        for hosted in feed.events:
            queue.put_nowait(hosted)
        feed.subscribers.add(queue)
        return queue

    def unsubscribe(self, episode_id: str, queue: Subscriber) -> None:
        feed = self._feeds.get(episode_id)
        if feed is not None:
            feed.subscribers.discard(queue)
