"""What a failed episode item shows: the episode's last turns, read back from its trace.

A harness traceback says nothing about why an environment broke; the observation the
model saw, what it answered, the action sent and what the env said back do. The trace
events are the ones :mod:`pytest_mesocosm.engine.episode` writes (see
:mod:`pytest_mesocosm.engine.traces`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_mesocosm.engine.outcomes import EpisodeResult, top_rejections
from pytest_mesocosm.engine.traces import TraceError, dumps, read_trace

SHOWN_TURNS = 3
VALUE_CHARS = 300


@dataclass
class _Turn:
    """One step of the episode as the trace tells it (``number`` counts from 1)."""

    number: int
    observation: Any = None
    replies: list[str] = field(default_factory=list)
    actions: list[Any] = field(default_factory=list)
    rejections: list[str] = field(default_factory=list)
    outcome: str | None = None


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else dumps(value)
    text = text.replace("\n", "\\n")
    return text if len(text) <= VALUE_CHARS else text[:VALUE_CHARS] + "..."


def turns_from_trace(events: list[dict[str, Any]]) -> list[_Turn]:
    """Fold trace events into turns: observation, replies, actions, and what followed."""
    turns: dict[int, _Turn] = {}
    seen: Any = None

    def turn(step: Any) -> _Turn:
        number = int(step or 0) + 1
        if number not in turns:
            turns[number] = _Turn(number, observation=seen)
        return turns[number]

    for event in events:
        kind = event.get("event")
        if kind == "observation":
            seen = event.get("data")
        elif kind == "model_call":
            turn(event.get("step")).replies.append(str(event.get("raw_text") or ""))
        elif kind == "action":
            turn(event.get("step")).actions.append(event.get("action"))
        elif kind == "invalid_action":
            turn(event.get("step")).rejections.append(str(event.get("reason")))
        elif kind == "step_result":
            done = turn(int(event.get("step") or 1) - 1)
            flags = [k for k in ("terminated", "truncated") if event.get(k)]
            done.outcome = f"reward {event.get('reward')}" + (f", {', '.join(flags)}" if flags
                                                              else "")
            seen = event.get("observation")
    return [turns[n] for n in sorted(turns)]


def _turn_lines(turn: _Turn) -> list[str]:
    lines = [f"  step {turn.number}", f"    observation: {_short(turn.observation)}"]
    for reply in turn.replies[-2:]:
        lines.append(f"    model reply: {_short(reply)}")
    if turn.actions:
        lines.append(f"    action:      {_short(turn.actions[-1])}")
    for reason in turn.rejections[-2:]:
        lines.append(f"    rejected:    {_short(reason)}")
    lines.append(f"    env said:    {turn.outcome or '(no answer)'}")
    return lines


def describe_failure(label: str, result: EpisodeResult) -> str:
    """The failure text for an item: the error, the last turns, and where the trace is."""
    head = f"episode {label} ended in {result.status.value}"
    error = f"env error: {result.error or result.reason}"
    if not result.trace_path:
        return f"{head}\n{error}"
    path = Path(result.trace_path)
    try:
        turns = turns_from_trace(read_trace(path))
    except TraceError as exc:
        return f"{head}\n{error}\n(trace unreadable: {exc})"
    if turns:
        head += f" at step {turns[-1].number}"
    lines = [head, f"last {min(len(turns), SHOWN_TURNS)} of {len(turns)} turns:"]
    for turn in turns[-SHOWN_TURNS:]:
        lines += _turn_lines(turn)
    lines.append(error)
    if result.rejections:
        top = top_rejections([result])
        lines.append("rejected actions: " + "; ".join(f"{n}x {r}" for r, n in top))
    lines.append(f"trace: {path}")
    return "\n".join(lines)
