"""``/v1/ws/episodes/{episode_id}/trace`` (PLATFORM_API.md 4.8): an episode's trace
events as JSON text messages.

The hosted socket has no authentication; this one answers the handshake with the
read rule of ``GET /v1/runs/{id}/traces`` (a 404 for an unknown episode, a 403 for a
run the caller may not read, as HTTP denial responses) and redacts the same way for
callers who do not own the run. The caller is the bearer token, the guest cookie, or
``?token=`` (browsers cannot set a socket's headers).

While this server process plays the episode, the socket follows its live feed
(live.py): the events so far, then each step's events as the step ends. Otherwise, and
once the play is over, it checks the episode every half second and, when it is over,
sends the stored trace's events not sent yet and closes. An episode played by another
server process sharing the database thus arrives whole when it ends. A
``{"command": "cancel"}`` message from the client (or its leaving) closes it earlier.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, HTTPException, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from mesocosm_server import models
from mesocosm_server.access import owns_run, readable_run
from mesocosm_server.db import transaction
from mesocosm_server.deps import principal_of
from mesocosm_server.live import LiveTraces
from mesocosm_server.traces import hosted_events, redact_event

router = APIRouter(prefix="/v1/ws", tags=["websocket"])
CHECK_SECONDS = 0.5
LIVE = ("pending", "running")


@dataclass
class _Allowed:
    run_id: str
    owner: bool


def _allowed(websocket: WebSocket, episode_id: str) -> _Allowed:
    """The caller may read the episode's run (else the routes' 404/403), and owns it?"""
    state = websocket.app.state
    with transaction(state.sessions) as db:
        principal = principal_of(websocket, db, state.keys,
                                 websocket.query_params.get("token"))
        episode = db.get(models.Episode, episode_id)
        if episode is None:
            raise HTTPException(404, f"Episode '{episode_id}' not found")
        run = readable_run(db, principal, episode.run_id)
        return _Allowed(run.id, owns_run(db, principal, run))


def _events_when_over(websocket: WebSocket, episode_id: str) -> list[dict[str, Any]] | None:
    """The episode's stored events in the hosted shape once it is over, else None."""
    with transaction(websocket.app.state.sessions) as db:
        status = db.scalar(select(models.Episode.status).where(models.Episode.id == episode_id))
        if status in LIVE:
            return None
        trace = db.get(models.EpisodeTrace, episode_id)
        return hosted_events(episode_id, trace.events if trace else [])


async def _until_cancelled(websocket: WebSocket) -> None:
    """Returns when the client asks to stop, sends something unreadable, or leaves."""
    while True:
        try:
            message = await websocket.receive_json()
        except (WebSocketDisconnect, ValueError):
            return
        if isinstance(message, dict) and message.get("command") == "cancel":
            return


class _Sender:
    """Sends hosted events to one client, redacted unless it owns the run, counting them."""

    def __init__(self, websocket: WebSocket, owner: bool) -> None:
        self.websocket, self.owner, self.sent = websocket, owner, 0

    async def send(self, event: dict[str, Any]) -> None:
        await self.websocket.send_json(event if self.owner else redact_event(event))
        self.sent += 1


async def _follow(live: LiveTraces, episode_id: str, sender: _Sender,
                  stopped: asyncio.Future[None]) -> None:
    """Send the live feed's events until the play ends or the client stops."""
    queue = live.subscribe(episode_id)
    if queue is None:
        return
    try:
        while not stopped.done():
            taking = asyncio.ensure_future(queue.get())
            either: set[asyncio.Future[Any]] = {taking, stopped}
            await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
            if not taking.done():
                taking.cancel()
                return
            event = taking.result()
            if event is None:
                return
            await sender.send(event)
    finally:
        live.unsubscribe(episode_id, queue)


@router.websocket("/episodes/{episode_id}/trace")
async def episode_trace(websocket: WebSocket, episode_id: str) -> None:
    try:
        allowed = await run_in_threadpool(_allowed, websocket, episode_id)
    except HTTPException as exc:
        await websocket.send_denial_response(
            JSONResponse({"detail": exc.detail}, status_code=exc.status_code))
        return
    await websocket.accept()
    live: LiveTraces = websocket.app.state.live
    sender = _Sender(websocket, allowed.owner)
    stopped = asyncio.ensure_future(_until_cancelled(websocket))
    try:
        while not stopped.done():
            if sender.sent == 0:  # a feed starts from the first event: follow it only then
                await _follow(live, episode_id, sender, stopped)
            events = await run_in_threadpool(_events_when_over, websocket, episode_id)
            if events is not None:
                for event in events[sender.sent:]:
                    await sender.send(event)
                break
            await asyncio.wait({stopped}, timeout=CHECK_SECONDS)
    finally:
        stopped.cancel()
    with contextlib.suppress(RuntimeError):  # the client may have gone already
        await websocket.close()
