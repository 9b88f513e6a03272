"""Service, login and identity shapes (PLATFORM_API.md sections 2, 4.1 and 4.2)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel


class Detail(BaseModel):
    """The error and acknowledgement body: ``{"detail": "..."}``."""

    detail: str


class ErrorDetail(BaseModel):
    """An error body: a message, or (request validation) pydantic's list of problems."""

    detail: str | list[dict[str, Any]]


class Service(BaseModel):
    status: str = "ok"
    version: str


class CsrfAnswer(BaseModel):
    detail: str = "CSRF cookie set"


class LoginRequest(BaseModel):
    username: str | None = None
    password: str | None = None


class JwtAnswer(BaseModel):
    token: str


class GuestToken(BaseModel):
    guest_token: str
    expires_at: str


class CountPair(BaseModel):
    env_count: int
    run_count: int


class ContextTeam(BaseModel):
    team_id: str
    name: str
    slug: str
    role: Literal["owner", "member"]
    member_count: int
    max_members: int
    join_code: str | None
    env_count: int
    run_count: int


class MeContext(BaseModel):
    solo: CountPair
    teams: list[ContextTeam]


class Me(BaseModel):
    """All four keys always present, null where they do not apply."""

    type: Literal["member", "guest", "anonymous"]
    user_id: int | None
    username: str | None
    guest_session_id: str | None
    context: MeContext | None = None
