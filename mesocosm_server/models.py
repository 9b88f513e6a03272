"""Stored records (SQLAlchemy 2). The API's shapes live in ``mesocosm_platform.schemas``.

Unlike the hosted service, which keeps runs as JSON blobs with ``created_at`` inside, the
columns that are filtered, ordered or raced on (status, created_at, leases, version) are
real columns, so paging, the guest daily limit and compare-and-set updates are exact.
Timestamps are naive UTC, as the hosted API shows them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(150), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime]


class GuestSession(Base):
    __tablename__ = "guest_sessions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    client: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(index=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class Team(Base):
    __tablename__ = "teams"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    join_code: Mapped[str] = mapped_column(String(4), unique=True)
    created_by_user_id: Mapped[int]
    created_at: Mapped[datetime]


class TeamMember(Base):
    __tablename__ = "team_members"
    __table_args__ = (UniqueConstraint("team_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(index=True)
    role: Mapped[str] = mapped_column(String(16))
    joined_at: Mapped[datetime]


class Domain(Base):
    __tablename__ = "domains"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    owner_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), index=True)
    data: Mapped[dict[str, Any]]  # the Domain document without id/owner_id/status
    created_at: Mapped[datetime]


class Run(Base):
    __tablename__ = "runs"
    __table_args__ = (Index("ix_runs_created", "created_at", "id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    domain_id: Mapped[str] = mapped_column(ForeignKey("domains.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    actor_type: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str] = mapped_column(String(64), index=True)
    requester_id: Mapped[str] = mapped_column(String(80))
    team_id: Mapped[str | None] = mapped_column(
        ForeignKey("teams.id", ondelete="SET NULL"), index=True
    )
    visibility: Mapped[str] = mapped_column(String(16))
    config: Mapped[dict[str, Any]]
    scores: Mapped[dict[str, Any]]
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    terminal_info: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    max_parallel: Mapped[int]
    created_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]


class Episode(Base):
    __tablename__ = "episodes"
    __table_args__ = (Index("ix_episodes_claim", "status", "lease_expires_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    seed: Mapped[int | None]
    status: Mapped[str] = mapped_column(String(16))
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    started_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    steps: Mapped[int] = mapped_column(default=0)
    total_reward: Mapped[float] = mapped_column(default=0.0)
    terminal_info: Mapped[dict[str, Any]]
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # the engine's EpisodeResult


class EpisodeTrace(Base):
    """An episode's trace events, written once with the episode's final state."""

    __tablename__ = "episode_traces"

    episode_id: Mapped[str] = mapped_column(
        ForeignKey("episodes.id", ondelete="CASCADE"), primary_key=True
    )
    events: Mapped[list[Any]]


class DeveloperEnvironment(Base):
    """A submitted repository and its onboarding job (PLATFORM_API.md 4.4, 5.1).

    Onboarding is leased like episodes are (``job_owner``, ``job_expires_at``): a server
    killed mid-onboarding leaves a lease that expires, and any server takes the job again.
    """

    __tablename__ = "developer_environments"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    owner_id: Mapped[str] = mapped_column(String(64), index=True)
    scope: Mapped[str] = mapped_column(String(8))
    actor_type: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str] = mapped_column(String(64))
    team_id: Mapped[str | None] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    created_by_user_id: Mapped[int]
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text)
    github_url: Mapped[str] = mapped_column(String(512))
    status: Mapped[str] = mapped_column(String(16), index=True)
    domain_id: Mapped[str | None] = mapped_column(
        ForeignKey("domains.id", ondelete="SET NULL"), index=True)
    env_url: Mapped[str | None] = mapped_column(String(512))
    error_message: Mapped[str | None] = mapped_column(Text)
    submission_version: Mapped[int] = mapped_column(default=1)
    domain_history: Mapped[list[Any]]
    resubmitted_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    job_owner: Mapped[str | None] = mapped_column(String(64))
    job_expires_at: Mapped[datetime | None]
    job_attempts: Mapped[int] = mapped_column(default=0)
