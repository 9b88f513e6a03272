"""The contract between the episode loop and whatever plays: an LLM, a script, a replay.

The loop owns the episode state and hands the agent an :class:`AgentContext` each turn;
agents keep no per-episode state of their own, so one agent serves many concurrent
episodes. An agent returns an :class:`AgentReply`; a reply whose action could not be
parsed carries ``parse_error`` instead of raising, so the loop can count it as an
invalid action and ask again with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class TechniqueUse:
    """A technique a run asked for (``agent_config.techniques``), with its params."""

    technique_id: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class TaskInfo:
    """What is fixed for a whole run: drawn from the manifest and the user's options."""

    name: str
    description: str | None = None
    action_space: dict[str, Any] = field(default_factory=lambda: {"type": "text"})
    observation_space: dict[str, Any] = field(default_factory=lambda: {"type": "json"})
    system_prompt: str | None = None  # the user's own system prompt, added to the env's
    domain_description: str | None = None  # the binding vow's own description (hosted prompt)
    techniques: tuple[TechniqueUse, ...] = ()  # prompt contexts the hosted profile adds


@dataclass
class Turn:
    """One earlier exchange of the episode: what was seen and what the agent answered."""

    observation: Any
    raw_text: str | None
    action: Any
    reward: float | None = None
    feedback: str | None = None  # set when this answer was rejected (invalid action)


@dataclass
class AgentContext:
    """Everything an agent may look at to choose the next action."""

    task: TaskInfo
    episode_id: str
    seed: int | None
    step: int  # steps taken so far in this episode
    observation: Any
    content_type: str = "application/json"
    env_system_prompt: str | None = None
    info: dict[str, Any] = field(default_factory=dict)
    history: list[Turn] = field(default_factory=list)  # oldest first
    feedback: str | None = None  # why the previous answer for this step was rejected


@dataclass
class AgentReply:
    """An agent's answer for one turn, with what it cost."""

    action: Any
    raw_text: str = ""
    parse_error: str | None = None
    reasoning: str | None = None  # e.g. the <think> block, kept for traces and replays
    messages: list[dict[str, Any]] | None = None  # the prompt as sent, for the trace
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0
    latency: float = 0.0  # seconds spent waiting for the model
    cached: bool | None = None  # None: no cache; True: answered from the cassette; False: recorded


@runtime_checkable
class Agent(Protocol):
    """Anything that can play: ``await agent.act(ctx)`` returns the next action."""

    name: str

    async def act(self, ctx: AgentContext) -> AgentReply:
        """Choose the next action; raise ``ModelError`` only when the model is unreachable."""
        ...

    async def preflight(self) -> None:
        """Check once, before the first episode, that the agent can play at all.

        Raises ``ModelError`` (model not reachable or not pulled, key missing) or
        ``AgentConfigError`` with a message that names the fix, so a run fails with one
        clear error instead of one per episode.
        """
        ...

    async def aclose(self) -> None:
        """Release pooled connections; called once when the run ends."""
        ...
