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
        payload = {k: v for k, v in event.items() if k not in ("event", "t", "step")}
        kind = str(event.get("event"))
        raw_step = event.get("step")
        step = raw_step if isinstance(raw_step, int) else 0
        if kind in _TURN_EVENTS:
            step += 1
        elif kind == "episode_end":
            step = last
        last = max(last, step)
        if kind == "model_call":
            payload["text"] = payload.get("raw_text")
        t = event.get("t")
        stamp = None
        if start is not None and isinstance(t, (int, float)):
            stamp = start + timedelta(seconds=float(t))
        out.append({"episode_id": episode_id, "step": step, "timestamp": iso(stamp),
                    "event_type": kind, "payload": payload})
    out.sort(key=lambda e: (e["step"], _ORDER.get(e["event_type"], 50)))
    return out


def redact_events(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Reasoning, raw model text, prompts and system prompts replaced for non-owners."""
    return [
        {**event, "payload": {k: (REDACTED if k in _PRIVATE_PAYLOAD and v else v)
                              for k, v in event["payload"].items()}}
        for event in events
    ]


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
