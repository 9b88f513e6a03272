"""``/v1/ws/episodes/{episode_id}/trace`` (PLATFORM_API.md 4.8): an episode's trace
events as JSON text messages.

The hosted socket has no authentication; this one answers the handshake with the
read rule of ``GET /v1/runs/{id}/traces`` (a 404 for an unknown episode, a 403 for a
run the caller may not read, as HTTP denial responses) and redacts the same way for
callers who do not own the run. The caller
is the bearer token, the guest cookie, or ``?token=`` (browsers cannot set a socket's
headers). Episodes store their trace when they end, so events arrive then: the socket
checks the episode every half second and, once it is over, sends every event and
closes; a ``{"command": "cancel"}`` message from the client closes it earlier.
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
from mesocosm_server.traces import hosted_events, redact_events

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


def _events_when_over(websocket: WebSocket, episode_id: str, owner: bool
                      ) -> list[dict[str, Any]] | None:
    """The episode's events in the hosted shape once it is over, else None."""
    with transaction(websocket.app.state.sessions) as db:
        status = db.scalar(select(models.Episode.status).where(models.Episode.id == episode_id))
        if status in LIVE:
            return None
        trace = db.get(models.EpisodeTrace, episode_id)
        events = hosted_events(episode_id, trace.events if trace else [])
    return events if owner else redact_events(events)


async def _cancelled(websocket: WebSocket) -> bool:
    """True when the client asked to stop (or left) within one check interval."""
    try:
        message = await asyncio.wait_for(websocket.receive_json(), CHECK_SECONDS)
    except asyncio.TimeoutError:
        return False
    except (WebSocketDisconnect, ValueError):
        return True
    return isinstance(message, dict) and message.get("command") == "cancel"


@router.websocket("/episodes/{episode_id}/trace")
async def episode_trace(websocket: WebSocket, episode_id: str) -> None:
    try:
        allowed = await run_in_threadpool(_allowed, websocket, episode_id)
    except HTTPException as exc:
        await websocket.send_denial_response(
            JSONResponse({"detail": exc.detail}, status_code=exc.status_code))
        return
    await websocket.accept()
    while True:
        events = await run_in_threadpool(_events_when_over, websocket, episode_id,
                                         allowed.owner)
        if events is not None:
            for event in events:
                await websocket.send_json(event)
            break
        if await _cancelled(websocket):
            break
    with contextlib.suppress(RuntimeError):  # the client may have gone already
        await websocket.close()
