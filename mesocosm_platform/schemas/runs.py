"""Run, episode, trace, export, leaderboard and gallery shapes (PLATFORM_API.md 4.6-8).

``Run`` carries, beside the hosted keys, ``summary``: this project's honest account of
the run (scored/total, outcome counts, intervals). Hosted clients ignore unknown keys.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationInfo, field_validator, model_validator

MAX_EPISODES_PER_RUN = 20
Visibility = Literal["private", "gallery_public"]
RunStatus = Literal["pending", "running", "completed", "failed", "cancelled"]
EpisodeStatus = Literal["pending", "running", "completed", "truncated", "timeout", "failed",
                        "cancelled"]


class TechniqueUse(BaseModel):
    technique_id: str
    params: dict[str, Any] = Field(default_factory=dict)


class AgentConfig(BaseModel):
    model: str
    system_prompt: str | None = None
    techniques: list[TechniqueUse] = Field(default_factory=list)
    temperature: float = 0.0
    max_tokens: int = 4096


class RunCreate(BaseModel):
    """``POST /v1/runs``; unknown fields are ignored, as the hosted service does."""

    domain_id: str
    binding_vow_version: str
    agent_config: AgentConfig
    seed_set: list[int] | None = None
    num_episodes: int = Field(default=1, ge=1)
    max_parallel: int = Field(default=1, ge=1)
    env_id: str | None = None
    team_id: str | None = None
    visibility: Any = None

    @field_validator("num_episodes")
    @classmethod
    def _cap(cls, value: int, info: ValidationInfo) -> int:
        cap = (info.context or {}).get("max_episodes", MAX_EPISODES_PER_RUN)
        if value > cap:
            raise ValueError(f"num_episodes ({value}) exceeds the platform maximum ({cap})")
        return value

    @model_validator(mode="after")
    def _seeds_match(self) -> RunCreate:
        if self.seed_set is not None and len(self.seed_set) != self.num_episodes:
            raise ValueError(
                f"seed_set has {len(self.seed_set)} entries but num_episodes is "
                f"{self.num_episodes}; they must match, or omit seed_set to auto-generate seeds"
            )
        return self


class RunConfig(BaseModel):
    domain_id: str
    binding_vow_version: str
    agent_config: AgentConfig
    seed_set: list[int] | None
    num_episodes: int
    max_parallel: int
    env_id: str | None = None


class Run(BaseModel):
    id: str
    config: RunConfig
    requester_id: str | None = None
    status: RunStatus
    created_at: str
    completed_at: str | None
    scores: dict[str, float]
    team_id: str | None
    env_id: str | None
    summary: dict[str, Any] | None = None


class RunListItem(Run):
    completed_count: int
    failed_count: int
    avg_reward: float | None
    actor_type: Literal["member", "guest"]
    actor_id: str
    actor_username: str | None
    visibility: Visibility


class Episode(BaseModel):
    id: str
    run_id: str
    seed: int | None
    status: EpisodeStatus
    started_at: str | None
    ended_at: str | None
    steps: int
    total_reward: float
    terminal_info: dict[str, Any]


class TraceEvent(BaseModel):
    episode_id: str
    step: int
    timestamp: str | None
    event_type: str
    payload: dict[str, Any]


class VisibilityChange(BaseModel):
    visibility: str


class RunStatusRow(BaseModel):
    id: str
    status: RunStatus
    scores: dict[str, float]
    completed_at: str | None


class RunsStatus(BaseModel):
    runs: dict[str, RunStatusRow]


class ExportDocument(BaseModel):
    schema_version: str
    exported_at: str
    visibility: Visibility
    domain_id: str
    domain_name: str | None
    binding_vow_version: str
    run: dict[str, Any]
    episodes: list[dict[str, Any]]
    traces: dict[str, list[dict[str, Any]]]
    replay: dict[str, list[dict[str, Any]]]


class LeaderboardRow(BaseModel):
    run_id: str
    model: str
    binding_vow_version: str
    num_episodes: int
    primary_score: float
    all_scores: dict[str, float]


class LeaderboardsAnswer(BaseModel):
    leaderboards: dict[str, list[LeaderboardRow]]


class GalleryRun(BaseModel):
    run_id: str
    domain_id: str
    model: str
    primary_score: float | None
    created_at: str
    actor_label: Literal["Guest", "Member"]


class TestEpisodeRequest(BaseModel):
    domain_id: str
    binding_vow_version: str
    agent_config: AgentConfig
    env_url: str | None = None
    seed: int | None = None
