"""``GET /v1/admin/status`` (PLATFORM_API.md 4.7): what the server holds and is doing.

The hosted service lets any member read it; it shows every user's runs and failures
(error text can carry env internals), so here only the members named in the ``admins``
setting (``--admins``) may: others get 403, anonymous callers 401.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from sqlalchemy import func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from mesocosm_platform import schemas
from mesocosm_server import models
from mesocosm_server.db import utcnow
from mesocosm_server.deps import Db, Member, Settings
from mesocosm_server.documents import iso
from mesocosm_server.route_class import SessionRoute
from mesocosm_server.routes import ERRORS

router = APIRouter(prefix="/v1/admin", tags=["admin"], responses=ERRORS,
                   route_class=SessionRoute)
RECENT_FAILURES = 10


def _by_status(db: Session, column: InstrumentedAttribute[str]) -> dict[str, int]:
    return {str(status): int(n) for status, n in db.execute(
        select(column, func.count()).group_by(column)).all()}


@router.get("/status", response_model=schemas.AdminStatus)
def status(db: Db, principal: Member, settings: Settings) -> schemas.AdminStatus:
    if principal.username not in settings.admins:
        raise HTTPException(403, "Server admins only (the server's --admins setting)")
    now = utcnow()
    running = models.Episode.status == "running"
    live = models.Episode.lease_expires_at >= now
    playing = db.scalar(select(func.count()).where(running, live)) or 0
    expired = db.scalar(select(func.count()).where(running, ~live)) or 0
    workers = db.scalar(select(func.count(func.distinct(models.Episode.lease_owner)))
                        .where(running, live)) or 0
    failures = db.scalars(select(models.Episode).where(models.Episode.status == "failed")
                          .order_by(models.Episode.ended_at.desc()).limit(RECENT_FAILURES))
    runs = _by_status(db, models.Run.status)
    return schemas.AdminStatus(
        counts={"runs": runs,
                "episodes": _by_status(db, models.Episode.status),
                "developer_envs": _by_status(db, models.DeveloperEnvironment.status),
                "bench_jobs": {}},  # no bench jobs here: runs are the only jobs
        in_flight={"runs": runs.get("running", 0),
                   "episodes": int(playing), "expired_leases": int(expired),
                   "workers": int(workers)},
        recent_failures=[schemas.RecentFailure(
            episode_id=e.id, run_id=e.run_id, ended_at=iso(e.ended_at),
            error=str(e.terminal_info.get("error") or e.terminal_info.get("reason") or "")
            or None) for e in failures],
        reaper_enabled=True,  # expired leases are played again by any worker
    )
