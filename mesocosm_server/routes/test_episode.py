"""``/v1/test/episode`` (PLATFORM_API.md 4.6.3): a domain owner plays one episode.

The episode is a one-episode private run played by the same durable worker as every
run (not a second code path inside the request); the request waits for it to end.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from sqlalchemy import select

from mesocosm_platform import schemas
from mesocosm_server import models
from mesocosm_server.access import owns_run, readable_run
from mesocosm_server.db import transaction, utcnow
from mesocosm_server.deps import Caller, Db, Member, Settings
from mesocosm_server.documents import episode_doc
from mesocosm_server.netcheck import url_problem
from mesocosm_server.notify import announce_work
from mesocosm_server.route_class import SessionRoute
from mesocosm_server.routes import ERRORS
from mesocosm_server.traces import hosted_events, redact_events

router = APIRouter(prefix="/v1/test/episode", tags=["test episode"],
                   responses=ERRORS, route_class=SessionRoute)
WAIT_SECONDS = 600.0
CHECK_SECONDS = 0.1  # one primary-key read per check


@router.post("", response_model=schemas.Episode)
def test_episode(body: schemas.TestEpisodeRequest, request: Request, principal: Member,
                 settings: Settings) -> schemas.Episode:
    sessions = request.app.state.sessions
    with transaction(sessions) as db:
        domain = db.get(models.Domain, body.domain_id)
        if domain is None:
            raise HTTPException(404, f"Domain '{body.domain_id}' not found")
        if domain.owner_id != str(principal.user_id):
            raise HTTPException(403, "Not allowed to test this domain")
        if body.env_url is not None:
            problem = url_problem(body.env_url, "env_url",
                                  allow_local=settings.allow_local_endpoints)
            if problem:
                raise HTTPException(422, problem)
        if not (body.env_url or (domain.data.get("endpoint") or {}).get("url")):
            raise HTTPException(422, "No environment URL provided or configured on domain")
        now = utcnow()
        config: dict[str, Any] = {
            "domain_id": domain.id, "binding_vow_version": body.binding_vow_version,
            "agent_config": body.agent_config.model_dump(mode="json"),
            "seed_set": [body.seed] if body.seed is not None else None, "num_episodes": 1,
            "max_parallel": 1, "env_id": None, "env_url": body.env_url,
        }
        run = models.Run(
            id=str(uuid.uuid4()), domain_id=domain.id, status="running", actor_type="member",
            actor_id=principal.actor_id, requester_id="test", team_id=None,
            visibility="private", config=config, scores={}, summary=None, terminal_info=None,
            max_parallel=1, created_at=now, completed_at=None, expires_at=None)
        episode = models.Episode(id=str(uuid.uuid4()), run_id=run.id, position=0,
                                 seed=body.seed if body.seed is not None else 0,
                                 status="pending", terminal_info={})
        db.add(run)
        db.flush()
        db.add(episode)
        announce_work(db)
    request.app.state.wakeup.notify()  # committed above
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        with transaction(sessions) as db:
            stored = db.get(models.Episode, episode.id)
            if stored is not None and stored.status not in ("pending", "running"):
                return episode_doc(stored)
        if time.monotonic() > deadline:
            raise HTTPException(504, f"Test episode '{episode.id}' is still running; "
                                     f"poll GET /v1/test/episode/{episode.id}")
        time.sleep(CHECK_SECONDS)


def _episode(db: Db, principal: Caller, episode_id: str) -> models.Episode:
    episode = db.get(models.Episode, episode_id)
    if episode is None:
        raise HTTPException(404, f"Episode '{episode_id}' not found")
    readable_run(db, principal, episode.run_id)
    return episode


@router.get("/{episode_id}", response_model=schemas.Episode)
def get_test_episode(episode_id: str, db: Db, principal: Caller) -> schemas.Episode:
    return episode_doc(_episode(db, principal, episode_id))


@router.get("/{episode_id}/trace", response_model=list[schemas.TraceEvent])
def get_test_trace(episode_id: str, db: Db, principal: Caller) -> list[dict[str, Any]]:
    episode = _episode(db, principal, episode_id)
    trace = db.scalar(select(models.EpisodeTrace).where(
        models.EpisodeTrace.episode_id == episode_id))
    events = hosted_events(episode_id, trace.events if trace else [])
    run = db.get(models.Run, episode.run_id)
    return events if run is not None and owns_run(db, principal, run) else redact_events(events)
