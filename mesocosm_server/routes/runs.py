"""Runs (PLATFORM_API.md 4.6): create with every hosted check, read, page, cancel, export.

A run and all its episodes are stored (status ``running``, episodes ``pending``) in the
request's transaction, before ``202`` answers; workers lease the episodes from the
database. Redaction for non-owners applies to every route returning prompts or traces.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Body, HTTPException, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from sqlalchemy import func, select, update

from mesocosm_platform import schemas
from mesocosm_server import models
from mesocosm_server.access import (
    RunHead,
    can_read_run,
    check_readable,
    member_team,
    owns_run,
    readable_run,
    run_head,
)
from mesocosm_server.db import utcnow
from mesocosm_server.deps import AnyUser, Caller, Db, Settings, WorkerWakeup
from mesocosm_server.devenvs.records import env_for_run
from mesocosm_server.documents import domain_doc, episode_doc, iso, list_items, run_doc
from mesocosm_server.notify import announce_work
from mesocosm_server.paging import page
from mesocosm_server.route_class import SessionRoute
from mesocosm_server.routes import ERRORS
from mesocosm_server.traces import export_document, hosted_events, redact_events

router = APIRouter(prefix="/v1/runs", tags=["runs"], responses=ERRORS, route_class=SessionRoute)
Limit = Annotated[int, Query(ge=1, le=100)]


def _cooldown(db: Db, principal: AnyUser, settings: Settings) -> None:
    seconds = settings.run_submission_cooldown_seconds
    if seconds <= 0:
        return
    last = db.scalar(select(func.max(models.Run.created_at)).where(
        models.Run.requester_id == principal.requester_id))
    if last is None:
        return
    left = int((last + timedelta(seconds=seconds) - utcnow()).total_seconds() + 0.999)
    if left >= 1:
        raise HTTPException(
            429, f"Please wait {left} seconds before starting another bench run. "
                 "This cooldown protects shared inference capacity.",
            headers={"Retry-After": str(left)})


def _guest_checks(db: Db, principal: AnyUser, settings: Settings, domain_id: str) -> None:
    if principal.kind != "guest":
        return
    limit = settings.guest_runs_per_day
    midnight = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
    today = db.scalar(select(func.count()).select_from(models.Run).where(
        models.Run.actor_type == "guest", models.Run.actor_id == principal.actor_id,
        models.Run.created_at >= midnight)) or 0
    if limit > 0 and today >= limit:
        raise HTTPException(
            429, f"Guest run limit reached ({limit} runs per day). Sign in to continue.")
    demo = settings.demo_domain_ids
    if demo and domain_id not in demo:
        raise HTTPException(403, f"Guests may only run demo domains: {', '.join(demo)}")


def _team(db: Db, principal: AnyUser, team_id: str | None) -> str | None:
    if team_id is None:
        return None
    if principal.kind != "member":
        raise HTTPException(403, "Teams require member login")
    return member_team(db, principal, team_id)


def _body_error(message: str, field: str) -> RequestValidationError:
    return RequestValidationError([{"type": "value_error", "loc": ("body", field),
                                    "msg": f"Value error, {message}", "input": None}])


@router.post("", status_code=202, response_model=schemas.Run)
def create_run(principal: AnyUser, db: Db, settings: Settings, wakeup: WorkerWakeup,
               background: BackgroundTasks,
               body: Annotated[schemas.RunCreate, Body()]) -> schemas.Run:
    if body.num_episodes > settings.max_episodes_per_run:
        raise _body_error(f"num_episodes ({body.num_episodes}) exceeds the platform maximum "
                          f"({settings.max_episodes_per_run})", "num_episodes")
    _guest_checks(db, principal, settings, body.domain_id)
    _cooldown(db, principal, settings)
    team_id = _team(db, principal, body.team_id)
    env_id = env_for_run(db, principal, body.env_id, body.domain_id, team_id)
    domain = db.get(models.Domain, body.domain_id)
    if domain is None:
        raise HTTPException(422, f"Domain '{body.domain_id}' not found")
    if domain.status != "published":
        raise HTTPException(422, f"Domain '{body.domain_id}' is {domain.status}; "
                                 "only published domains can be run")
    vow = domain.data["binding_vow"]
    if vow["version"] != body.binding_vow_version:
        raise HTTPException(422, f"Binding vow version mismatch: domain has '{vow['version']}', "
                                 f"requested '{body.binding_vow_version}'")
    declared = {t["technique_id"] for t in vow.get("techniques") or []}
    for technique in body.agent_config.techniques:
        if technique.technique_id not in declared:
            raise HTTPException(422, f"Technique '{technique.technique_id}' not declared in "
                                     "binding vow")
    model = body.agent_config.model
    if settings.models and model not in settings.models:
        raise HTTPException(422, f"Model '{model}' is not supported. Allowed: {settings.models}")
    visibility = body.visibility if body.visibility in ("private", "gallery_public") else (
        "gallery_public")
    if principal.kind == "guest":
        visibility = "gallery_public"
    now = utcnow()
    seeds = body.seed_set if body.seed_set is not None else list(range(body.num_episodes))
    config = {**body.model_dump(mode="json", exclude={"team_id", "visibility"}),
              "env_id": env_id}
    run = models.Run(
        id=str(uuid.uuid4()), domain_id=domain.id, status="running",
        actor_type=principal.kind, actor_id=principal.actor_id,
        requester_id=principal.requester_id, team_id=team_id, visibility=visibility,
        config=config, scores={}, summary=None, terminal_info=None,
        max_parallel=body.max_parallel, created_at=now, completed_at=None,
        expires_at=now + timedelta(days=settings.guest_session_days)
        if principal.kind == "guest" else None,
    )
    db.add(run)
    db.flush()
    for position, seed in enumerate(seeds):
        db.add(models.Episode(id=str(uuid.uuid4()), run_id=run.id, position=position,
                              seed=seed, status="pending", terminal_info={}))
    announce_work(db)  # to the other server processes on this database, at commit
    db.flush()
    background.add_task(wakeup.notify)  # after the commit, so the episodes are visible
    return run_doc(run)


@router.get("", response_model=list[schemas.RunListItem])
def list_runs(db: Db, principal: Caller, domain_id: str | None = None,
              env_id: str | None = None, limit: Limit = 20, cursor: str | None = None,
              created_before: str | None = None) -> list[schemas.RunListItem]:
    if env_id is not None:
        raise HTTPException(404, f"Environment '{env_id}' not found")
    query = select(models.Run)
    if domain_id:
        query = query.where(models.Run.domain_id == domain_id)
    if principal.kind == "anonymous":
        query = query.where(models.Run.visibility == "gallery_public",
                            models.Run.status == "completed")
        return list_items(db, page(db, query, limit=limit, cursor=None, created_before=None),
                          owned=set())
    query = query.where(models.Run.actor_type == principal.kind,
                        models.Run.actor_id == principal.actor_id)
    return list_items(db, page(db, query, limit=limit, cursor=cursor,
                               created_before=created_before))


@router.get("/active", response_model=list[schemas.RunListItem])
def active_runs(db: Db, principal: Caller, domain_id: str | None = None,
                limit: Limit = 20) -> list[schemas.RunListItem]:
    if principal.kind == "anonymous":
        return []
    query = select(models.Run).where(
        models.Run.actor_type == principal.kind, models.Run.actor_id == principal.actor_id,
        models.Run.status.in_(("pending", "running")))
    if domain_id:
        query = query.where(models.Run.domain_id == domain_id)
    runs = page(db, query, limit=limit, cursor=None, created_before=None)
    return list_items(db, runs, summary=False)


@router.get("/status", response_model=schemas.RunsStatus)
def runs_status(db: Db, principal: Caller, ids: str | None = None) -> schemas.RunsStatus:
    wanted = [i for i in (ids or "").split(",") if i.strip()]
    if not wanted:
        raise HTTPException(422, "ids is required")
    if len(wanted) > 50:
        raise HTTPException(422, "At most 50 run ids per request")
    answer: dict[str, Any] = {}
    for run in db.scalars(select(models.Run).where(models.Run.id.in_(wanted))):
        if can_read_run(db, principal, run):
            answer[run.id] = {"id": run.id, "status": run.status, "scores": run.scores,
                              "completed_at": iso(run.completed_at)}
    return schemas.RunsStatus.model_validate({"runs": answer})


def etag_of(head: RunHead, owner_view: bool) -> str:
    """From the columns that change with the document: the scores and summary are
    written with ``completed_at`` and the config never changes, so a poll that matches
    is answered without reading the JSON columns; owners and others differ (redaction)."""
    digest = hashlib.sha256(json.dumps(
        [head.id, head.status, iso(head.completed_at), head.visibility, head.team_id,
         owner_view]).encode()).hexdigest()[:32]
    return f'W/"{digest}"'


@router.get("/{run_id}", response_model=schemas.Run,
            responses={304: {"description": "Not modified"}})
def get_run(run_id: str, request: Request, response: Response, db: Db,
            principal: Caller) -> Any:
    head = run_head(db, run_id)
    check_readable(db, principal, run_id, head)
    assert head is not None
    owner = owns_run(db, principal, head)
    tag = etag_of(head, owner)
    if request.headers.get("if-none-match") == tag:
        return Response(status_code=304, headers={"ETag": tag})
    response.headers["ETag"] = tag
    run = db.get(models.Run, run_id)
    if run is None:
        raise HTTPException(404, f"Run '{run_id}' not found")
    return run_doc(run, owner_view=owner)


def _episodes(db: Db, run_id: str) -> list[models.Episode]:
    return list(db.scalars(select(models.Episode).where(models.Episode.run_id == run_id)
                           .order_by(models.Episode.position)))


def _raw_traces(db: Db, episodes: list[models.Episode]) -> dict[str, list[dict[str, Any]]]:
    rows = db.scalars(select(models.EpisodeTrace).where(
        models.EpisodeTrace.episode_id.in_([e.id for e in episodes])))
    found = {row.episode_id: row.events for row in rows}
    return {e.id: found.get(e.id, []) for e in episodes}


@router.get("/{run_id}/episodes", response_model=list[schemas.Episode])
def run_episodes(run_id: str, db: Db, principal: Caller) -> list[schemas.Episode]:
    readable_run(db, principal, run_id)
    return [episode_doc(e) for e in _episodes(db, run_id)]


@router.get("/{run_id}/traces", response_model=dict[str, list[schemas.TraceEvent]])
def run_traces(run_id: str, db: Db, principal: Caller) -> dict[str, list[dict[str, Any]]]:
    run = readable_run(db, principal, run_id)
    owner = owns_run(db, principal, run)
    out = {}
    for eid, events in _raw_traces(db, _episodes(db, run_id)).items():
        shown = hosted_events(eid, events)
        out[eid] = shown if owner else redact_events(shown)
    return out


@router.get("/{run_id}/export", response_model=schemas.ExportDocument)
def export(run_id: str, db: Db, principal: Caller) -> dict[str, Any]:
    run = readable_run(db, principal, run_id)
    owner = owns_run(db, principal, run)
    episodes = _episodes(db, run_id)
    domain = db.get(models.Domain, run.domain_id)
    doc = run_doc(run, owner_view=owner).model_dump(mode="json")
    if not owner:
        doc.pop("requester_id", None)
    return export_document(
        run=doc, visibility=run.visibility, domain_id=run.domain_id,
        domain_name=domain_doc(domain).name if domain else None,
        episodes=[episode_doc(e).model_dump(mode="json") for e in episodes],
        raw=_raw_traces(db, episodes), owner=owner, exported_at=utcnow().isoformat() + "+00:00",
    )


@router.post("/{run_id}/cancel", response_model=schemas.Run)
def cancel(run_id: str, db: Db, principal: AnyUser) -> schemas.Run:
    run = readable_run(db, principal, run_id)
    if not owns_run(db, principal, run):
        raise HTTPException(403, "Not allowed to modify this run")
    if run.status in ("pending", "running"):
        now = utcnow()
        run.status, run.completed_at = "cancelled", now
        db.execute(update(models.Episode).where(
            models.Episode.run_id == run_id, models.Episode.status.in_(("pending", "running"))
        ).values(status="cancelled", ended_at=now, lease_owner=None,
                 terminal_info={"cancelled": True, "reason": "run_cancelled"}))
    return run_doc(run)


@router.patch("/{run_id}/visibility", response_model=schemas.RunListItem)
def set_visibility(run_id: str, body: schemas.VisibilityChange, db: Db,
                   principal: AnyUser) -> schemas.RunListItem:
    run = db.get(models.Run, run_id)
    if run is None:
        raise HTTPException(404, f"Run '{run_id}' not found")
    if principal.kind == "guest":
        raise HTTPException(403, "Guest runs cannot change visibility")
    if not owns_run(db, principal, run):
        raise HTTPException(403, "Not allowed to modify this run")
    if body.visibility not in ("private", "gallery_public"):
        raise HTTPException(422, "visibility must be 'private' or 'gallery_public'")
    run.visibility = body.visibility
    return list_items(db, [run], summary=False)[0]
