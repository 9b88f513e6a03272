"""The words for every problem with a manifest: pydantic's errors made plain, with a fix.

The models (:mod:`pytest_mesocosm.manifest.models`) check types and ranges with pydantic;
its error records name a type and a location. Here each one becomes an :class:`Issue`
that says where (a JSON path), what (with the offending value) and how to fix it; a
broken policy rule (:mod:`pytest_mesocosm.manifest.rules`) arrives as a pydantic error of
type :data:`RULE_ERROR` carrying its own message and fix.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

RULE_ERROR = "mesocosm_rule"
"""The pydantic error type the models use for a broken policy rule."""


@dataclass(frozen=True)
class Issue:
    """A problem as shown to the user: ``path: message``, plus a suggested fix."""

    path: str
    message: str
    fix: str

    @property
    def text(self) -> str:
        return f"{self.path}: {self.message}"


def dotted(loc: Sequence[str | int]) -> str:
    """``("scoring", "metrics", 0, "name")`` -> ``scoring.metrics[0].name``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(root)"


def show(value: Any, limit: int = 80) -> str:
    """A value as JSON, cut short so one issue stays one line."""
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except ValueError:  # circular structures
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def number(value: Any) -> float | None:
    """``value`` if it is a real JSON number (not a bool), else None: rules skip the rest."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return None


_EXPECTED = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "finite_number": "a finite number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "list_type": "a list",
    "dict_type": "an object",
    "model_type": "an object",
    "model_attributes_type": "an object",
}

# What to put in a field, keyed by its JSON path with list indexes written as "[]".
_HINTS = {
    "adapter": 'the adapter script\'s path relative to the manifest, e.g. "adapter.py"',
    "name": 'a display name, e.g. "Wordle"',
    "id": 'a domain id, e.g. "wordle"',
    "owner_id": "the id of the user who owns the domain",
    "endpoint": 'the adapter\'s base URL, e.g. "https://env.example.org"',
    "binding_vow": "an object with version, action_space, reward and episode",
    "binding_vow.version": 'a version like "1.0.0"',
    "binding_vow.action_space": 'an object like {"type": "text"}',
    "binding_vow.reward": 'an object like {"type": "binary", "range": {"low": 0.0, "high": 1.0}}',
    "binding_vow.episode.max_steps": "a positive integer: the most steps an episode may take",
    "binding_vow.episode.max_wall_seconds": "a positive number: the seconds an episode may last",
    "binding_vow.episode.parallel_episodes": "a positive integer: episodes that may run at once",
    "scoring": "an object with primary_metric and metrics",
    "scoring.primary_metric": "the name of one of scoring.metrics",
    "scoring.metrics": (
        'a non-empty list of metrics, e.g. [{"name": "win_rate", "type": "terminal_field", '
        '"field": "won", "aggregation": "pass_rate"}]'
    ),
    "scoring.metrics[].name": 'a unique metric name, e.g. "win_rate"',
    "scoring.metrics[].field": 'the key of the last step\'s info, e.g. "won"',
    "mesocosm.allowed_errors": "the number of errored episodes the gate tolerates (0 or more)",
}

_PATTERN_MESSAGES = {
    "binding_vow.version": 'must be a version like "1.0.0" (major.minor.patch)',
}


def _hint_key(loc: Sequence[str | int]) -> str:
    """The JSON path with indexes blanked, to look up hints: ``scoring.metrics[].name``."""
    out = ""
    for part in loc:
        out += "[]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def describe(error: Mapping[str, Any]) -> Issue:
    """One pydantic error as an :class:`Issue` with a plain message and a fix."""
    loc = tuple(error.get("loc", ()))
    path, key = dotted(loc), _hint_key(loc)
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    value = error.get("input")
    got = f", got {show(value)}"
    hint = _HINTS.get(key)
    set_to = f"set {path} to {hint}" if hint else None

    if kind == RULE_ERROR:
        return Issue(path, str(ctx.get("message", error.get("msg", ""))), str(ctx.get("fix", "")))
    if kind == "missing":
        return Issue(path, "field required", f"add {path}: {hint}" if hint else f"add {path}")
    if kind in _EXPECTED:
        expected = _EXPECTED[kind]
        if not loc:
            return Issue(path, f"must be a JSON object{got}", "write the manifest as a JSON object")
        return Issue(path, f"must be {expected}{got}", set_to or f"set {path} to {expected}")
    if kind == "literal_error":
        expected = str(ctx.get("expected", "")).replace("'", '"')
        return Issue(path, f"must be one of {expected}{got}", f"set {path} to one of {expected}")
    bounds = {
        "greater_than_equal": (">=", "ge"),
        "greater_than": (">", "gt"),
        "less_than_equal": ("<=", "le"),
        "less_than": ("<", "lt"),
    }
    if kind in bounds:
        op, name = bounds[kind]
        limit = ctx.get(name)
        limit = f"{limit:g}" if number(limit) is not None else limit
        fix = set_to or f"set {path} to a value {op} {limit}"
        return Issue(path, f"must be {op} {limit}{got}", fix)
    if kind == "too_short":
        least = ctx.get("min_length", 1)
        return Issue(
            path,
            "must not be empty" if least == 1 else f"must have at least {least} items",
            set_to or f"add at least {least} item(s) to {path}",
        )
    if kind == "string_too_short":
        return Issue(path, "must not be empty", set_to or f"set {path} to a non-empty string")
    if kind == "string_pattern_mismatch":
        message = _PATTERN_MESSAGES.get(key, f"must match {ctx.get('pattern')}")
        return Issue(path, f"{message}{got}", set_to or f"set {path} so that it {message[5:]}")
    text = str(error.get("msg", "is invalid"))
    return Issue(path, f"{text[:1].lower()}{text[1:]}{got}", set_to or f"fix {path}")


def issues_from(exc: ValidationError) -> list[Issue]:
    """Every problem of a failed validation, in the order pydantic found them."""
    return [describe(error) for error in exc.errors(include_url=False)]
