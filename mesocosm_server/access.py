"""Who may read and change what: the one home of the hosted read rule (4.6) and team rules.

A run is readable by anyone when it is ``gallery_public`` and ``completed``; otherwise by
its guest actor, its member actor, or a member of its team. "Owns" (unredacted reads,
visibility changes) is the same set without the gallery clause.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from fastapi import HTTPException
from sqlalchemy import select
from sqlalchemy.orm import Session

from mesocosm_server import models
from mesocosm_server.deps import Principal


class RunFacts(Protocol):
    """What the read rule looks at: a stored run, or only its head columns."""

    @property
    def visibility(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def actor_type(self) -> str: ...
    @property
    def actor_id(self) -> str: ...
    @property
    def team_id(self) -> str | None: ...


@dataclass(frozen=True)
class RunHead:
    """A run's small columns: enough to decide access and its ETag without the JSON."""

    id: str
    visibility: str
    status: str
    actor_type: str
    actor_id: str
    team_id: str | None
    completed_at: datetime | None


def run_head(db: Session, run_id: str) -> RunHead | None:
    row = db.execute(select(
        models.Run.id, models.Run.visibility, models.Run.status, models.Run.actor_type,
        models.Run.actor_id, models.Run.team_id, models.Run.completed_at,
    ).where(models.Run.id == run_id)).one_or_none()
    return RunHead(*row) if row is not None else None


def team_ids(db: Session, principal: Principal) -> set[str]:
    if principal.kind != "member":
        return set()
    rows = db.scalars(
        select(models.TeamMember.team_id).where(models.TeamMember.user_id == principal.user_id)
    )
    return set(rows)


def member_team(db: Session, principal: Principal, team_id: str) -> str:
    """A team id the caller named for a new resource: canonical, and one of theirs."""
    try:
        team_id = str(uuid.UUID(team_id))
    except ValueError as exc:
        raise HTTPException(422, "Invalid team_id") from exc
    if team_id not in team_ids(db, principal):
        raise HTTPException(403, "Not a member of this team")
    return team_id


def owns_run(db: Session, principal: Principal, run: RunFacts) -> bool:
    if principal.kind == "anonymous" or run.actor_type != principal.kind:
        if principal.kind == "member" and run.team_id is not None:
            return run.team_id in team_ids(db, principal)
        return False
    if run.actor_id == principal.actor_id:
        return True
    return principal.kind == "member" and run.team_id is not None and (
        run.team_id in team_ids(db, principal)
    )


def can_read_run(db: Session, principal: Principal, run: RunFacts) -> bool:
    if run.visibility == "gallery_public" and run.status == "completed":
        return True
    return owns_run(db, principal, run)


def readable_run(db: Session, principal: Principal, run_id: str) -> models.Run:
    """The run, or the hosted 404/403."""
    run = db.get(models.Run, run_id)
    check_readable(db, principal, run_id, run)
    assert run is not None
    return run


def check_readable(db: Session, principal: Principal, run_id: str,
                   run: RunFacts | None) -> None:
    """The hosted 404/403 for a run (whole or its head) the caller may not read."""
    if run is None:
        raise HTTPException(404, f"Run '{run_id}' not found")
    if not can_read_run(db, principal, run):
        raise HTTPException(403, "Not allowed to view this run")


def membership(db: Session, principal: Principal, team_id: str) -> models.TeamMember | None:
    if principal.kind != "member":
        return None
    return db.scalar(
        select(models.TeamMember).where(
            models.TeamMember.team_id == team_id, models.TeamMember.user_id == principal.user_id
        )
    )
