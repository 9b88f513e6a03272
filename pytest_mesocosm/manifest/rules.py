"""The policy rules of a manifest: what a type cannot express, one small function per rule.

Types and ranges are checked by the pydantic models in :mod:`pytest_mesocosm.manifest.models`;
the rules here are the ones a type cannot express (a discrete action space needs
``enum_values``, ``primary_metric`` must name a metric, the adapter must stay inside the
repository...). They read the *raw* JSON, leniently, so that they run even when other parts
of the manifest are broken and the user sees every problem at once. One small function per
rule; each finding says where (a JSON path), what (with the offending value) and how to fix it.

This module does not import the models (they call it); threshold strings are read by
:mod:`pytest_mesocosm.scoring.gate`, their one parser; pydantic's own errors are worded
by :mod:`pytest_mesocosm.manifest.messages`.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Iterator, Mapping
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any, NamedTuple

import jsonschema  # type: ignore[import-untyped]
from jsonschema.validators import validator_for  # type: ignore[import-untyped]

from pytest_mesocosm.manifest.messages import dotted, number, show
from pytest_mesocosm.scoring.gate import ThresholdError, parse_threshold

RULES_VERSION = "1"
"""Version of the rule set; bump it whenever a rule is added or changes meaning."""

VERSION_PATTERN = r"^\d+\.\d+\.\d+$"

Loc = tuple[str | int, ...]


class Violation(NamedTuple):
    """One broken rule: where (``loc``, a JSON path as a tuple), what, and the fix."""

    loc: Loc
    message: str
    fix: str


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
    low, high = number(bounds.get("low")), number(bounds.get("high"))
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
    low, high = number(span.get("low")), number(span.get("high"))
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


def check_adapter_path(raw: Mapping[str, Any], root: Path | None) -> Iterator[Violation]:
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
        *check_adapter_path(raw, root),
        *check_binding_vow(raw),
        *check_scoring(raw),
        *check_thresholds(raw),
    ]


def register_violations(raw: Any) -> list[Violation]:
    if not isinstance(raw, Mapping):
        return []
    return [*check_endpoint(raw), *check_binding_vow(raw), *check_scoring(raw)]


# ---------------------------------------------------------------- pydantic errors in words
