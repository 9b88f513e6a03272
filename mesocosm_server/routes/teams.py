"""Teams (PLATFORM_API.md 4.3), members only; at most four members, joined by code.

Where the hosted service answers 500 (a taken slug, regenerating a missing team's code)
this one answers 409 and 403; team lists and team runs are ordered by time, not UUID.
"""

from __future__ import annotations

import re
import secrets
import string
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mesocosm_platform import schemas
from mesocosm_server import models
from mesocosm_server.access import membership
from mesocosm_server.db import utcnow
from mesocosm_server.deps import Db, Member, Principal
from mesocosm_server.devenvs.records import env_doc
from mesocosm_server.documents import run_doc
from mesocosm_server.route_class import SessionRoute
from mesocosm_server.routes import ERRORS

router = APIRouter(prefix="/v1/teams", tags=["teams"], responses=ERRORS, route_class=SessionRoute)
MAX_MEMBERS = 4
_CODE_ALPHABET = string.ascii_uppercase + string.digits


def _uuid(team_id: str) -> str:
    try:
        return str(uuid.UUID(team_id))
    except ValueError as exc:
        raise HTTPException(422, "Invalid team_id") from exc


def _count(db: Session, team_id: str) -> int:
    return db.scalar(select(func.count()).select_from(models.TeamMember).where(
        models.TeamMember.team_id == team_id)) or 0


def _new_code(db: Session) -> str:
    for _ in range(32):
        code = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(4))
        if db.scalar(select(models.Team.id).where(models.Team.join_code == code)) is None:
            return code
    raise HTTPException(503, "Could not allocate a join code; try again")


def _slug(db: Session, name: str) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:50] or "team"
    slug, n = base, 0
    while db.scalar(select(models.Team.id).where(models.Team.slug == slug)) is not None:
        n += 1
        slug = f"{base}-{n}"
    return slug


def team_row(db: Session, principal: Principal, team_id: str) -> schemas.Team:
    """The caller's team-list row; 403 when the caller is not on the team."""
    member = membership(db, principal, team_id)
    team = db.get(models.Team, team_id)
    if member is None or team is None:
        raise HTTPException(403, "Not a member of this team")
    return schemas.Team(
        team_id=team.id, name=team.name, slug=team.slug, role=member.role,  # type: ignore[arg-type]
        member_count=_count(db, team.id), max_members=MAX_MEMBERS,
        join_code=team.join_code if member.role == "owner" else None,
    )


def _owned(db: Session, principal: Principal, team_id: str, message: str) -> models.Team:
    member = membership(db, principal, team_id)
    team = db.get(models.Team, team_id)
    if team is None or member is None or member.role != "owner":
        raise HTTPException(403, message)
    return team


@router.post("", status_code=201, response_model=schemas.Team)
def create_team(body: schemas.TeamCreate, db: Db, principal: Member) -> schemas.Team:
    if body.slug:
        if db.scalar(select(models.Team.id).where(models.Team.slug == body.slug)):
            raise HTTPException(409, f"Team slug '{body.slug}' is already taken")
        slug = body.slug
    else:
        slug = _slug(db, body.name)
    team = models.Team(id=str(uuid.uuid4()), name=body.name, slug=slug, join_code=_new_code(db),
                       created_by_user_id=principal.user_id, created_at=utcnow())
    db.add(team)
    db.flush()
    db.add(models.TeamMember(team_id=team.id, user_id=principal.user_id, role="owner",
                             joined_at=utcnow()))
    db.flush()
    return team_row(db, principal, team.id)


@router.get("", response_model=list[schemas.Team])
def list_teams(db: Db, principal: Member) -> list[schemas.Team]:
    rows = db.scalars(select(models.TeamMember.team_id).where(
        models.TeamMember.user_id == principal.user_id).order_by(models.TeamMember.joined_at))
    return [team_row(db, principal, team_id) for team_id in rows]


@router.post("/join", response_model=schemas.TeamJoined)
def join_team(body: schemas.TeamJoin, db: Db, principal: Member) -> schemas.TeamJoined:
    code = body.code.strip().upper()
    if len(code) != 4:
        raise HTTPException(422, "Join code must be 4 characters")
    team = db.scalar(select(models.Team).where(models.Team.join_code == code))
    if team is None:
        raise HTTPException(404, "Invalid join code")
    member = membership(db, principal, team.id)
    if member is None:
        if _count(db, team.id) >= MAX_MEMBERS:
            raise HTTPException(409, f"Team is full (maximum {MAX_MEMBERS} members)")
        member = models.TeamMember(team_id=team.id, user_id=principal.user_id, role="member",
                                   joined_at=utcnow())
        db.add(member)
        db.flush()
    return schemas.TeamJoined(team_id=team.id, name=team.name, member_count=_count(db, team.id),
                              max_members=MAX_MEMBERS, role=member.role)  # type: ignore[arg-type]


@router.get("/{team_id}", response_model=schemas.Team)
def get_team(team_id: str, db: Db, principal: Member) -> schemas.Team:
    return team_row(db, principal, _uuid(team_id))


@router.delete("/{team_id}", status_code=204, response_class=Response)
def delete_team(team_id: str, db: Db, principal: Member, request: Request) -> Response:
    team = _owned(db, principal, _uuid(team_id), "Only the team owner can delete the team")
    envs = list(db.scalars(select(models.DeveloperEnvironment.id).where(
        models.DeveloperEnvironment.team_id == team.id)))
    db.delete(team)  # its environments' rows go with it (cascade)
    db.flush()
    for env_id in envs:
        request.app.state.adapters.retire(env_id)
    return Response(status_code=204)


@router.get("/{team_id}/environments", response_model=list[dict[str, Any]])
def team_environments(team_id: str, db: Db, principal: Member) -> list[dict[str, Any]]:
    """The team's environments as the hosted raw dicts (with ``actor_type``/``actor_id``)."""
    team_id = _uuid(team_id)
    if membership(db, principal, team_id) is None:
        raise HTTPException(403, "Not a member of this team")
    rows = db.scalars(select(models.DeveloperEnvironment).where(
        models.DeveloperEnvironment.team_id == team_id)
        .order_by(models.DeveloperEnvironment.created_at.desc()))
    return [{**env_doc(row).model_dump(), "actor_type": row.actor_type,
             "actor_id": row.actor_id} for row in rows]


@router.post("/{team_id}/join-code/regenerate", response_model=schemas.JoinCode)
def regenerate(team_id: str, db: Db, principal: Member) -> schemas.JoinCode:
    team = _owned(db, principal, _uuid(team_id),
                  "Only the team owner can regenerate the join code")
    team.join_code = _new_code(db)
    return schemas.JoinCode(join_code=team.join_code)


@router.delete("/{team_id}/members/me", response_model=schemas.Detail)
def leave(team_id: str, db: Db, principal: Member) -> schemas.Detail:
    member = membership(db, principal, _uuid(team_id))
    if member is None:
        raise HTTPException(409, "Not a member of this team")
    if member.role == "owner":
        raise HTTPException(
            409, "Owner must transfer ownership or delete the team before leaving")
    db.delete(member)
    return schemas.Detail(detail="left")


@router.delete("/{team_id}/members/{user_id}", response_model=schemas.Detail)
def remove_member(team_id: str, user_id: int, db: Db, principal: Member) -> schemas.Detail:
    team = _owned(db, principal, _uuid(team_id), "Only the team owner can remove members")
    if user_id == team.created_by_user_id:
        raise HTTPException(
            404, "Owner cannot remove themselves; delete team or transfer ownership")
    target = db.scalar(select(models.TeamMember).where(
        models.TeamMember.team_id == team.id, models.TeamMember.user_id == user_id))
    if target is None:
        raise HTTPException(404, "User is not on this team")
    db.delete(target)
    return schemas.Detail(detail="removed")


@router.post("/{team_id}/transfer", response_model=schemas.Detail)
def transfer(team_id: str, body: schemas.TeamTransfer, db: Db,
             principal: Member) -> schemas.Detail:
    team = _owned(db, principal, _uuid(team_id), "Only the team owner can transfer ownership")
    target = db.scalar(select(models.TeamMember).where(
        models.TeamMember.team_id == team.id,
        models.TeamMember.user_id == body.new_owner_user_id))
    if target is None:
        raise HTTPException(422, "New owner must already be a team member")
    current = membership(db, principal, team.id)
    assert current is not None
    current.role, target.role = "member", "owner"
    team.created_by_user_id = body.new_owner_user_id
    return schemas.Detail(detail="transferred")


@router.get("/{team_id}/runs", response_model=list[schemas.Run])
def team_runs(team_id: str, db: Db, principal: Member) -> list[schemas.Run]:
    team_row(db, principal, _uuid(team_id))
    runs = db.scalars(select(models.Run).where(models.Run.team_id == team_id)
                      .order_by(models.Run.created_at.desc(), models.Run.id.desc()).limit(100))
    return [run_doc(run) for run in runs]


@router.get("/{team_id}/leaderboard", response_model=list[schemas.TeamLeaderboardRow])
def team_leaderboard(team_id: str, db: Db, principal: Member,
                     limit: Annotated[int, Query()] = 50) -> list[schemas.TeamLeaderboardRow]:
    team_row(db, principal, _uuid(team_id))
    rows = []
    for run in db.scalars(select(models.Run).where(
            models.Run.team_id == team_id, models.Run.status == "completed")):
        if run.scores:
            first = next(iter(run.scores.values()))
            rows.append(schemas.TeamLeaderboardRow(
                run_id=run.id, model=run.config["agent_config"]["model"],
                primary_score=first, all_scores=run.scores))
    rows.sort(key=lambda r: (-(r.primary_score or 0.0), r.run_id))
    return rows[: max(1, min(limit, 100))]
