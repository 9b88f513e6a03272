"""Developer environments (PLATFORM_API.md 4.4): submit, list, read, poll, retry, delete.

Submitting only writes a ``pending`` row; onboarding is a durable job the server's
onboarder claims (``mesocosm_server.devenvs.onboarding``). Deleting stops the
environment's adapter and removes its folder, which the hosted service never does.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, Response
from sqlalchemy import func, select, update

from mesocosm_platform import schemas
from mesocosm_server import models
from mesocosm_server.access import member_team, team_ids
from mesocosm_server.db import utcnow
from mesocosm_server.deps import Caller, Db, Member, Principal
from mesocosm_server.devenvs.adapters import EnvAdapters
from mesocosm_server.devenvs.records import env_doc, may_use, poll_doc, usable_env, usage_doc
from mesocosm_server.devenvs.sources import normalize
from mesocosm_server.documents import list_items
from mesocosm_server.paging import page
from mesocosm_server.route_class import SessionRoute
from mesocosm_server.routes import ERRORS

router = APIRouter(prefix="/v1/developer", tags=["developer"], responses=ERRORS,
                   route_class=SessionRoute)
Env = models.DeveloperEnvironment


def _team(db: Db, principal: Principal, team_id: str | None) -> str | None:
    return None if team_id is None else member_team(db, principal, team_id)


def _duplicate(db: Db, principal: Principal, url: str, team_id: str | None) -> Env | None:
    query = select(Env).where(Env.github_url == url)
    if team_id is not None:
        query = query.where(Env.team_id == team_id)
    else:  # as hosted: the caller's newest, whatever its scope
        query = query.where(Env.owner_id == str(principal.user_id))
    return db.scalar(query.order_by(Env.created_at.desc()).limit(1))


def _restart(row: Env) -> None:
    row.status, row.error_message, row.env_url = "pending", None, None
    row.job_owner = row.job_expires_at = None
    row.job_attempts = 0


@router.post("/environments", status_code=201, response_model=schemas.DeveloperEnvironment)
def submit(body: schemas.DeveloperEnvironmentCreate, db: Db, principal: Member,
           response: Response) -> schemas.DeveloperEnvironment:
    team_id = _team(db, principal, body.team_id)
    url = normalize(body.github_url)
    row = _duplicate(db, principal, url, team_id)
    if row is not None:
        if row.status == "cloning":
            raise HTTPException(409, {"message": "This repository is already being onboarded",
                                      "environment_id": row.id})
        row.name, row.description = body.name, body.description
        row.submission_version += 1
        row.resubmitted_at = utcnow()
        _restart(row)
        response.status_code = 200
        return env_doc(row)
    user = str(principal.user_id)
    row = Env(id=str(uuid.uuid4()), owner_id=user, scope="team" if team_id else "solo",
              actor_type="member", actor_id=user, team_id=team_id,
              created_by_user_id=principal.user_id or 0, name=body.name,
              description=body.description, github_url=url, status="pending", domain_id=None,
              env_url=None, error_message=None, submission_version=1, domain_history=[],
              resubmitted_at=None, created_at=utcnow(), job_attempts=0)
    db.add(row)
    db.flush()
    return env_doc(row)


@router.get("/environments", response_model=list[schemas.DeveloperEnvironment])
def list_envs(db: Db, principal: Member, scope: str | None = None, team_id: str | None = None,
              domain_id: str | None = None) -> list[schemas.DeveloperEnvironment]:
    query = select(Env).order_by(Env.created_at.desc(), Env.id.desc())
    mine = (Env.scope == "solo") & (Env.owner_id == str(principal.user_id))
    if team_id is not None:
        query = query.where(Env.team_id == _team(db, principal, team_id))
    elif scope == "team":
        raise HTTPException(422, "team_id required for team scope")
    elif domain_id is not None:
        teams = team_ids(db, principal)
        query = query.where(Env.domain_id == domain_id,
                            mine | ((Env.scope == "team") & Env.team_id.in_(list(teams))))
    else:
        query = query.where(mine)
    return [env_doc(row) for row in db.scalars(query)]


@router.get("/environments/{env_id}", response_model=schemas.DeveloperEnvironmentDetail)
def get_env(env_id: str, db: Db, principal: Caller) -> schemas.DeveloperEnvironmentDetail:
    row = usable_env(db, principal, env_id)
    return schemas.DeveloperEnvironmentDetail(**env_doc(row).model_dump(),
                                              usage=usage_doc(db, row))


@router.get("/environments/{env_id}/poll", response_model=schemas.EnvPoll)
def poll(env_id: str, db: Db, principal: Caller) -> schemas.EnvPoll:
    return poll_doc(usable_env(db, principal, env_id))


@router.get("/environments/{env_id}/usage", response_model=schemas.EnvUsage)
def usage(env_id: str, db: Db, principal: Caller) -> schemas.EnvUsage:
    return usage_doc(db, usable_env(db, principal, env_id))


@router.get("/environments/{env_id}/runs", response_model=list[schemas.RunListItem])
def env_runs(env_id: str, db: Db, principal: Member,
             limit: Annotated[int, Query(ge=1, le=50)] = 10) -> list[schemas.RunListItem]:
    row = usable_env(db, principal, env_id)
    if row.domain_id is None:
        return []
    query = select(models.Run).where(models.Run.domain_id == row.domain_id)
    return list_items(db, page(db, query, limit=limit, cursor=None, created_before=None))


@router.post("/environments/{env_id}/retry", response_model=schemas.DeveloperEnvironment)
def retry(env_id: str, db: Db, principal: Caller) -> schemas.DeveloperEnvironment:
    row = usable_env(db, principal, env_id)
    if row.status in ("cloning", "ready"):
        raise HTTPException(409, f"Environment is already {row.status}")
    _restart(row)
    return env_doc(row)


@router.delete("/environments/{env_id}", status_code=204, response_class=Response)
def delete(env_id: str, db: Db, principal: Caller, request: Request) -> Response:
    row = usable_env(db, principal, env_id)
    if row.domain_id is not None:
        domain = db.get(models.Domain, row.domain_id)
        if domain is not None:
            domain.status = "archived"
            db.execute(update(models.Run).where(
                models.Run.domain_id == domain.id, models.Run.visibility == "gallery_public"
            ).values(visibility="private"))
    db.delete(row)
    db.flush()
    adapters: EnvAdapters = request.app.state.adapters
    adapters.retire(env_id)
    return Response(status_code=204)


@router.get("/domains/{domain_id}/usage", response_model=schemas.DomainUsage)
def domain_usage(domain_id: str, db: Db, principal: Member) -> schemas.DomainUsage:
    """The hosted route answers anyone (PLATFORM_API.md 11.6) and its counts include
    private runs; here only the domain's owner and the members who may use one of its
    environments read them."""
    domain = db.get(models.Domain, domain_id)
    if domain is None:
        raise HTTPException(404, f"Domain '{domain_id}' not found")
    envs = db.scalars(select(Env).where(Env.domain_id == domain_id))
    if domain.owner_id != str(principal.user_id) and not any(
            may_use(db, principal, env) for env in envs):
        raise HTTPException(403, "Not allowed to read this domain's usage")
    by_status = dict(db.execute(select(models.Run.status, func.count()).where(
        models.Run.domain_id == domain_id).group_by(models.Run.status)).all())
    episodes = db.scalar(select(func.count()).select_from(models.Episode).join(models.Run)
                         .where(models.Run.domain_id == domain_id)) or 0
    gallery = db.scalar(select(func.count()).select_from(models.Run).where(
        models.Run.domain_id == domain_id, models.Run.status == "completed",
        models.Run.visibility == "gallery_public")) or 0
    return schemas.DomainUsage(domain_id=domain_id, total_runs=sum(by_status.values()),
                               total_episodes=episodes, by_status=by_status,
                               gallery_eligible=gallery,
                               leaderboard_eligible=by_status.get("completed", 0))

