"""Reading an action out of a model's free-text reply, by the type of the action space.

Models answer chattily, in markdown, with reasoning blocks and code fences; the harness
must find the action the model meant, or say precisely why it could not, because the
reason goes back to the model ("Your action was rejected: ..."). The rules, in order:

1. An empty (or whitespace-only) reply is the error ``empty reply``.
2. Reasoning blocks ``<think>...</think>`` (also ``<thinking>``, ``<reasoning>``) are cut
   out and kept as ``reasoning``. An unclosed ``<think>`` runs to the end of the reply (the
   model ran out of tokens: error); a ``</think>`` without its opening tag makes
   everything before it reasoning (some chat templates emit the opening tag themselves).
3. Code fence lines (```` ```json ````, ```` ``` ````, ``~~~``) are dropped; their content stays.
4. An explicit action line wins: the LAST line that starts with ``ACTION:`` in any case,
   optionally in markdown (``**Action:** x``, ``**ACTION: x**``, ``- Action: x``,
   ``Final action: x``; ``=`` works like ``:``). The answer is the rest of that line, or
   when it is empty the next non-empty line; for json spaces everything after the marker.
   The text before it is kept as ``reasoning``. Without such a line, the whole reply is the
   answer and the type rules below pick from it.
5. A reply that is exactly a JSON object ``{"action": X}`` (what structured output asks
   for) has the action ``X``, for every space type.
6. Per action space type:

   ``text``
       The answer's last non-empty line, stripped of markdown emphasis, backticks, quotes,
       the ``<...>`` of a copied answer template, and trailing ``.,;:!?``.
   ``discrete`` (``enum_values``)
       Case-insensitive. First a line of the answer that is exactly an allowed value
       (after the stripping above; the last such line); else the allowed value mentioned
       LAST as a whole word ("up" is not found inside "up-left" or "upward"). Where two
       values match at the same place ("left" and "turn left"), the longer one wins, so
       mentions are ranked by where they end, then by length. The action is the value as
       spelled in ``enum_values``. Nothing allowed mentioned: error listing the values.
       Caveat: "go right, not left" reads as ``left``; the prompt asks for an ``ACTION:``
       line precisely so this rule is rarely needed.
   ``continuous`` (``bounds``: ``low``, ``high``, optional ``shape``)
       A JSON number or array in the answer, else the last number(s) written in it
       (units and words around them are ignored: ``0.5 m/s`` is 0.5). A scalar space
       takes one number; a ``shape`` of ``[n]`` takes the last n, ``[a, b]`` the last
       a*b as nested lists. Out-of-bounds values are an error that states the bounds
       (never clipped); NaN and infinities are errors.
   ``json`` (optional ``schema``), also ``composite``
       The last JSON object or array of the answer (a balanced-bracket scan that skips
       brackets inside strings; earlier candidates are tried when the last does not
       parse); a reply of only a JSON scalar is taken when the schema asks for one.
       A ``{"action": X}`` wrapper is unwrapped unless the schema itself has an
       ``action`` property. The value is validated against ``schema`` with jsonschema;
       the error says what failed and where.
   other types (``image``, ``multi_modal``)
       As ``text``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

_THINK = re.compile(r"<(think|thinking|reasoning)>(.*?)(?:</\1>|\Z)", re.S | re.I)
_OPEN = re.compile(r"<(?:think|thinking|reasoning)>", re.I)
_STRAY_CLOSE = re.compile(r"^(.*?)</(?:think|thinking|reasoning)>", re.S | re.I)
_FENCE = re.compile(r"^[ \t]*(?:```|~~~)[^\n`]*$", re.M)
_MARKER = re.compile(
    r"^[ \t>*_#-]*(?:final[ \t]+)?action[ \t]*[*_]*[ \t]*[:=][ \t]*[*_]*[ \t]*(.*)$",
    re.I | re.M,
)
_NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")
_EDGE_JUNK = " \t\"'`*_“”‘’<>"
_TRAILING_PUNCT = ".,;:!?"


@dataclass(frozen=True, slots=True)
class ParsedAction:
    """The action read from a reply, or ``error`` (said to the model) when none could be."""

    action: Any = None
    error: str | None = None
    reasoning: str | None = None


def parse_action(text: str, action_space: dict[str, Any]) -> ParsedAction:
    """Read the action from ``text`` under the rules of the module docstring."""
    if not text or not text.strip():
        return ParsedAction(error="empty reply")
    body, reasoning_parts, unclosed = _split_reasoning(text)
    reasoning = "\n\n".join(p for p in reasoning_parts if p) or None
    if unclosed and not body.strip():
        return ParsedAction(
            error="the reply ended inside a <think> block, before any action", reasoning=reasoning
        )
    if "```" in body or "~~~" in body:
        body = _FENCE.sub("", body)
    if not body.strip():
        return ParsedAction(error="the reply has reasoning but no action", reasoning=reasoning)
    kind = action_space.get("type", "text")
    answer, before = _after_marker(body, whole=kind in ("json", "composite"))
    if before:
        reasoning = f"{reasoning}\n\n{before}" if reasoning else before
    if not answer.strip():
        return ParsedAction(error="the ACTION: line is empty", reasoning=reasoning)
    try:
        action = _parse_by_type(answer, action_space, kind)
    except _Rejected as exc:
        return ParsedAction(error=str(exc), reasoning=reasoning)
    return ParsedAction(action=action, reasoning=reasoning)


def without_reasoning(text: str) -> str:
    """``text`` with its reasoning blocks cut out (for replaying a reply as history)."""
    return _split_reasoning(text)[0].strip()


class _Rejected(Exception):
    """Internal: the answer holds no acceptable action; the message goes to the model."""


def _split_reasoning(text: str) -> tuple[str, list[str], bool]:
    """Cut reasoning blocks out; return (rest, reasoning parts, whether one was unclosed)."""
    parts: list[str] = []
    unclosed = False
    if "<" not in text:
        return text, parts, unclosed
    stray = _STRAY_CLOSE.match(text)
    if stray and not _OPEN.search(stray.group(1)):
        parts.append(stray.group(1).strip())
        text = text[stray.end():]

    def cut(match: re.Match[str]) -> str:
        nonlocal unclosed
        parts.append(match.group(2).strip())
        if not match.group(0).lower().endswith(f"</{match.group(1).lower()}>"):
            unclosed = True
        return ""

    return _THINK.sub(cut, text), parts, unclosed


def _after_marker(body: str, *, whole: bool) -> tuple[str, str]:
    """(answer, text before the marker): after the last ``ACTION:`` line, else the body."""
    matches = list(_MARKER.finditer(body))
    if not matches:
        return body.strip(), ""
    last = matches[-1]
    before = body[: last.start()].strip()
    rest = last.group(1)
    tail = body[last.end():]
    if whole:
        return (rest + tail).strip(), before
    if _clean(rest):
        return rest.strip(), before
    for line in tail.splitlines():
        if _clean(line):
            return line.strip(), before
    return "", before


def _clean(value: str) -> str:
    """Strip markdown emphasis, backticks, quotes, template brackets, trailing punctuation."""
    value = value.strip().strip(_EDGE_JUNK)
    while value and value[-1] in _TRAILING_PUNCT:
        value = value[:-1].rstrip(_EDGE_JUNK)
    return value


def _lines(answer: str) -> list[str]:
    return [line for line in answer.splitlines() if line.strip()]


def _structured(answer: str) -> tuple[bool, Any]:
    """Whether the answer is exactly ``{"action": X}``, and X."""
    stripped = answer.strip()
    if not (stripped.startswith("{") and stripped.endswith("}")):
        return False, None
    try:
        value = json.loads(stripped)
    except ValueError:
        return False, None
    if isinstance(value, dict) and set(value) == {"action"}:
        return True, value["action"]
    return False, None


def _parse_by_type(answer: str, space: dict[str, Any], kind: str) -> Any:
    if kind == "discrete":
        return _discrete(answer, space)
    if kind == "continuous":
        return _continuous(answer, space)
    if kind in ("json", "composite"):
        return _json(answer, space)
    wrapped, value = _structured(answer)
    if wrapped:
        return value if isinstance(value, str) else json.dumps(value)
    lines = _lines(answer)
    action = _clean(lines[-1]) if lines else ""
    if not action:
        raise _Rejected("no action found in the reply")
    return action


# -- discrete ----------------------------------------------------------------------


def _discrete(answer: str, space: dict[str, Any]) -> str:
    values = [str(v) for v in space.get("enum_values") or []]
    allowed = ", ".join(values)
    wrapped, value = _structured(answer)
    if wrapped:
        answer = str(value)
    lookup = {v.lower(): v for v in values}
    for line in reversed(_lines(answer)):
        hit = lookup.get(_clean(line).lower())
        if hit is not None:
            return hit
    best: tuple[int, int, str] | None = None
    for value_text, pattern in _enum_patterns(tuple(values)):
        for match in pattern.finditer(answer):
            rank = (match.end(), len(value_text), value_text)
            if best is None or rank[:2] > best[:2]:
                best = rank
    if best is not None:
        return best[2]
    said = _clean(_lines(answer)[-1]) if _lines(answer) else ""
    if said and len(said) <= 60 and "\n" not in answer.strip():
        raise _Rejected(f"{said!r} is not an allowed action; answer one of: {allowed}")
    raise _Rejected(f"no allowed action found in the reply; answer one of: {allowed}")


@lru_cache(maxsize=64)
def _enum_patterns(values: tuple[str, ...]) -> tuple[tuple[str, re.Pattern[str]], ...]:
    """Whole-word, case-insensitive patterns for enum values (cached: built once a space)."""
    return tuple(
        (v, re.compile(rf"(?<![\w-]){re.escape(v)}(?![\w-])", re.I)) for v in values if v
    )


# -- continuous --------------------------------------------------------------------


def _continuous(answer: str, space: dict[str, Any]) -> Any:
    bounds = space.get("bounds") or {}
    shape = [int(n) for n in bounds.get("shape") or []]
    count = math.prod(shape) if shape else 1
    scalar = count == 1 and len(shape) <= 1
    numbers = _numbers(answer, count)
    if len(numbers) < count:
        found = "no number" if not numbers else f"only {len(numbers)} number(s)"
        want = "a number" if scalar else f"{count} numbers (shape {shape})"
        raise _Rejected(f"expected {want}, found {found} in the reply")
    numbers = numbers[-count:]
    for index, number in enumerate(numbers):
        if not math.isfinite(number):
            raise _Rejected(f"{number} is not a finite number")
        low, high = _bound(bounds.get("low"), index), _bound(bounds.get("high"), index)
        if (low is not None and number < low) or (high is not None and number > high):
            raise _Rejected(
                f"{number:g} is outside the bounds [{_fmt(low, '-inf')}, {_fmt(high, 'inf')}]"
            )
    if scalar:
        return numbers[0]
    return _reshape(numbers, shape) if len(shape) > 1 else numbers


def _numbers(answer: str, count: int) -> list[float]:
    wrapped, value = _structured(answer)
    if wrapped:
        found = _flatten(value)
        if found is not None:
            return found
    stripped = answer.strip()
    if stripped[:1] in "[-+.0123456789":
        try:
            found = _flatten(json.loads(stripped))
        except ValueError:
            found = None
        if found is not None:
            return found
    return [float(m.group(0)) for m in _NUMBER.finditer(answer)]


def _flatten(value: Any) -> list[float] | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return [float(value)]
    if isinstance(value, str):
        try:
            return [float(value)]
        except ValueError:
            return None
    if isinstance(value, list):
        out: list[float] = []
        for item in value:
            inner = _flatten(item)
            if inner is None:
                return None
            out.extend(inner)
        return out
    return None


def _bound(limit: Any, index: int) -> float | None:
    if isinstance(limit, list):
        limit = limit[index] if index < len(limit) else None
    return None if limit is None else float(limit)


def _fmt(limit: float | None, unbounded: str) -> str:
    return unbounded if limit is None else f"{limit:g}"


def _reshape(flat: list[float], shape: list[int]) -> list[Any]:
    if len(shape) == 1:
        return flat
    step = len(flat) // shape[0]
    return [_reshape(flat[i * step:(i + 1) * step], shape[1:]) for i in range(shape[0])]


# -- json --------------------------------------------------------------------------


def _json(answer: str, space: dict[str, Any]) -> Any:
    schema = space.get("schema")
    value, error = _last_json(answer)
    if error is not None:
        scalar = _json_scalar(answer, schema)
        if scalar is _MISSING:
            raise _Rejected(error)
        value = scalar
    if (
        isinstance(value, dict) and set(value) == {"action"}
        and not _schema_has_action(schema)
    ):
        value = value["action"]
    if isinstance(schema, dict):
        _validate(value, schema)
    return value


_MISSING = object()


def _last_json(answer: str) -> tuple[Any, str | None]:
    """The last JSON object/array that parses, or an error saying what was wrong."""
    first_error: str | None = None
    for start, end in reversed(list(_balanced_spans(answer))):
        try:
            return json.loads(answer[start:end]), None
        except ValueError as exc:
            if first_error is None:
                first_error = f"the JSON in the reply does not parse: {exc}"
    return None, first_error or "no JSON object or array found in the reply"


def _balanced_spans(text: str) -> Iterator[tuple[int, int]]:
    """Top-level ``{...}``/``[...]`` spans; brackets inside JSON strings are skipped."""
    depth, start, in_string, escaped = 0, -1, False, False
    closers: list[str] = []
    for index, char in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
            continue
        if char == '"' and depth:
            in_string = True
        elif char in "{[":
            if depth == 0:
                start = index
            closers.append("}" if char == "{" else "]")
            depth += 1
        elif char in "}]" and depth:
            if char != closers[-1]:
                depth, closers = 0, []  # mismatched: restart the scan here
                continue
            closers.pop()
            depth -= 1
            if depth == 0:
                yield start, index + 1


def _json_scalar(answer: str, schema: Any) -> Any:
    """A bare JSON scalar, taken only when the schema asks for one."""
    if not isinstance(schema, dict) or schema.get("type") not in (
        "string", "number", "integer", "boolean"
    ):
        return _MISSING
    lines = _lines(answer)
    raw = lines[-1].strip().strip("`*_ ") if lines else ""
    try:
        return json.loads(raw)
    except ValueError:
        return _clean(raw) if schema.get("type") == "string" and raw else _MISSING


def _schema_has_action(schema: Any) -> bool:
    return isinstance(schema, dict) and "action" in (schema.get("properties") or {})


def _validate(value: Any, schema: dict[str, Any]) -> None:
    error = _best_error(value, json.dumps(schema, sort_keys=True))
    if error is not None:
        raise _Rejected(error)


def _best_error(value: Any, schema_key: str) -> str | None:
    import jsonschema  # only json spaces pay for it

    validator = _validator(schema_key)
    found = jsonschema.exceptions.best_match(validator.iter_errors(value))
    if found is None:
        return None
    where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in found.absolute_path)
    at = f" at {where.lstrip('.')}" if where else ""
    return f"the action does not match the schema{at}: {found.message}"


@lru_cache(maxsize=32)
def _validator(schema_key: str) -> Any:
    from jsonschema.validators import validator_for

    schema = json.loads(schema_key)
    return validator_for(schema)(schema)
