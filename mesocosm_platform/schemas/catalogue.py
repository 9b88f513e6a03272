"""Techniques, a domain's activity feed and the admin status (PLATFORM_API.md 4.7)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

from mesocosm_platform.schemas.runs import RunListItem


class Technique(BaseModel):
    id: str
    version: str
    description: str
    config_schema: dict[str, Any]


class ActivityItem(RunListItem):
    source: Literal["mine", "gallery"]


class Activity(BaseModel):
    items: list[ActivityItem]
    next_cursor: str | None


class RecentFailure(BaseModel):
    episode_id: str
    run_id: str
    ended_at: str | None
    error: str | None


class AdminStatus(BaseModel):
    counts: dict[str, dict[str, int]]  # runs, episodes, developer_envs, bench_jobs by status
    in_flight: dict[str, int]
    recent_failures: list[RecentFailure]
    reaper_enabled: bool
