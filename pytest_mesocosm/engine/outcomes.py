"""What an episode ended as: the status vocabulary and the per-episode result record.

Shared by the loop (which fills it), scoring (which reads it), the trace/report writers
and the pytest plugin (which ships it across xdist workers as a plain dict).
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, fields
from typing import Any

REASON_CHARS = 200  # a rejection reason as counted and shown in summaries
FEEDBACK_CHARS = 1000  # a rejection reason as passed back to the model


def trim(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, saying how much was cut."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text) - limit} more characters)"


def top_rejections(results: Iterable[EpisodeResult], top: int = 3) -> list[tuple[str, int]]:
    """The most frequent rejection reasons of a run, with their counts, most frequent first."""
    counts: Counter[str] = Counter()
    for result in results:
        counts.update(result.rejections)
    return counts.most_common(top)


class EpisodeStatus(str, enum.Enum):
    """How an episode ended.

    ``completed``/``truncated``/``timeout``/``invalid`` are scoreable outcomes (an
    ``invalid`` episode ran out of invalid-action retries and counts as a loss);
    ``env_error`` means the environment broke the contract, ``model_error`` that the
    model could not be reached. Neither of the last two is ever scored.
    """

    COMPLETED = "completed"
    TRUNCATED = "truncated"
    TIMEOUT = "timeout"
    INVALID = "invalid"
    ENV_ERROR = "env_error"
    MODEL_ERROR = "model_error"

    @property
    def scoreable(self) -> bool:
        return self not in (EpisodeStatus.ENV_ERROR, EpisodeStatus.MODEL_ERROR)


@dataclass
class EpisodeResult:
    """Everything known about one finished episode; JSON-safe through :meth:`to_dict`."""

    episode_id: str
    seed: int | None
    status: EpisodeStatus
    repeat: int = 0
    error: str | None = None
    reason: str | None = None  # e.g. "step_limit", "max_wall_seconds", "token_budget"
    total_reward: float = 0.0
    rewards: list[float] = field(default_factory=list)
    steps: int = 0
    last_info: dict[str, Any] = field(default_factory=dict)
    invalid_actions: int = 0
    model_calls: int = 0  # calls that reached the model (cassette answers are not)
    prompt_tokens: int = 0  # tokens of every answer, recorded ones too (budgets replay alike)
    completion_tokens: int = 0
    cost: float = 0.0  # money spent; recorded answers cost nothing
    cache_hits: int = 0  # answers read from the cassette
    cache_misses: int = 0  # answers the cache had to ask the model for (and recorded)
    saved_tokens: int = 0  # tokens of the cassette answers
    saved_cost: float = 0.0  # what the cassette answers cost when they were recorded
    wall_seconds: float = 0.0
    trace_path: str | None = None
    rejections: dict[str, int] = field(default_factory=dict)  # why actions were rejected

    @property
    def scoreable(self) -> bool:
        return self.status.scoreable

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @property
    def label(self) -> str:
        """The id people see: ``seed=3`` or ``seed=3-r2`` for a repeat."""
        base = f"seed={self.seed}"
        return f"{base}-r{self.repeat}" if self.repeat else base

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["status"] = self.status.value
        return data

    def reject(self, reason: str) -> None:
        """Count one rejected answer under its reason (trimmed: reasons come from the env)."""
        self.invalid_actions += 1
        key = trim(reason, REASON_CHARS)
        self.rejections[key] = self.rejections.get(key, 0) + 1

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EpisodeResult:
        known = {f.name for f in fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in known}
        kwargs["status"] = EpisodeStatus(kwargs["status"])
        return cls(**kwargs)
