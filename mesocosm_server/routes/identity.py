"""Guest sessions and ``/v1/me`` (PLATFORM_API.md 2.4, 4.2).

Unlike the hosted service, creating guest sessions is limited per client address
(``guest_sessions_per_client_per_hour``), so the per-session daily run limit means
something.
"""

from __future__ import annotations

import uuid
from datetime import timedelta, timezone
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response
from sqlalchemy import func, select

from mesocosm_platform import schemas
from mesocosm_server import models
from mesocosm_server.access import team_ids
from mesocosm_server.db import utcnow
from mesocosm_server.deps import GUEST_COOKIE, AnyUser, Caller, Db, Keys, Member, Settings
from mesocosm_server.documents import list_items
from mesocosm_server.paging import page
from mesocosm_server.route_class import SessionRoute
from mesocosm_server.routes import ERRORS
from mesocosm_server.routes.teams import team_row
from mesocosm_server.security import issue_guest_token

router = APIRouter(prefix="/v1", tags=["identity"], responses=ERRORS, route_class=SessionRoute)
Limit = Annotated[int, Query(ge=1, le=100)]


@router.post("/auth/guest", response_model=schemas.GuestToken)
def create_guest(request: Request, response: Response, db: Db, keys: Keys,
                 settings: Settings) -> schemas.GuestToken:
    client = request.client.host if request.client else "unknown"
    now = utcnow()
    recent = db.scalar(select(func.count()).select_from(models.GuestSession).where(
        models.GuestSession.client == client,
        models.GuestSession.created_at >= now - timedelta(hours=1)))
    if (recent or 0) >= settings.guest_sessions_per_client_per_hour:
        raise HTTPException(
            429, "Too many guest sessions from this address; try again within the hour "
                 "or sign in.", headers={"Retry-After": "3600"})
    session = models.GuestSession(id=str(uuid.uuid4()), client=client, created_at=now,
                                  expires_at=now + timedelta(days=settings.guest_session_days))
    db.add(session)
    expires = session.expires_at
    token = issue_guest_token(keys, session.id,
                              int(expires.replace(tzinfo=timezone.utc).timestamp()))
    response.set_cookie(GUEST_COOKIE, token, httponly=True, samesite="lax",
                        max_age=settings.guest_session_days * 86400,
                        secure=request.url.scheme == "https")
    return schemas.GuestToken(guest_token=token, expires_at=expires.isoformat() + "+00:00")


@router.post("/auth/guest/logout", response_model=schemas.Detail)
def guest_logout(response: Response) -> schemas.Detail:
    response.delete_cookie(GUEST_COOKIE)
    return schemas.Detail(detail="ok")


def _context(db: Db, principal: Caller) -> schemas.MeContext:
    def run_count(*where: Any) -> int:
        return db.scalar(select(func.count()).select_from(models.Run).where(*where)) or 0

    def env_count(*where: Any) -> int:
        return db.scalar(select(func.count()).select_from(models.DeveloperEnvironment)
                         .where(*where)) or 0

    solo = run_count(models.Run.actor_type == "member",
                     models.Run.actor_id == principal.actor_id, models.Run.team_id.is_(None))
    solo_envs = env_count(models.DeveloperEnvironment.scope == "solo",
                          models.DeveloperEnvironment.owner_id == principal.actor_id)
    teams = []
    for team_id in sorted(team_ids(db, principal)):
        row = team_row(db, principal, team_id)
        teams.append({**row.model_dump(),
                      "env_count": env_count(models.DeveloperEnvironment.team_id == team_id),
                      "run_count": run_count(models.Run.team_id == team_id)})
    return schemas.MeContext.model_validate(
        {"solo": {"env_count": solo_envs, "run_count": solo}, "teams": teams})


@router.get("/me", response_model=schemas.Me, response_model_exclude_none=False)
def me(db: Db, principal: Caller,
       include: Annotated[Literal["context"] | None, Query()] = None) -> schemas.Me:
    context = _context(db, principal) if include and principal.kind == "member" else None
    answer = schemas.Me(type=principal.kind, user_id=principal.user_id,
                        username=principal.username,
                        guest_session_id=principal.guest_session_id, context=context)
    return answer


@router.get("/me/context", response_model=schemas.MeContext)
def me_context(db: Db, principal: Member) -> schemas.MeContext:
    return _context(db, principal)


@router.get("/me/runs", response_model=list[schemas.RunListItem])
def my_runs(db: Db, principal: AnyUser, domain_id: str | None = None,
            team_id: str | None = None, limit: Limit = 20, cursor: str | None = None,
            created_before: str | None = None) -> list[schemas.RunListItem]:
    query = select(models.Run).where(models.Run.actor_type == principal.kind,
                                     models.Run.actor_id == principal.actor_id)
    if domain_id:
        query = query.where(models.Run.domain_id == domain_id)
    if team_id:
        query = query.where(models.Run.team_id == team_id)
    return list_items(db, page(db, query, limit=limit, cursor=cursor,
                               created_before=created_before))
