"""The options of a bench run, in one record shared by the plugin, the CLI and the server.

Every front end (``pytest --mesocosm``, ``mesocosm run local``, the server's worker)
collects its flags, ini lines or request fields into a flat mapping and hands it to
:func:`build_config`, the one place that turns them into a :class:`BenchConfig`. The
defaults live here and nowhere else; a front end shows them in its help from here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

DEFAULT_MODEL = "ollama/llama3.2"
DEFAULT_RUNS_DIR = Path(".mesocosm") / "runs"
DEFAULT_ADAPTER_URL = "http://127.0.0.1:8765"


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
class GateOptions:
    """What the run is judged against, on top of the manifest's own ``mesocosm`` block."""

    thresholds: list[str] = field(default_factory=list)  # added to the manifest's
    allowed_errors: int | None = None  # None: the manifest's, else 0
    baseline: Path | None = None  # an earlier results.json, run folder or report
    max_drop: float | None = None  # fail when a metric is this much worse than the baseline
    # what an undecided threshold counts as: "estimate" (its point estimate, as before),
    # "fail", "pass", or "error" (its own exit code); see scoring/decide.py
    inconclusive: Literal["estimate", "fail", "pass", "error"] = "estimate"
    until_decided: int | None = None  # add seeds until decided or this many episodes ran


@dataclass
class ExecutorOptions:
    """Where episodes play: on this process's event loop, or on the actors of a Ray cluster.

    How episodes are scheduled does not change what they are, so these are left out of
    ``results.json`` (:meth:`BenchConfig.to_dict`): a run on either writes the same file.
    """

    kind: Literal["asyncio", "ray"] = "asyncio"
    ray_address: str | None = None  # as ray.init takes it; None: RAY_ADDRESS or a new local one
    ray_actors: int | None = None  # None: the cluster's CPUs, at most the planned episodes
    ray_actor_parallel: int | None = None  # episodes per actor; None: the parallel spread out


@dataclass
class BenchConfig:
    """One bench run: which episodes, how many at once, where the env is, where output goes."""

    agent: AgentOptions = field(default_factory=AgentOptions)
    limits: EpisodeLimits = field(default_factory=EpisodeLimits)
    gate: GateOptions = field(default_factory=GateOptions)
    executor: ExecutorOptions = field(default_factory=ExecutorOptions)
    seeds: list[int] | None = None  # None: range(episodes)
    episodes: int = 5
    repeats: int = 1
    parallel: int | None = None  # None: the vow's parallel_episodes, else 1
    env_url: str | None = None  # None: start the manifest's adapter
    start_if_absent: bool = False  # env_url is a guess: start the adapter if nothing answers
    python: str | None = None  # interpreter for `python adapter.py` (default: ours)
    runs_dir: Path = DEFAULT_RUNS_DIR
    scenario_params: dict[str, Any] = field(default_factory=dict)

    def episode_seeds(self) -> list[int]:
        return list(self.seeds) if self.seeds is not None else list(range(self.episodes))

    @property
    def planned(self) -> int:
        """How many episodes the run plays: seeds times repeats."""
        return len(self.episode_seeds()) * max(self.repeats, 1)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        del data["executor"]  # see ExecutorOptions
        data["runs_dir"] = str(self.runs_dir)
        baseline = data["gate"]["baseline"]
        data["gate"]["baseline"] = None if baseline is None else str(baseline)
        return data


_PARTS: dict[str, type] = {"agent": AgentOptions, "limits": EpisodeLimits, "gate": GateOptions,
                           "executor": ExecutorOptions}
_OWNER = {f.name: part for part, cls in _PARTS.items() for f in fields(cls)}
_TOP = {f.name for f in fields(BenchConfig)} - set(_PARTS)
_FLAG_NAMES = {  # flag -> field
    "model_timeout": "timeout", "model_retries": "retries", "executor": "kind"}


def build_config(collected: Mapping[str, Any]) -> BenchConfig:
    """The one mapping from what a front end collected to a :class:`BenchConfig`.

    ``collected`` is flat (``model``, ``max_tokens``, ``thresholds``, ``seeds``, ...); a
    key that is absent or ``None`` keeps the default above. An unknown key is a bug in
    the front end, so it raises ``TypeError`` naming it.
    """
    parts: dict[str, dict[str, Any]] = {name: {} for name in _PARTS}
    top: dict[str, Any] = {}
    for key, value in collected.items():
        key = _FLAG_NAMES.get(key, key)
        if key in _OWNER:
            target = parts[_OWNER[key]]
        elif key in _TOP:
            target = top
        else:
            raise TypeError(f"build_config: unknown option {key!r}")
        if value is not None:
            target[key] = value
    if "thresholds" in parts["gate"]:
        parts["gate"]["thresholds"] = list(dict.fromkeys(parts["gate"]["thresholds"]))
    if "runs_dir" in top:
        top["runs_dir"] = Path(top["runs_dir"])
    if "seeds" in top:
        top["seeds"] = list(top["seeds"])
    built = {name: cls(**parts[name]) for name, cls in _PARTS.items()}
    return BenchConfig(**built, **top)
