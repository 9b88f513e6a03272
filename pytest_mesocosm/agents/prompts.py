"""The ``chat`` prompt profile: the system message, and each step as a chat.

The system message stacks, in this order: the env's own system prompt (from ``/reset``
or ``/step``), the user's system prompt, what the env is (name, description, the
observation and action space descriptions), the action space itself (allowed values,
bounds, JSON Schema) and how to answer. Each observation is a user message (JSON as one
line of JSON, text as is, images as an image part); the model's earlier replies are
assistant messages; a rejected answer is followed by a user message with the reason.

``history`` windows the chat: ``None`` sends the whole episode, ``0`` only the current
step (one stateless turn per step, as the hosted platform does), ``k`` the last ``k``
steps. A step's rejected answers travel with it, and the current step's always go, so
the model sees what it is correcting. Building runs every step, so it stays linear in
the window and does no more than string formatting.
"""

from __future__ import annotations

import json
from typing import Any

from pytest_mesocosm.agents.base import AgentContext, TaskInfo, Turn
from pytest_mesocosm.agents.parsing import ParsedAction, parse_action, without_reasoning
from pytest_mesocosm.agents.structured import STRUCTURED_TYPES, response_schema
from pytest_mesocosm.agents.transport import Completion, ModelRequest
from pytest_mesocosm.engine.config import AgentOptions

Message = dict[str, Any]
_SYSTEM_CACHE_SIZE = 64

_FREE_TEXT = "Reply with your reasoning if you like, then a final line `ACTION: <action>`."


def system_prompt(task: TaskInfo, env_system_prompt: str | None, *, structured: bool) -> str:
    """The system message for ``task``; ``structured`` when a response schema is sent."""
    parts = [p.strip() for p in (env_system_prompt, task.system_prompt) if p and p.strip()]
    about = f"You are playing {task.name}."
    if task.description:
        about += f" {task.description.strip()}"
    parts.append(about)
    observed = task.observation_space.get("description")
    if observed:
        parts.append(f"Observations: {observed}")
    parts.append(_action_space_text(task.action_space))
    parts.append(_how_to_answer(task.action_space, structured))
    return "\n\n".join(parts)


def _action_space_text(space: dict[str, Any]) -> str:
    kind = space.get("type", "text")
    lines = [f"Action space: {kind}."]
    if space.get("description"):
        lines[0] += f" {space['description']}"
    if kind == "discrete":
        values = space.get("enum_values") or []
        lines.append("Allowed actions: " + ", ".join(str(v) for v in values))
    elif kind == "continuous":
        lines.append(_bounds_text(space.get("bounds") or {}))
    elif kind == "json" and isinstance(space.get("schema"), dict):
        lines.append("The action is a JSON value matching this JSON Schema: "
                     + json.dumps(space["schema"], ensure_ascii=False))
    return "\n".join(lines)


def _bounds_text(bounds: dict[str, Any]) -> str:
    low, high = bounds.get("low"), bounds.get("high")
    span = f"between {low} and {high}"
    shape = bounds.get("shape") or []
    if not shape or list(shape) == [1]:
        return f"The action is one number {span}."
    return f"The action is an array of shape {list(shape)}, every number {span}."


def _how_to_answer(space: dict[str, Any], structured: bool) -> str:
    kind = space.get("type", "text")
    if structured and kind == "json":
        return "Answer with the JSON value of your action only."
    if structured and kind == "discrete":
        return 'Answer with a JSON object {"action": "<one of the allowed actions>"}.'
    if structured:
        return 'Answer with a JSON object {"action": <your action>}.'
    if kind == "discrete":
        return ("Reply with your reasoning if you like, then a final line "
                "`ACTION: <one of the allowed actions>`.")
    if kind == "json":
        return ("Reply with your reasoning if you like, then a final line "
                "`ACTION: <the JSON value>`.")
    return _FREE_TEXT


def render_observation(data: Any, content_type: str = "application/json") -> str | list[Message]:
    """One observation as message content: text as is, JSON on one line, images as parts."""
    if isinstance(data, str):
        if content_type.startswith("image/"):
            return [
                {"type": "text", "text": "Observation:"},
                {"type": "image_url", "image_url": {"url": f"data:{content_type};base64,{data}"}},
            ]
        return data
    try:
        return json.dumps(data, ensure_ascii=False)
    except (TypeError, ValueError):
        return str(data)


def rejection(feedback: str) -> str:
    """The user message that follows an answer the harness or the env refused."""
    reason = feedback.strip().rstrip(".")
    return f"Your action was rejected: {reason}. Reply again."


def build_messages(ctx: AgentContext, system: str, history: int | None) -> list[Message]:
    """The chat for this turn: system, the windowed earlier steps, the current step."""
    messages: list[Message] = [{"role": "system", "content": system}]
    pending: str | None = None
    for turn in _window(ctx.history, history):
        content = rejection(pending) if pending else render_observation(
            turn.observation, ctx.content_type
        )
        messages.append({"role": "user", "content": content})
        messages.append({"role": "assistant", "content": _assistant_text(turn)})
        pending = turn.feedback
    if pending:
        messages.append({"role": "user", "content": rejection(pending)})
        return messages
    current = render_observation(ctx.observation, ctx.content_type)
    if ctx.feedback:
        note = rejection(ctx.feedback)
        current = (f"{current}\n\n{note}" if isinstance(current, str)
                   else [*current, {"type": "text", "text": note}])
    messages.append({"role": "user", "content": current})
    return messages


def _window(turns: list[Turn], history: int | None) -> list[Turn]:
    """The turns of the last ``history`` steps plus the current step's rejected answers."""
    if history is None:
        return turns
    start = len(turns)
    while start and turns[start - 1].feedback is not None:  # the current step's rejections
        start -= 1
    steps = 0
    while start:
        if turns[start - 1].feedback is None:
            if steps == history:
                break
            steps += 1
        start -= 1
    return turns[start:]


def _assistant_text(turn: Turn) -> str:
    if turn.raw_text is not None:
        return without_reasoning(turn.raw_text) if "<" in turn.raw_text else turn.raw_text
    action = turn.action
    return action if isinstance(action, str) else json.dumps(action, ensure_ascii=False)


class ChatProfile:
    """Multi-turn chat with ``ACTION:`` lines; structured output as the options say.

    Keeps a small cache of system messages (built once per task and env system prompt,
    not once per step); it holds no episode state, so one profile serves every episode.
    """

    def __init__(self, options: AgentOptions, supports_schema: bool):
        self.options = options
        self.supports_schema = supports_schema
        self._systems: dict[tuple[int, str | None], tuple[TaskInfo, str, Any]] = {}

    def _prepared(self, ctx: AgentContext) -> tuple[str, Any]:
        """(system message, response schema or None) for this task and env prompt."""
        key = (id(ctx.task), ctx.env_system_prompt)
        cached = self._systems.get(key)
        if cached is not None and cached[0] is ctx.task:
            return cached[1], cached[2]
        schema = self._schema(ctx.task.action_space)
        system = system_prompt(ctx.task, ctx.env_system_prompt, structured=schema is not None)
        if len(self._systems) >= _SYSTEM_CACHE_SIZE:
            self._systems.clear()
        self._systems[key] = (ctx.task, system, schema)  # holding the task pins its id
        return system, schema

    def _schema(self, action_space: dict[str, Any]) -> dict[str, Any] | None:
        mode = self.options.structured_output
        if mode == "off" or action_space.get("type") not in STRUCTURED_TYPES:
            return None
        if mode == "auto" and not self.supports_schema:
            return None
        return response_schema(action_space)

    def request(self, ctx: AgentContext) -> ModelRequest:
        system, schema = self._prepared(ctx)
        return ModelRequest(
            messages=build_messages(ctx, system, self.options.history),
            temperature=self.options.temperature, max_tokens=self.options.max_tokens,
            schema=schema,
        )

    def read(self, completion: Completion, ctx: AgentContext) -> ParsedAction:
        return parse_action(completion.text, ctx.task.action_space)
