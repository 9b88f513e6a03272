"""The ``hosted`` prompt profile: the hosted platform's model call, message for message.

A local number is comparable with the platform's only if the model is asked the same
way (PLATFORM_API.md section 6.3, checklist in section 12), so this module copies it:

- two messages per step, no history: a system message of parts joined by one blank
  line (the env's system prompt, the user's, ``## Domain``, ``## Action Space``, the
  closing sentence) and a user message ``[Step n]`` + newline + the observation (JSON
  with non-ASCII kept and the default separators; anything else through ``str()``);
- structured output only for ``openai/``, ``gemini/`` (a ``json_schema`` response
  format) and ``anthropic/`` (a forced ``submit_action`` tool), and only for composite,
  discrete, json and continuous spaces; the action is wrapped as ``{"action": ...}``;
- otherwise the free-text parser, which never refuses: what it cannot read goes to the
  env as the stripped text;
- ``ollama/`` models get at least 512 tokens and thinking off.

Techniques (memory, tools, roles) are sent only when the task asks for them
(``TaskInfo.techniques``, from a run's ``agent_config.techniques``), as one
``## <key>`` part each after ``## Action Space`` (see ``techniques.py``).

What is ours: a rejected answer (the env's 422, or a structured reply without an
action) is re-asked with the reason added to the step's user message, where the
platform would fail the episode.
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from pytest_mesocosm.agents.base import AgentContext, TaskInfo
from pytest_mesocosm.agents.parsing import ParsedAction
from pytest_mesocosm.agents.prompts import rejection
from pytest_mesocosm.agents.techniques import contexts
from pytest_mesocosm.agents.transport import Completion, ModelRequest, ToolChoice
from pytest_mesocosm.engine.config import AgentOptions

Mode = Literal["free", "json_schema", "tool"]

STRUCTURED_SPACES = frozenset({"composite", "discrete", "json", "continuous"})
SUBMIT_ACTION = ToolChoice(
    name="submit_action",
    description="Submit your chosen action for this step. Call this exactly once per turn.",
)
CLOSING: dict[Mode, str] = {
    "free": (
        "Respond with your action. You may include one or two sentences of reasoning first; "
        "the platform records your full reply. If the action space is discrete, include "
        "exactly one allowed value in your response. If the action space is JSON, end with "
        "valid JSON only."
    ),
    "json_schema": (
        "Respond with a JSON object containing your chosen action in the required schema. "
        "You may include a brief reasoning field if the schema allows it; the platform "
        "records your full reply."
    ),
    "tool": (
        "Call the submit_action tool with your chosen action. You may reason briefly before "
        "calling the tool; the platform records your full reply."
    ),
}
OLLAMA_MIN_TOKENS = 512

_THINK = re.compile(r"<think>.*?</think>", re.S)
_FENCE = re.compile(r"\A```(?:json)?\s*(.*?)\s*```\Z", re.S)
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")


def output_mode(model: str, action_space: dict[str, Any]) -> Mode:
    """Structured output exactly where the hosted runner uses it, else free text."""
    provider = model.split("/", 1)[0] if "/" in model else ""
    if action_space.get("type") not in STRUCTURED_SPACES:
        return "free"
    if provider in ("openai", "gemini"):
        return "json_schema"
    if provider == "anthropic":
        return "tool"
    return "free"


def describe_space(space: dict[str, Any]) -> str:
    """The ``## Action Space`` text: composite fields, enum list, description, or type."""
    fields = space.get("fields")
    if space.get("type") == "composite" and isinstance(fields, dict):
        return "composite(" + ", ".join(
            f"{name}: {describe_space(sub)}" for name, sub in fields.items()
        ) + ")"
    if space.get("enum_values"):
        return f"one of {list(space['enum_values'])!r}"
    return str(space.get("description") or space.get("type", "text"))


def system_message(task: TaskInfo, env_system_prompt: str | None, mode: Mode,
                   technique_parts: list[tuple[str, str]] | None = None) -> str:
    parts = [p for p in (env_system_prompt, task.system_prompt) if p]
    if task.domain_description:
        parts.append(f"## Domain\n{task.domain_description}")
    parts.append(f"## Action Space\n{describe_space(task.action_space)}")
    parts += [f"## {key}\n{value}" for key, value in technique_parts or []]
    parts.append(CLOSING[mode])
    return "\n\n".join(parts)


def observation_text(data: Any) -> str:
    if isinstance(data, (dict, list)):
        return json.dumps(data, ensure_ascii=False)
    return str(data)


def user_content(step: int, data: Any, content_type: str, mode: Mode) -> str | list[Any]:
    """``[Step n]`` and the observation; an image becomes a text part and an image part."""
    head = f"[Step {step}]"
    if not content_type.startswith("image/"):
        return f"{head}\n{observation_text(data)}"
    raw = str(data)
    is_url = raw.startswith(("http://", "https://", "data:"))
    image: dict[str, Any]
    if mode == "tool" and is_url:
        image = {"type": "text", "text": f"[image: {raw}]"}
    elif mode == "tool":
        image = {"type": "image", "source": {
            "type": "base64", "media_type": content_type, "data": raw}}
    else:
        url = raw if is_url else f"data:{content_type};base64,{raw}"
        image = {"type": "image_url", "image_url": {"url": url, "detail": "auto"}}
    return [{"type": "text", "text": head}, image]


def action_schema(space: dict[str, Any]) -> dict[str, Any]:
    """The structured-output schema: one required property ``action``."""
    return {"type": "object", "properties": {"action": _schema_of(space)},
            "required": ["action"]}


def _schema_of(space: dict[str, Any]) -> dict[str, Any]:
    kind = space.get("type")
    if kind == "discrete":
        return {"type": "string", "enum": list(space.get("enum_values") or [])}
    if kind == "json":
        return _json_schema(space)
    if kind == "continuous":
        bounds = space.get("bounds") or {}
        number: dict[str, Any] = {"type": "number"}
        if bounds.get("low") is not None:
            number["minimum"] = bounds["low"]
        if bounds.get("high") is not None:
            number["maximum"] = bounds["high"]
        return number
    if kind == "composite":
        fields = space.get("fields") or {}
        return {"type": "object", "properties": {n: _schema_of(f) for n, f in fields.items()},
                "required": list(fields)}
    return {"type": "string"}


def _json_schema(space: dict[str, Any]) -> dict[str, Any]:
    schema = space.get("schema") or space.get("schema_ref")
    if isinstance(schema, str):
        try:
            schema = json.loads(schema)
        except ValueError:
            schema = None
    return dict(schema) if isinstance(schema, dict) and schema else {"type": "object"}


def parse_free_text(text: str, space: dict[str, Any]) -> Any:
    """The hosted free-text parser; it falls back to the cleaned text, never refuses."""
    cleaned = _THINK.sub("", text).strip()
    kind = space.get("type")
    if kind in ("composite", "json"):
        return _json_action(cleaned)
    if kind == "discrete" and space.get("enum_values"):
        return _enum_action(cleaned, [str(v) for v in space["enum_values"]])
    if kind == "continuous":
        try:
            return float(cleaned)
        except ValueError:
            numbers = _NUMBER.findall(cleaned)
            return float(numbers[0]) if len(numbers) == 1 else cleaned
    return cleaned


def _json_action(text: str) -> Any:
    fenced = _FENCE.match(text)
    for candidate in (text, fenced.group(1) if fenced else None):
        if candidate is not None:
            try:
                return json.loads(candidate)
            except ValueError:
                pass
    for start in reversed([i for i, char in enumerate(text) if char in "{["]):
        try:
            return json.loads(text[start:])
        except ValueError:
            continue
    return text


def _enum_action(text: str, values: list[str]) -> str:
    lowered = text.lower()
    for value in values:
        if value.lower() == lowered:
            return value
    for value in values:
        if re.search(rf"\b{re.escape(value)}\b", text, re.I):
            return value
    return text


class HostedProfile:
    """Builds the hosted runner's request for each step and reads its answer back."""

    def __init__(self, options: AgentOptions, model: str):
        self.options = options
        self.model = model
        self.max_tokens = options.max_tokens
        self.think: bool | None = None
        if model.startswith("ollama/"):
            self.max_tokens = max(options.max_tokens, OLLAMA_MIN_TOKENS)
            self.think = False

    def request(self, ctx: AgentContext) -> ModelRequest:
        mode = output_mode(self.model, ctx.task.action_space)
        user = user_content(ctx.step + 1, ctx.observation, ctx.content_type, mode)
        if ctx.feedback:  # ours: the reason an answer was refused, then ask again
            note = rejection(ctx.feedback)
            user = (f"{user}\n\n{note}" if isinstance(user, str)
                    else [*user, {"type": "text", "text": note}])
        return ModelRequest(
            messages=[
                {"role": "system",
                 "content": system_message(
                     ctx.task, ctx.env_system_prompt, mode,
                     contexts(ctx.task.techniques, ctx.history, ctx.step + 1))},
                {"role": "user", "content": user},
            ],
            temperature=self.options.temperature,
            max_tokens=self.max_tokens,
            schema=None if mode == "free" else action_schema(ctx.task.action_space),
            tool=SUBMIT_ACTION if mode == "tool" else None,
            think=self.think,
        )

    def read(self, completion: Completion, ctx: AgentContext) -> ParsedAction:
        mode = output_mode(self.model, ctx.task.action_space)
        if mode == "free":
            thoughts = [m[7:-8].strip() for m in _THINK.findall(completion.text)]
            return ParsedAction(
                action=parse_free_text(completion.text, ctx.task.action_space),
                reasoning="\n\n".join(t for t in thoughts if t) or None,
            )
        if mode == "tool":
            if completion.tool_arguments is None:
                return ParsedAction(error="call the submit_action tool with your action",
                                    reasoning=completion.text.strip() or None)
            return _wrapped(completion.tool_arguments, completion.text.strip() or None)
        return _wrapped(completion.text, None)


def _wrapped(raw: str, reasoning: str | None) -> ParsedAction:
    """``{"action": X}`` -> X; anything else is refused with the reason."""
    try:
        value = json.loads(raw)
    except ValueError:
        value = None
    if isinstance(value, dict) and "action" in value:
        return ParsedAction(action=value["action"], reasoning=reasoning)
    return ParsedAction(error='answer with a JSON object that has an "action" key',
                        reasoning=reasoning)
