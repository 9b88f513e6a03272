"""The options of a bench run, in one record shared by the plugin, the CLI and the server.

Every front end (``pytest --mesocosm``, ``mesocosm run local``, the server's worker)
turns its flags into a :class:`BenchConfig`; the engine reads nothing else.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

DEFAULT_MODEL = "ollama/llama3.2"
DEFAULT_RUNS_DIR = Path(".mesocosm") / "runs"


@dataclass
class AgentOptions:
    """How the agent is asked: model, sampling, prompt and transport settings."""

    model: str = DEFAULT_MODEL
    temperature: float = 0.0
    max_tokens: int = 512
    system_prompt: str | None = None
    # "hosted": the hosted platform's stateless prompt and parser (comparable numbers);
    # "chat": the episode as one chat with ACTION: lines (see agents/profile.py)
    prompt_style: Literal["hosted", "chat"] = "hosted"
    history: int | None = None  # chat only; None: whole episode as one chat; k: last k steps
    api_base: str | None = None
    structured_output: Literal["auto", "on", "off"] = "auto"  # chat only; hosted decides itself
    timeout: float = 120.0  # seconds per model call
    retries: int = 3  # extra attempts on transient errors and rate limits
    cache: Literal["off", "use", "replay", "refresh"] = "off"  # see agents/cache.py
    cache_dir: Path | None = None  # None: cassettes/ beside the manifest


@dataclass
class EpisodeLimits:
    """Per-episode budgets; ``None`` means "as the manifest says" or unlimited."""

    max_steps: int | None = None
    max_wall_seconds: float | None = None
    max_tokens_total: int | None = None
    max_cost: float | None = None
    invalid_retries: int = 2  # rejected answers allowed per step before the episode is invalid


@dataclass
class BenchConfig:
    """One bench run: which episodes, how many at once, where the env is, where output goes."""

    agent: AgentOptions = field(default_factory=AgentOptions)
    limits: EpisodeLimits = field(default_factory=EpisodeLimits)
    seeds: list[int] | None = None  # None: range(episodes)
    episodes: int = 5
    repeats: int = 1
    parallel: int = 1
    parallel_override: bool = False  # ignore the vow's lower parallel_episodes
    env_url: str | None = None  # None: start the manifest's adapter
    python: str | None = None  # interpreter for `python adapter.py` (default: ours)
    runs_dir: Path = DEFAULT_RUNS_DIR
    scenario_params: dict[str, Any] = field(default_factory=dict)

    def episode_seeds(self) -> list[int]:
        return list(self.seeds) if self.seeds is not None else list(range(self.episodes))

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["runs_dir"] = str(self.runs_dir)
        return data
