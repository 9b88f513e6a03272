"""Developer environment shapes (PLATFORM_API.md section 4.4)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

EnvStatus = Literal["pending", "cloning", "ready", "failed"]


class DeveloperEnvironmentCreate(BaseModel):
    """``POST /v1/developer/environments``; ``owner_id`` is ignored as the hosted one does."""

    name: str = Field(min_length=1, max_length=255)
    description: str = ""
    github_url: str = Field(min_length=1, max_length=512)
    team_id: str | None = None


class DeveloperEnvironment(BaseModel):
    id: str
    owner_id: str
    name: str
    description: str
    github_url: str
    status: EnvStatus
    domain_id: str | None
    env_url: str | None
    error_message: str | None
    created_at: str
    scope: Literal["solo", "team"]
    team_id: str | None
    submission_version: int
    domain_history: list[Any]
    resubmitted_at: str | None


class EnvUsage(BaseModel):
    domain_id: str | None
    env_id: str
    total_runs: int
    total_episodes: int
    avg_score: float | None = None
    best_score: float | None = None
    leaderboard_entries: int = 0


class DeveloperEnvironmentDetail(DeveloperEnvironment):
    usage: EnvUsage


class EnvPoll(BaseModel):
    id: str
    status: EnvStatus
    domain_id: str | None
    env_url: str | None
    error_message: str | None


class DomainUsage(BaseModel):
    domain_id: str
    total_runs: int
    total_episodes: int
    avg_score: float | None = None
    best_score: float | None = None
    leaderboard_entries: int = 0
    by_status: dict[str, int]
    gallery_eligible: int
    leaderboard_eligible: int
