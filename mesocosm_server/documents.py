"""Stored records turned into the API's documents (PLATFORM_API.md 5.5, 5.6)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mesocosm_platform import schemas
from mesocosm_server import models

FAILED_LIKE = ("failed", "timeout", "cancelled")


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def domain_doc(domain: models.Domain) -> schemas.Domain:
    return schemas.Domain.model_validate(
        {**domain.data, "id": domain.id, "owner_id": domain.owner_id, "status": domain.status}
    )


def run_doc(run: models.Run, *, owner_view: bool = True) -> schemas.Run:
    """The Run document; a viewer who does not own it sees no prompt and no requester."""
    config = dict(run.config)
    if not owner_view:
        agent = dict(config.get("agent_config") or {})
        if agent.get("system_prompt"):
            agent["system_prompt"] = REDACTED
        config["agent_config"] = agent
    return schemas.Run(
        id=run.id, config=schemas.RunConfig.model_validate(config),
        requester_id=run.requester_id if owner_view else None, status=run.status,  # type: ignore[arg-type]
        created_at=run.created_at.isoformat(), completed_at=iso(run.completed_at),
        scores=run.scores, team_id=run.team_id, env_id=config.get("env_id"),
        summary=run.summary,
    )


REDACTED = "[redacted: not visible on public gallery]"


def episode_doc(episode: models.Episode) -> schemas.Episode:
    return schemas.Episode(
        id=episode.id, run_id=episode.run_id, seed=episode.seed,
        status=episode.status,  # type: ignore[arg-type]
        started_at=iso(episode.started_at), ended_at=iso(episode.ended_at),
        steps=episode.steps, total_reward=episode.total_reward,
        terminal_info=episode.terminal_info,
    )


def usernames(db: Session, ids: set[str]) -> dict[str, str]:
    numeric = [int(i) for i in ids if i.isdigit()]
    if not numeric:
        return {}
    rows = db.execute(select(models.User.id, models.User.username).where(
        models.User.id.in_(numeric)))
    return {str(uid): name for uid, name in rows}


def list_items(
    db: Session, runs: list[models.Run], *, owned: set[str] | None = None, summary: bool = True
) -> list[schemas.RunListItem]:
    """RunListItems with episode counts; ``owned`` run ids are shown unredacted."""
    counts: dict[str, dict[str, Any]] = {r.id: {"c": 0, "f": 0, "sum": 0.0, "n": 0} for r in runs}
    if summary and runs:
        rows = db.execute(
            select(models.Episode.run_id, models.Episode.status, func.count(),
                   func.sum(models.Episode.total_reward))
            .where(models.Episode.run_id.in_([r.id for r in runs]))
            .group_by(models.Episode.run_id, models.Episode.status)
        )
        for run_id, status, n, total in rows:
            entry = counts[run_id]
            entry["n"] += n
            entry["sum"] += float(total or 0.0)
            if status == "completed":
                entry["c"] += n
            elif status in FAILED_LIKE:
                entry["f"] += n
    names = usernames(db, {r.actor_id for r in runs if r.actor_type == "member"})
    items = []
    for run in runs:
        entry = counts[run.id]
        doc = run_doc(run, owner_view=owned is None or run.id in owned)
        items.append(schemas.RunListItem(
            **doc.model_dump(),
            completed_count=entry["c"], failed_count=entry["f"],
            avg_reward=(entry["sum"] / entry["n"]) if entry["n"] else None,
            actor_type=run.actor_type,  # type: ignore[arg-type]
            actor_id=run.actor_id,
            actor_username="Guest" if run.actor_type == "guest" else names.get(run.actor_id),
            visibility=run.visibility,  # type: ignore[arg-type]
        ))
    return items
