"""The JSON Schema sent as "structured output" so the model can only answer a valid shape.

Providers that constrain decoding to a schema (Ollama's ``format``, OpenAI's
``response_format`` ``json_schema``) turn whole classes of invalid actions into
impossible ones. Discrete and continuous actions are wrapped as ``{"action": ...}``
(an object at the root is what every provider accepts); a json space sends its own
schema. :func:`~pytest_mesocosm.agents.parsing.parse_action` reads both shapes.
"""

from __future__ import annotations

import math
from typing import Any

STRUCTURED_TYPES = frozenset({"discrete", "continuous", "json"})


def response_schema(action_space: dict[str, Any]) -> dict[str, Any] | None:
    """The schema for this action space, or None when free text is the better answer."""
    kind = action_space.get("type")
    if kind == "discrete":
        values = list(action_space.get("enum_values") or [])
        return _wrap({"type": "string", "enum": values}) if values else None
    if kind == "continuous":
        return _wrap(_continuous(action_space.get("bounds") or {}))
    if kind == "json":
        schema = action_space.get("schema")
        return dict(schema) if isinstance(schema, dict) and schema else {"type": "object"}
    return None


def _wrap(action: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {"action": action},
        "required": ["action"],
        "additionalProperties": False,
    }


def _continuous(bounds: dict[str, Any]) -> dict[str, Any]:
    number: dict[str, Any] = {"type": "number"}
    low, high = bounds.get("low"), bounds.get("high")
    if isinstance(low, (int, float)):
        number["minimum"] = low
    if isinstance(high, (int, float)):
        number["maximum"] = high
    shape = [int(n) for n in bounds.get("shape") or []]
    count = math.prod(shape) if shape else 1
    if count == 1 and len(shape) <= 1:
        return number
    schema: dict[str, Any] = number
    for size in reversed(shape):
        schema = {"type": "array", "items": schema, "minItems": size, "maxItems": size}
    return schema
