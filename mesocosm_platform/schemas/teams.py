"""Team shapes (PLATFORM_API.md section 4.3)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class TeamCreate(BaseModel):
    name: str = Field(min_length=1, max_length=255)
    slug: str | None = None


class Team(BaseModel):
    """A team-list row: ``join_code`` is shown to the owner only."""

    team_id: str
    name: str
    slug: str
    role: Literal["owner", "member"]
    member_count: int
    max_members: int
    join_code: str | None


class TeamJoin(BaseModel):
    code: str = Field(min_length=4, max_length=4)


class TeamJoined(BaseModel):
    team_id: str
    name: str
    member_count: int
    max_members: int
    role: Literal["owner", "member"]


class JoinCode(BaseModel):
    join_code: str


class TeamTransfer(BaseModel):
    new_owner_user_id: int


class TeamLeaderboardRow(BaseModel):
    run_id: str
    model: str
    primary_score: float | None
    all_scores: dict[str, float]
