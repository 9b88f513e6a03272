"""The hosted platform's three techniques and the prompt contexts they add.

A run may ask for techniques in ``agent_config.techniques`` (PLATFORM_API.md 6.3);
each then adds one ``## <key>\\n<value>`` part to the hosted system message, after
``## Action Space``, in the order the run lists them:

- ``memory`` (``window_size``, default 10): ``Recent History``, the last N steps as
  ``Step k: obs=<first 120 chars> | action=<a> | reward=<r>``, under a line naming the
  steps left out;
- ``tool_calling`` (``tools``): ``Available Tools``, the list as a fenced JSON block;
- ``multi_agent`` (``roles``): ``Your Role``, rotating through the roles step by step.

The catalogue (ids, versions, descriptions, config schemas) is what the platform's
``GET /v1/techniques`` lists.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pytest_mesocosm.agents.base import TechniqueUse, Turn

VERSION = "1.0.0"
OBS_CHARS = 120


@dataclass(frozen=True)
class Technique:
    id: str
    description: str
    config_schema: dict[str, Any]
    version: str = VERSION


CATALOGUE: dict[str, Technique] = {t.id: t for t in (
    Technique("tool_calling", "Lists the tools the agent may name in its action.", {
        "type": "object", "properties": {"tools": {
            "type": "array", "items": {"type": "object"},
            "description": "tool descriptions shown to the model as JSON"}}}),
    Technique("memory", "Shows the model its last steps: observation, action, reward.", {
        "type": "object", "properties": {"window_size": {
            "type": "integer", "minimum": 1, "default": 10,
            "description": "how many recent steps to show"}}}),
    Technique("multi_agent", "Gives the model a role, rotating through the roles each step.", {
        "type": "object", "properties": {"roles": {
            "type": "array", "items": {"type": "string"},
            "description": "roles taken in turn, one per step"}}}),
)}


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False) if isinstance(value, (dict, list)) else str(
        value)


def memory_context(history: list[Turn], window_size: int) -> str | None:
    """The accepted steps so far (rejected answers are not steps), the last N of them."""
    steps = [turn for turn in history if turn.feedback is None]
    if not steps:
        return None
    window = max(1, int(window_size))
    shown = steps[-window:]
    first = len(steps) - len(shown) + 1
    lines = [f"(steps 1-{first - 1} omitted)"] if first > 1 else []
    lines += [f"Step {first + i}: obs={_compact(turn.observation)[:OBS_CHARS]} | "
              f"action={_compact(turn.action)} | reward={turn.reward}"
              for i, turn in enumerate(shown)]
    return "\n".join(lines)


def tools_context(tools: list[Any]) -> str | None:
    if not tools:
        return None
    return "```json\n" + json.dumps(tools, ensure_ascii=False, indent=2) + "\n```"


def role_context(roles: list[Any], step: int) -> str | None:
    """The role for ``step`` (1-based), rotating."""
    if not roles:
        return None
    return str(roles[(step - 1) % len(roles)])


def contexts(uses: tuple[TechniqueUse, ...], history: list[Turn], step: int
             ) -> list[tuple[str, str]]:
    """The ``(key, value)`` prompt parts of a step (``step`` is 1-based), in run order."""
    parts: list[tuple[str, str]] = []
    for use in uses:
        params = use.params
        key, value = "", None
        if use.technique_id == "memory":
            key, value = "Recent History", memory_context(
                history, params.get("window_size") or 10)
        elif use.technique_id == "tool_calling":
            key, value = "Available Tools", tools_context(list(params.get("tools") or []))
        elif use.technique_id == "multi_agent":
            key, value = "Your Role", role_context(list(params.get("roles") or []), step)
        if value is not None:
            parts.append((key, value))
    return parts
