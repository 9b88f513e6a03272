"""Domain shapes: binding vow, endpoint, scoring (PLATFORM_API.md sections 4.5 and 5.2).

Unknown keys inside the vow and scoring are kept (``extra="allow"``): the platform may
add some, and a domain must read back as it was written.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

SpaceType = Literal["discrete", "continuous", "text", "json", "image", "multi_modal", "composite"]


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class Bounds(_Open):
    low: float
    high: float


class SpaceSpec(_Open):
    type: SpaceType = "text"
    dtype: str | None = None
    shape: list[int] | None = None
    bounds: Bounds | None = None
    enum_values: list[Any] | None = None
    schema_ref: Any = None
    description: str = ""
    fields: dict[str, SpaceSpec] | None = None


class Reward(_Open):
    type: Literal["scalar", "vector", "sparse", "binary"] = "scalar"
    range: Bounds | None = None
    description: str = ""


class EpisodeRules(_Open):
    max_steps: int | None = None
    max_wall_seconds: float | None = None
    deterministic_reset: bool = False
    supports_seed: bool = True
    parallel_episodes: int = 1
    observability: Literal["full", "partial"] = "full"


class TechniqueDecl(_Open):
    technique_id: str
    version: str = "^1.0"
    config_schema: dict[str, Any] | None = None
    required: bool = False


class BindingVow(_Open):
    id: str
    version: str
    domain_id: str
    tier: Literal["tier1", "tier2"]
    observation_space: SpaceSpec
    action_space: SpaceSpec
    reward: Reward
    episode: EpisodeRules = Field(default_factory=EpisodeRules)
    techniques: list[TechniqueDecl] = Field(default_factory=list)
    metadata: dict[str, Any] = Field(default_factory=dict)
    description: str = ""


class MetricConfig(_Open):
    name: str
    type: Literal["episode_reward", "terminal_field", "trajectory_judge", "human_judge"]
    aggregation: Literal["mean", "median", "max", "min", "sum", "pass_rate"] = "mean"
    field: str | None = None
    judge_config: dict[str, Any] | None = None
    pass_threshold: float = 0.0


class ScoringConfig(_Open):
    primary_metric: str
    metrics: list[MetricConfig]
    higher_is_better: bool = True

    @model_validator(mode="after")
    def _primary_is_a_metric(self) -> ScoringConfig:
        if self.primary_metric not in {m.name for m in self.metrics}:
            raise ValueError(
                f"primary_metric '{self.primary_metric}' is not one of the metrics"
            )
        return self


class Endpoint(_Open):
    mode: Literal["remote", "sandbox"] = "remote"
    url: str | None = None
    image: str | None = None
    resources: dict[str, Any] = Field(default_factory=dict)


class VersionNote(_Open):
    version: str
    date: str = ""
    changes: str = ""


class DomainUpdate(BaseModel):
    """``PATCH /v1/domains/{id}``: any subset of the POST fields; nulls are ignored."""

    name: str | None = None
    binding_vow: BindingVow | None = None
    endpoint: Endpoint | None = None
    scoring: ScoringConfig | None = None
    tags: list[str] | None = None
    detail: str | None = None
    pricing: str | None = None
    version_history: list[VersionNote] | None = None
    image_url: str | None = None
    profile_picture_url: str | None = None
    has_gold_benchmark: bool | None = None


class DomainCreate(BaseModel):
    id: str = Field(min_length=1, max_length=255)
    name: str
    binding_vow: BindingVow
    endpoint: Endpoint
    scoring: ScoringConfig
    tags: list[str] = Field(default_factory=list)
    detail: str = ""
    pricing: str = "free"
    version_history: list[VersionNote] = Field(default_factory=list)
    image_url: str | None = None
    profile_picture_url: str | None = None
    has_gold_benchmark: bool = False


class Domain(DomainCreate):
    owner_id: str
    status: Literal["draft", "testing", "published", "archived"]
