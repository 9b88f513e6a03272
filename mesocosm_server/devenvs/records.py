"""Developer environment rows as the API shows them, and who may use one
(PLATFORM_API.md 4.4 access rule, 4.6.2 step 5)."""

from __future__ import annotations

from datetime import datetime, timezone

from fastapi import HTTPException
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from mesocosm_platform import schemas
from mesocosm_server import models
from mesocosm_server.access import team_ids
from mesocosm_server.deps import Principal


def _aware(value: datetime | None) -> str | None:
    """Hosted env timestamps carry ``+00:00`` (PLATFORM_API.md 3)."""
    return value.replace(tzinfo=timezone.utc).isoformat() if value is not None else None


def env_doc(row: models.DeveloperEnvironment) -> schemas.DeveloperEnvironment:
    return schemas.DeveloperEnvironment(
        id=row.id, owner_id=row.owner_id, name=row.name, description=row.description,
        github_url=row.github_url, status=row.status,  # type: ignore[arg-type]
        domain_id=row.domain_id, env_url=row.env_url, error_message=row.error_message,
        created_at=_aware(row.created_at) or "", scope=row.scope,  # type: ignore[arg-type]
        team_id=row.team_id, submission_version=row.submission_version,
        domain_history=row.domain_history, resubmitted_at=_aware(row.resubmitted_at))


def poll_doc(row: models.DeveloperEnvironment) -> schemas.EnvPoll:
    return schemas.EnvPoll(id=row.id, status=row.status,  # type: ignore[arg-type]
                           domain_id=row.domain_id, env_url=row.env_url,
                           error_message=row.error_message)


def usage_doc(db: Session, row: models.DeveloperEnvironment) -> schemas.EnvUsage:
    runs = episodes = 0
    if row.domain_id is not None:
        runs = db.scalar(select(func.count()).select_from(models.Run).where(
            models.Run.domain_id == row.domain_id)) or 0
        episodes = db.scalar(select(func.count()).select_from(models.Episode).join(models.Run)
                             .where(models.Run.domain_id == row.domain_id)) or 0
    return schemas.EnvUsage(domain_id=row.domain_id, env_id=row.id, total_runs=runs,
                            total_episodes=episodes)


def may_use(db: Session, principal: Principal, row: models.DeveloperEnvironment) -> bool:
    if principal.kind != "member":
        return False
    if row.scope == "team" and row.team_id is not None:
        return row.team_id in team_ids(db, principal)
    return str(principal.user_id) in (row.actor_id, row.owner_id)


def usable_env(db: Session, principal: Principal, env_id: str) -> models.DeveloperEnvironment:
    """The environment, or the hosted 404/403."""
    row = db.get(models.DeveloperEnvironment, env_id)
    if row is None:
        raise HTTPException(404, f"Environment '{env_id}' not found")
    if not may_use(db, principal, row):
        raise HTTPException(403, "Not allowed to access this environment")
    return row


def env_for_run(db: Session, principal: Principal, env_id: str | None, domain_id: str,
                team_id: str | None) -> str | None:
    """The environment a new run uses: the one named, or the caller's only ready one on
    the domain (PLATFORM_API.md 4.6.2 step 5)."""
    env = models.DeveloperEnvironment
    if env_id is not None:
        row = usable_env(db, principal, env_id)
        if row.status != "ready":
            raise HTTPException(400, f"Environment is not ready (status: {row.status})")
        if row.domain_id != domain_id:
            raise HTTPException(422, "env_id does not match run domain_id")
        return row.id
    if principal.kind != "member":
        return None
    mine = (env.scope == "solo") & (env.owner_id == str(principal.user_id))
    scope = or_(mine, (env.scope == "team") & (env.team_id == team_id)) if team_id else mine
    ready = list(db.scalars(select(env.id).where(env.domain_id == domain_id,
                                                 env.status == "ready", scope)))
    if len(ready) > 1:
        raise HTTPException(422, "Multiple developer environments match this domain; "
                                 "pass env_id on POST /v1/runs")
    return ready[0] if ready else None
