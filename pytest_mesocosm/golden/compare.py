"""Find the first step where the env now answers differently from its golden file.

Steps are compared whole (observation, reward, terminated, truncated, info, or the
rejection of an action), after the volatile paths are masked. A path is dotted from the
step's record, ``*`` standing for any one key or list index: ``info.timestamp``,
``observation.data.session_id``, ``info.events.*.at``. The same paths apply to the reset
record (``observation...``). The difference is shown as a unified diff of the two records.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pytest_mesocosm.golden.store import GoldenEpisode

IGNORED = "<ignored>"


def _masked(value: Any, patterns: list[list[str]]) -> Any:
    """``value`` with every path that some pattern matches in full set to ``<ignored>``."""
    if not patterns:
        return value
    if any(len(p) == 0 for p in patterns):
        return IGNORED
    items: list[tuple[str, Any]]
    if isinstance(value, dict):
        items = list(value.items())
    elif isinstance(value, list):
        items = [(str(i), v) for i, v in enumerate(value)]
    else:
        return value
    out = {}
    for key, child in items:
        inner = [p[1:] for p in patterns if p[0] in ("*", key)]
        out[key] = _masked(child, inner)
    return list(out.values()) if isinstance(value, list) else out


def mask(record: dict[str, Any], ignore: list[str]) -> dict[str, Any]:
    masked = _masked(record, [p.split(".") for p in ignore if p.strip()])
    assert isinstance(masked, dict)
    return masked


@dataclass(frozen=True)
class Difference:
    """The first step that differs: 0 is the reset, N the answer to the N-th action."""

    step: int
    action: Any
    fields: list[str]
    diff: str

    def headline(self, label: str) -> str:
        where = "the reset" if self.step == 0 else f"step {self.step} (action {self.action!r})"
        return f"{label}: first difference at {where}: {', '.join(self.fields)}"


def _text(record: dict[str, Any] | None) -> list[str]:
    if record is None:
        return ["(no such step)"]
    return json.dumps(record, indent=2, sort_keys=True, ensure_ascii=False).splitlines()


def _compare(step: int, action: Any, want: dict[str, Any] | None, got: dict[str, Any] | None,
             ignore: list[str]) -> Difference | None:
    want_m = None if want is None else mask(want, ignore)
    got_m = None if got is None else mask(got, ignore)
    if want_m == got_m:
        return None
    if want_m is None or got_m is None:
        fields = ["the env ended earlier" if got_m is None else "the env went on"]
    else:
        fields = sorted(k for k in {*want_m, *got_m} if want_m.get(k) != got_m.get(k))
    diff = "\n".join(difflib.unified_diff(_text(want_m), _text(got_m), "golden", "env now",
                                          lineterm=""))
    return Difference(step, action, fields, diff)


def first_difference(
    golden: GoldenEpisode, now: GoldenEpisode, ignore: Sequence[str] = ()
) -> Difference | None:
    """The first differing record of ``now`` (a fresh replay) against ``golden``."""
    paths = [*golden.ignore, *ignore]
    found = _compare(0, None, golden.reset, now.reset, paths)
    if found is not None:
        return found
    for index in range(max(len(golden.steps), len(now.steps))):
        want = golden.steps[index] if index < len(golden.steps) else None
        got = now.steps[index] if index < len(now.steps) else None
        action = (want or got or {}).get("action")
        found = _compare(index + 1, action, want, got, paths)
        if found is not None:
            return found
    return None
