"""Who may read and change what: the one home of the hosted read rule (4.6) and team rules.

A run is readable by anyone when it is ``gallery_public`` and ``completed``; otherwise by
its guest actor, its member actor, or a member of its team. "Owns" (unredacted reads,
visibility changes) is the same set without the gallery clause.
"""

from __future__ import annotations

from fastapi import HTTPException
from sqlalchemy import select
from sqlalchemy.orm import Session

from mesocosm_server import models
from mesocosm_server.deps import Principal


def team_ids(db: Session, principal: Principal) -> set[str]:
    if principal.kind != "member":
        return set()
    rows = db.scalars(
        select(models.TeamMember.team_id).where(models.TeamMember.user_id == principal.user_id)
    )
    return set(rows)


def owns_run(db: Session, principal: Principal, run: models.Run) -> bool:
    if principal.kind == "anonymous" or run.actor_type != principal.kind:
        if principal.kind == "member" and run.team_id is not None:
            return run.team_id in team_ids(db, principal)
        return False
    if run.actor_id == principal.actor_id:
        return True
    return principal.kind == "member" and run.team_id is not None and (
        run.team_id in team_ids(db, principal)
    )


def can_read_run(db: Session, principal: Principal, run: models.Run) -> bool:
    if run.visibility == "gallery_public" and run.status == "completed":
        return True
    return owns_run(db, principal, run)


def readable_run(db: Session, principal: Principal, run_id: str) -> models.Run:
    """The run, or the hosted 404/403."""
    run = db.get(models.Run, run_id)
    if run is None:
        raise HTTPException(404, f"Run '{run_id}' not found")
    if not can_read_run(db, principal, run):
        raise HTTPException(403, "Not allowed to view this run")
    return run


def membership(db: Session, principal: Principal, team_id: str) -> models.TeamMember | None:
    if principal.kind != "member":
        return None
    return db.scalar(
        select(models.TeamMember).where(
            models.TeamMember.team_id == team_id, models.TeamMember.user_id == principal.user_id
        )
    )
