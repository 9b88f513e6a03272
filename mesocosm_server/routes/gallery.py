"""``GET /v1/gallery/domains/{domain_id}/activity`` (PLATFORM_API.md 4.7): a domain's
recent runs for one page, the caller's own (``mine``, unredacted) and the public gallery's
(``gallery``, redacted, the caller's own left out), newest first.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import select

from mesocosm_platform import schemas
from mesocosm_server import models
from mesocosm_server.deps import Caller, Db
from mesocosm_server.documents import list_items
from mesocosm_server.paging import page
from mesocosm_server.route_class import SessionRoute
from mesocosm_server.routes import ERRORS
from mesocosm_server.routes.domains import get_domain

router = APIRouter(prefix="/v1/gallery", tags=["leaderboards"], responses=ERRORS,
                   route_class=SessionRoute)
Limit = Annotated[int, Query(ge=1, le=100)]


@router.get("/domains/{domain_id}/activity", response_model=schemas.Activity)
def activity(domain_id: str, db: Db, principal: Caller, limit: Limit = 20,
             mine_limit: Limit = 20, gallery_limit: Limit = 20,
             cursor: str | None = None) -> schemas.Activity:
    get_domain(db, domain_id)
    in_domain = select(models.Run).where(models.Run.domain_id == domain_id)
    mine: list[models.Run] = []
    if principal.kind != "anonymous":
        mine = page(db, in_domain.where(models.Run.actor_type == principal.kind,
                                        models.Run.actor_id == principal.actor_id),
                    limit=mine_limit, cursor=cursor, created_before=None)
    public = in_domain.where(models.Run.visibility == "gallery_public",
                             models.Run.status == "completed")
    if principal.kind != "anonymous":
        public = public.where(~((models.Run.actor_type == principal.kind)
                                & (models.Run.actor_id == principal.actor_id)))
    gallery = page(db, public, limit=gallery_limit, cursor=cursor, created_before=None)
    items = [schemas.ActivityItem(**item.model_dump(), source="mine")
             for item in list_items(db, mine)]
    items += [schemas.ActivityItem(**item.model_dump(), source="gallery")
              for item in list_items(db, gallery, owned=set())]
    items.sort(key=lambda item: (item.created_at, item.id), reverse=True)
    more = len(items) > limit or len(mine) == mine_limit or len(gallery) == gallery_limit
    items = items[:limit]
    return schemas.Activity(items=items, next_cursor=items[-1].id if more and items else None)
