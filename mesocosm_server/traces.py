"""Trace events as the API shows them, redaction, and the export document (sections 5.7, 8).

Episodes store the engine's own events; this module turns them into hosted
``{episode_id, step, timestamp, event_type, payload}`` events. Redaction for viewers
who do not own a run happens here and is applied by every route that returns traces,
run documents or exports (the hosted service redacts only the export).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from mesocosm_server.documents import REDACTED, iso
from pytest_mesocosm.engine.export import replay_turns

_PRIVATE_PAYLOAD = ("text", "reasoning", "raw_text", "system_prompt", "messages")
_TURN_EVENTS = ("model_call", "action", "invalid_action")
_ORDER = {"episode_start": 0, "observation": 1, "model_call": 2, "action": 3,
          "invalid_action": 3, "step_result": 4, "episode_end": 99}


def _started(events: list[dict[str, Any]]) -> datetime | None:
    for event in events:
        if event.get("event") == "episode_start" and event.get("started_at"):
            text = str(event["started_at"]).replace("Z", "+00:00")
            return datetime.fromisoformat(text).replace(tzinfo=None)
    return None


def _hosted(episode_id: str, event: dict[str, Any], start: datetime | None, last: int
            ) -> dict[str, Any]:
    """One engine event in the hosted shape; ``last`` is the highest step before it."""
    payload = {k: v for k, v in event.items() if k not in ("event", "t", "step")}
    kind = str(event.get("event"))
    raw_step = event.get("step")
    step = raw_step if isinstance(raw_step, int) else 0
    if kind in _TURN_EVENTS:
        step += 1
    elif kind == "episode_end":
        step = last
    if kind == "model_call":
        payload["text"] = payload.get("raw_text")
    t = event.get("t")
    stamp = None
    if start is not None and isinstance(t, (int, float)):
        stamp = start + timedelta(seconds=float(t))
    return {"episode_id": episode_id, "step": step, "timestamp": iso(stamp),
            "event_type": kind, "payload": payload}


def _in_order(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(events, key=lambda e: (e["step"], _ORDER.get(e["event_type"], 50)))


def hosted_events(episode_id: str, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The engine's events of one episode in the hosted TraceEvent shape.

    The engine numbers a turn's ``model_call``/``action`` by the steps taken before it;
    the hosted trace numbers every event of turn n (from 1) with n, and ``episode_end``
    with the last step.
    """
    start = _started(events)
    out: list[dict[str, Any]] = []
    last = 0
    for event in events:
        out.append(_hosted(episode_id, event, start, last))
        last = max(last, out[-1]["step"])
    return _in_order(out)


class HostedStream:
    """:func:`hosted_events` one event at a time, for watching an episode as it plays.

    The hosted order sorts each step's events by kind, so an event is only in its final
    place once its step is over. The engine writes ``episode_start`` first, never goes
    back to an earlier step, and ends a step with its ``step_result`` (only
    ``episode_end``, sorted last, may follow it in the same step); so a step's events
    are final when its ``step_result``, an event of a later step, or ``episode_end``
    is written. The events :meth:`add` returns, joined, are ``hosted_events`` of the
    whole list, or a prefix of it while the episode plays.
    """

    def __init__(self, episode_id: str) -> None:
        self.episode_id = episode_id
        self._start: datetime | None = None
        self._last = 0
        self._open: list[dict[str, Any]] = []  # the current step's events, not yet final

    def add(self, event: dict[str, Any]) -> list[dict[str, Any]]:
        """The hosted events that are final now that ``event`` was written."""
        if self._start is None:
            self._start = _started([event])
        hosted = _hosted(self.episode_id, event, self._start, self._last)
        self._last = max(self._last, hosted["step"])
        ready = []
        if self._open and hosted["step"] > self._open[-1]["step"]:
            ready, self._open = _in_order(self._open), []
        self._open.append(hosted)
        if hosted["event_type"] in ("step_result", "episode_end"):
            ready, self._open = ready + _in_order(self._open), []
        return ready


def redact_event(event: dict[str, Any]) -> dict[str, Any]:
    """Reasoning, raw model text, prompts and system prompts replaced for non-owners."""
    return {**event, "payload": {k: (REDACTED if k in _PRIVATE_PAYLOAD and v else v)
                                 for k, v in event["payload"].items()}}


def redact_events(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [redact_event(event) for event in events]


def replay(events: list[dict[str, Any]], model: str | None, *, owner: bool) -> list[dict[str, Any]]:
    turns = replay_turns(events, model)
    if not owner:
        for turn in turns:
            if turn.get("reasoning"):
                turn["reasoning"] = REDACTED
    return turns


def export_document(
    *, run: dict[str, Any], visibility: str, domain_id: str, domain_name: str | None,
    episodes: list[dict[str, Any]], raw: dict[str, list[dict[str, Any]]], owner: bool,
    exported_at: str,
) -> dict[str, Any]:
    model = ((run.get("config") or {}).get("agent_config") or {}).get("model")
    traces = {}
    for eid, events in raw.items():
        shown = hosted_events(eid, events)
        traces[eid] = shown if owner else redact_events(shown)
    return {
        "schema_version": "1", "exported_at": exported_at, "visibility": visibility,
        "domain_id": domain_id, "domain_name": domain_name,
        "binding_vow_version": (run.get("config") or {}).get("binding_vow_version", ""),
        "run": run, "episodes": episodes, "traces": traces,
        "replay": {eid: replay(events, model, owner=owner) for eid, events in raw.items()},
    }
