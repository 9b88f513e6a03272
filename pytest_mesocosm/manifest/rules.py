"""The policy rules of a manifest and the words used to report any problem with it.

Types and ranges are checked by the pydantic models in :mod:`pytest_mesocosm.manifest.models`;
the rules here are the ones a type cannot express (a discrete action space needs
``enum_values``, ``primary_metric`` must name a metric, the adapter must stay inside the
repository...). They read the *raw* JSON, leniently, so that they run even when other parts
of the manifest are broken and the user sees every problem at once. One small function per
rule; each finding says where (a JSON path), what (with the offending value) and how to fix it.

This module does not import the models (they call it); threshold strings are read by
:mod:`pytest_mesocosm.scoring.gate`, their one parser.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any, NamedTuple

import jsonschema  # type: ignore[import-untyped]
from jsonschema.validators import validator_for  # type: ignore[import-untyped]
from pydantic import ValidationError

from pytest_mesocosm.scoring.gate import ThresholdError, parse_threshold

RULES_VERSION = "1"
"""Version of the rule set; bump it whenever a rule is added or changes meaning."""

RULE_ERROR = "mesocosm_rule"
"""The pydantic error type the models use for a broken policy rule."""

VERSION_PATTERN = r"^\d+\.\d+\.\d+$"

Loc = tuple[str | int, ...]


class Violation(NamedTuple):
    """One broken rule: where (``loc``, a JSON path as a tuple), what, and the fix."""

    loc: Loc
    message: str
    fix: str


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


def _number(value: Any) -> float | None:
    """``value`` if it is a real JSON number (not a bool), else None: rules skip the rest."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return None


def _obj(raw: Any, key: str) -> Mapping[str, Any]:
    value = raw.get(key) if isinstance(raw, Mapping) else None
    return value if isinstance(value, Mapping) else {}


# ---------------------------------------------------------------- binding_vow rules


def check_discrete(space: Mapping[str, Any], loc: Loc) -> Iterator[Violation]:
    """A discrete action space lists its actions; the agent picks one of them."""
    if space.get("type") != "discrete":
        return
    values = space.get("enum_values")
    if values is None or values == []:
        where = (*loc, "enum_values")
        yield Violation(
            where,
            "a discrete action space needs a non-empty list of allowed actions",
            f'add {dotted(where)}: the allowed actions, e.g. ["left", "right"]',
        )
    elif isinstance(values, list):
        seen: set[str] = set()
        for index, value in enumerate(values):
            if not isinstance(value, str):
                continue
            if value in seen:
                where = (*loc, "enum_values", index)
                yield Violation(where, f"duplicate action {show(value)}", f"remove {dotted(where)}")
            seen.add(value)


def check_continuous(space: Mapping[str, Any], loc: Loc) -> Iterator[Violation]:
    """A continuous action space has bounds, and they enclose some values."""
    bounds = space.get("bounds")
    where = (*loc, "bounds")
    if space.get("type") == "continuous" and bounds is None:
        yield Violation(
            where,
            "a continuous action space needs bounds",
            f'add {dotted(where)}: the action range, e.g. {{"low": -1.0, "high": 1.0}}',
        )
    if not isinstance(bounds, Mapping):
        return
    low, high = _number(bounds.get("low")), _number(bounds.get("high"))
    if low is not None and high is not None and low >= high:
        yield Violation(
            where,
            f"low must be < high, got low={show(bounds['low'])}, high={show(bounds['high'])}",
            f"set {dotted(where)}.low below {dotted(where)}.high",
        )


def schema_of_ref(ref: Any) -> dict[str, Any] | None:
    """The JSON Schema a ``schema_ref`` holds (an object, or its JSON text), else None."""
    if isinstance(ref, str):
        try:
            ref = json.loads(ref)
        except ValueError:
            return None
    return dict(ref) if isinstance(ref, Mapping) else None


def check_action_schema(space: Mapping[str, Any], loc: Loc) -> Iterator[Violation]:
    """The ``schema`` (or hosted ``schema_ref``) of a json action space is a valid JSON
    Schema."""
    key = "schema" if "schema" in space else "schema_ref"
    raw = space.get(key)
    schema = raw if isinstance(raw, Mapping) else schema_of_ref(raw)
    where = (*loc, key)
    if raw is not None and schema is None and key == "schema_ref":
        yield Violation(where, "is neither a JSON Schema object nor the JSON text of one",
                        f'set {dotted(where)} to a JSON Schema, e.g. {{"type": "object"}}')
        return
    if not isinstance(schema, Mapping):
        return
    cls = validator_for(schema, default=jsonschema.Draft202012Validator)
    try:
        cls.check_schema(schema)
    except jsonschema.SchemaError as exc:
        at = dotted(list(exc.path)) if exc.path else None
        yield Violation(
            where,
            f"is not a valid JSON Schema: {exc.message}" + (f" (at {at})" if at else ""),
            f'fix {dotted(where)} so it is a valid JSON Schema, e.g. {{"type": "object"}}',
        )


def check_reward_range(reward: Mapping[str, Any], loc: Loc) -> Iterator[Violation]:
    """A reward range has ``low <= high``."""
    span = reward.get("range")
    if not isinstance(span, Mapping):
        return
    low, high = _number(span.get("low")), _number(span.get("high"))
    if low is not None and high is not None and low > high:
        where = (*loc, "range")
        yield Violation(
            where,
            f"low must be <= high, got low={show(span['low'])}, high={show(span['high'])}",
            f"swap {dotted(where)}.low and {dotted(where)}.high",
        )


def check_binding_vow(raw: Mapping[str, Any]) -> Iterator[Violation]:
    vow = _obj(raw, "binding_vow")
    space = _obj(vow, "action_space")
    space_loc: Loc = ("binding_vow", "action_space")
    yield from check_discrete(space, space_loc)
    yield from check_continuous(space, space_loc)
    yield from check_action_schema(space, space_loc)
    yield from check_reward_range(_obj(vow, "reward"), ("binding_vow", "reward"))


# ---------------------------------------------------------------- scoring rules


def check_metric_field(metric: Mapping[str, Any], loc: Loc) -> Iterator[Violation]:
    """A ``terminal_field`` metric names the info key it reads from the last step."""
    if metric.get("type") == "terminal_field" and metric.get("field") in (None, ""):
        where = (*loc, "field")
        yield Violation(
            where,
            "a terminal_field metric needs the info key it reads from the last step",
            f'add {dotted(where)}: the key of the last step\'s info, e.g. "won"',
        )


def metric_names(raw: Mapping[str, Any]) -> list[str] | None:
    """The scoring's metric names, or None when some metric has no readable name."""
    metrics = _obj(raw, "scoring").get("metrics")
    if not isinstance(metrics, list):
        return None
    names = [m.get("name") if isinstance(m, Mapping) else None for m in metrics]
    named = [n for n in names if isinstance(n, str) and n]
    return named if len(named) == len(names) else None


def check_scoring(raw: Mapping[str, Any]) -> Iterator[Violation]:
    """Metric rules, unique names, and a ``primary_metric`` that names one of them."""
    scoring = _obj(raw, "scoring")
    metrics = scoring.get("metrics")
    if not isinstance(metrics, list):
        return
    names: dict[str, int] = {}
    for index, metric in enumerate(metrics):
        if not isinstance(metric, Mapping):
            continue
        loc: Loc = ("scoring", "metrics", index)
        yield from check_metric_field(metric, loc)
        name = metric.get("name")
        if not isinstance(name, str) or not name:
            continue
        if name in names:
            first = dotted(("scoring", "metrics", names[name], "name"))
            yield Violation(
                (*loc, "name"),
                f"duplicate metric name {show(name)} (also {first})",
                f"rename {dotted((*loc, 'name'))}: metric names must be unique",
            )
        else:
            names[name] = index
    primary = scoring.get("primary_metric")
    if isinstance(primary, str) and metric_names(raw) and primary not in names:
        listed = ", ".join(show(name) for name in names)
        yield Violation(
            ("scoring", "primary_metric"),
            f"{show(primary)} is not one of the metrics ({listed})",
            f"set scoring.primary_metric to one of {listed}, "
            f"or add a metric named {show(primary)} to scoring.metrics",
        )


def check_thresholds(raw: Mapping[str, Any]) -> Iterator[Violation]:
    """Our ``mesocosm.thresholds`` parse, and name a metric of this manifest (or a built-in
    figure such as ``mean_steps``): a typo would otherwise only show when the gate runs."""
    thresholds = _obj(raw, "mesocosm").get("thresholds")
    if not isinstance(thresholds, list):
        return
    names = metric_names(raw)
    for index, text in enumerate(thresholds):
        if not isinstance(text, str):
            continue
        try:
            parse_threshold(text, names)
        except ThresholdError as exc:
            where = ("mesocosm", "thresholds", index)
            yield Violation(
                where, str(exc), f'set {dotted(where)} to a threshold like "win_rate>=0.6"'
            )


# ---------------------------------------------------------------- where things are


def check_adapter(raw: Mapping[str, Any], root: Path | None) -> Iterator[Violation]:
    """The adapter is a relative path that stays in the manifest's folder (and, if the
    folder is known, exists there): the platform starts it from a clone of the repo."""
    adapter = raw.get("adapter") if isinstance(raw, Mapping) else None
    if not isinstance(adapter, str) or not adapter:
        return
    if root is None:
        folder = "the manifest's folder"
    else:
        folder = str(root) if str(root) not in ("", ".") else str(root.resolve())
    if PurePosixPath(adapter).is_absolute() or PureWindowsPath(adapter).is_absolute():
        yield Violation(
            ("adapter",),
            f"{show(adapter)} is an absolute path; use a path relative to {folder}",
            f"set adapter to the adapter's path relative to {folder}, e.g. \"adapter.py\"",
        )
        return
    normal = posixpath.normpath(adapter.replace("\\", "/"))
    if normal == ".." or normal.startswith("../"):
        yield Violation(
            ("adapter",),
            f"{show(adapter)} leaves the repository; use a path inside {folder}",
            f"move the adapter into {folder} and set adapter to its path relative to it",
        )
        return
    if root is not None and not (root / normal).is_file():
        yield Violation(
            ("adapter",),
            f"{show(adapter)} does not exist in {folder}",
            f"create {root / normal} or set adapter to the adapter's path relative to {folder}",
        )


def check_endpoint(raw: Mapping[str, Any]) -> Iterator[Violation]:
    """A registered domain's endpoint is the adapter's http(s) base URL."""
    endpoint = raw.get("endpoint") if isinstance(raw, Mapping) else None
    if isinstance(endpoint, str) and not re.match(r"^https?://[^\s/]+", endpoint):
        yield Violation(
            ("endpoint",),
            f"must be an http(s) URL, got {show(endpoint)}",
            'set endpoint to the adapter\'s base URL, e.g. "https://env.example.org"',
        )


def manifest_violations(raw: Any, root: Path | None = None) -> list[Violation]:
    if not isinstance(raw, Mapping):
        return []
    return [
        *check_adapter(raw, root),
        *check_binding_vow(raw),
        *check_scoring(raw),
        *check_thresholds(raw),
    ]


def register_violations(raw: Any) -> list[Violation]:
    if not isinstance(raw, Mapping):
        return []
    return [*check_endpoint(raw), *check_binding_vow(raw), *check_scoring(raw)]


# ---------------------------------------------------------------- pydantic errors in words

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
        limit = f"{limit:g}" if _number(limit) is not None else limit
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
