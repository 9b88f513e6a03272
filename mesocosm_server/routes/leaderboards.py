"""Leaderboards and the gallery (PLATFORM_API.md 4.7), public.

Rows come from completed ``gallery_public`` runs of published domains; ties and the
gallery order by time, not by UUID string as the hosted service does.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mesocosm_platform import schemas
from mesocosm_server import models
from mesocosm_server.deps import Db
from mesocosm_server.route_class import SessionRoute
from mesocosm_server.routes import ERRORS

router = APIRouter(prefix="/v1", tags=["leaderboards"], responses=ERRORS, route_class=SessionRoute)


def _board(db: Session, domain: models.Domain, limit: int) -> list[schemas.LeaderboardRow]:
    if domain.status != "published":
        return []
    scoring = domain.data["scoring"]
    primary = scoring["primary_metric"]
    counts = dict(db.execute(
        select(models.Episode.run_id, func.count()).join(models.Run)
        .where(models.Run.domain_id == domain.id).group_by(models.Episode.run_id)).all())
    rows = []
    for run in db.scalars(select(models.Run).where(
            models.Run.domain_id == domain.id, models.Run.status == "completed",
            models.Run.visibility == "gallery_public")):
        if primary in run.scores:
            rows.append(schemas.LeaderboardRow(
                run_id=run.id, model=run.config["agent_config"]["model"],
                binding_vow_version=run.config["binding_vow_version"],
                num_episodes=counts.get(run.id, 0), primary_score=run.scores[primary],
                all_scores=run.scores))
    sign = -1.0 if scoring.get("higher_is_better", True) else 1.0
    rows.sort(key=lambda r: r.run_id, reverse=True)
    rows.sort(key=lambda r: sign * r.primary_score)
    return rows[:limit]


@router.get("/leaderboards/{domain_id}", response_model=list[schemas.LeaderboardRow])
def leaderboard(domain_id: str, db: Db,
                limit: Annotated[int, Query(ge=1, le=100)] = 50) -> list[schemas.LeaderboardRow]:
    domain = db.get(models.Domain, domain_id)
    if domain is None:
        raise HTTPException(404, f"Domain '{domain_id}' not found")
    return _board(db, domain, limit)


@router.get("/leaderboards", response_model=schemas.LeaderboardsAnswer)
def leaderboards(db: Db, domain_ids: str = "",
                 limit: Annotated[int, Query(ge=1, le=100)] = 50) -> schemas.LeaderboardsAnswer:
    wanted = [d for d in domain_ids.split(",") if d.strip()]
    if len(wanted) > 50:
        raise HTTPException(422, "At most 50 domain ids per request")
    boards = {}
    for domain_id in wanted:
        domain = db.get(models.Domain, domain_id)
        boards[domain_id] = _board(db, domain, limit) if domain is not None else []
    return schemas.LeaderboardsAnswer(leaderboards=boards)


@router.get("/gallery/runs", response_model=list[schemas.GalleryRun])
def gallery(db: Db, domain_id: str | None = None, limit: int = 50) -> list[schemas.GalleryRun]:
    query = (select(models.Run, models.Domain).join(models.Domain)
             .where(models.Run.status == "completed", models.Run.visibility == "gallery_public",
                    models.Domain.status == "published")
             .order_by(models.Run.created_at.desc(), models.Run.id.desc()).limit(min(limit, 100)))
    if domain_id:
        query = query.where(models.Run.domain_id == domain_id)
    rows = []
    for run, domain in db.execute(query).all():
        primary = domain.data["scoring"]["primary_metric"]
        rows.append(schemas.GalleryRun(
            run_id=run.id, domain_id=run.domain_id, model=run.config["agent_config"]["model"],
            primary_score=run.scores.get(primary), created_at=run.created_at.isoformat(),
            actor_label="Guest" if run.actor_type == "guest" else "Member"))
    if domain_id:
        rows.sort(key=lambda r: -(r.primary_score or 0.0))
    return rows
