"""Run lists: newest first (created_at desc, id desc), cursor = id of the last run seen."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from fastapi import HTTPException
from sqlalchemy import Select, and_, or_
from sqlalchemy.orm import Session

from mesocosm_server import models


def parse_created_before(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise HTTPException(422, "created_before must be an ISO-8601 datetime") from exc
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(timezone.utc).replace(tzinfo=None)
    return parsed


def page(
    db: Session, query: Select[Any], *, limit: int, cursor: str | None,
    created_before: str | None,
) -> list[models.Run]:
    before = parse_created_before(created_before)
    if before is not None:
        query = query.where(models.Run.created_at < before)
    if cursor:
        last = db.get(models.Run, cursor)
        if last is not None:
            query = query.where(or_(
                models.Run.created_at < last.created_at,
                and_(models.Run.created_at == last.created_at, models.Run.id < last.id),
            ))
    query = query.order_by(models.Run.created_at.desc(), models.Run.id.desc()).limit(limit)
    return list(db.scalars(query))
