"""Turn-by-turn replay data for the viewer, from trace events or the platform's turns.

A turn is what the model saw and did at one step::

    {step, observation: {kind: json|text|image, data, mime}, system_prompt,
     attempts: [{raw, reasoning, action, rejected}], action, accepted,
     reward, terminated, truncated, info}

``attempts`` holds every model reply of the step, the rejected ones with the env's (or the
parser's) reason. A step that never got an accepted action (the invalid-action budget ran
out, the env crashed on it) is the last turn with ``accepted: false``. The episode's end
(status, error, totals) is a separate record. Values stay raw JSON: the viewer prints them
with ``textContent``, so trace text can never become markup.
"""

from __future__ import annotations

import re
from typing import Any

from pytest_mesocosm.report.source import EpisodeRecord

_IMAGE = re.compile(r"^image/(png|jpeg|gif|webp|bmp)$")
_BASE64 = re.compile(r"^[A-Za-z0-9+/=\s]*$")


def observation_view(data: Any, content_type: str | None) -> dict[str, Any]:
    """How the viewer shows an observation: an image, plain text, or pretty JSON."""
    mime = (content_type or "").split(";")[0].strip().lower()
    if isinstance(data, str) and _IMAGE.match(mime) and _BASE64.match(data):
        return {"kind": "image", "data": data, "mime": mime}
    if isinstance(data, str):
        return {"kind": "text", "data": data, "mime": mime or "text/plain"}
    return {"kind": "json", "data": data, "mime": mime or "application/json"}


def _envelope(observation: Any, content_type: str | None) -> tuple[Any, str | None]:
    """The wire's ``{"data", "content_type"}`` envelope, opened; anything else as is."""
    if isinstance(observation, dict) and "data" in observation and set(observation) <= {
        "data", "content_type"
    }:
        return observation["data"], observation.get("content_type") or content_type
    return observation, content_type


class _Builder:
    """Folds trace events into turns, one step at a time."""

    def __init__(self) -> None:
        self.turns: list[dict[str, Any]] = []
        self.observation: dict[str, Any] = observation_view(None, None)
        self.content_type: str | None = None
        self.system_prompt: str | None = None
        self.attempts: list[dict[str, Any]] = []

    def observe(self, data: Any, content_type: str | None, system_prompt: Any = None) -> None:
        self.content_type = content_type or self.content_type
        self.observation = observation_view(data, self.content_type)
        if isinstance(system_prompt, str):
            self.system_prompt = system_prompt

    def model_call(self, event: dict[str, Any]) -> None:
        self.attempts.append({
            "raw": event.get("raw_text"), "reasoning": event.get("reasoning"),
            "action": None, "rejected": None,
            "tokens": (event.get("prompt_tokens") or 0) + (event.get("completion_tokens") or 0),
            "latency": event.get("latency"),
        })

    def _attempt(self) -> dict[str, Any]:
        if not self.attempts or self.attempts[-1]["action"] is not None or (
            self.attempts[-1]["rejected"] is not None
        ):
            self.attempts.append({"raw": None, "reasoning": None, "action": None,
                                  "rejected": None, "tokens": None, "latency": None})
        return self.attempts[-1]

    def action(self, event: dict[str, Any]) -> None:
        self._attempt()["action"] = event.get("action")

    def rejected(self, event: dict[str, Any]) -> None:
        attempt = self.attempts[-1] if self.attempts and self.attempts[-1]["rejected"] is None \
            else self._attempt()
        attempt["action"] = event.get("action")
        attempt["rejected"] = str(event.get("reason") or "rejected")
        if attempt["raw"] is None:
            attempt["raw"] = event.get("raw_text")

    def step_result(self, event: dict[str, Any]) -> None:
        self._close(event, accepted=True)
        data, content_type = _envelope(event.get("observation"), event.get("content_type"))
        self.observe(data, content_type)

    def _close(self, event: dict[str, Any], *, accepted: bool) -> None:
        self.turns.append({
            "step": len(self.turns) + 1,
            "observation": self.observation,
            "system_prompt": self.system_prompt if not self.turns else None,
            "attempts": self.attempts,
            "action": event.get("action"),
            "accepted": accepted,
            "reward": event.get("reward"),
            "terminated": bool(event.get("terminated", False)),
            "truncated": bool(event.get("truncated", False)),
            "info": event.get("info") or {},
        })
        self.attempts = []

    def finish(self) -> list[dict[str, Any]]:
        """The turns; a step left without an accepted action becomes a last, open turn."""
        if self.attempts:
            self._close({}, accepted=False)
        return self.turns


def turns_from_events(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Turns of one episode from its trace events (see ``engine/traces.py``)."""
    builder = _Builder()
    for event in events:
        kind = event.get("event")
        if kind == "observation":
            builder.observe(event.get("data"), event.get("content_type"),
                            event.get("system_prompt"))
        elif kind == "model_call":
            builder.model_call(event)
        elif kind == "action":
            builder.action(event)
        elif kind == "invalid_action":
            builder.rejected(event)
        elif kind == "step_result":
            builder.step_result(event)
    return builder.finish()


def turns_from_platform(turns: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Turns of one episode from the platform's replay turns (no raw replies there)."""
    out = []
    for number, turn in enumerate(turns, start=1):
        data, content_type = _envelope(turn.get("observation"), None)
        out.append({
            "step": number,
            "observation": observation_view(data, content_type),
            "system_prompt": None,
            "attempts": [{"raw": None, "reasoning": turn.get("reasoning"),
                          "action": turn.get("action"), "rejected": None,
                          "tokens": None, "latency": None}],
            "action": turn.get("action"),
            "accepted": True,
            "reward": turn.get("reward"),
            "terminated": bool(turn.get("terminated", False)),
            "truncated": bool(turn.get("truncated", False)),
            "info": turn.get("info") or {},
        })
    return out


def episode_replay(episode: EpisodeRecord) -> dict[str, Any]:
    """Everything the viewer needs to step through one episode."""
    turns = (
        turns_from_events(episode.events) if episode.events
        else turns_from_platform(episode.turns)
    )
    return {
        "label": episode.label,
        "turns": turns,
        "end": {
            "status": episode.status, "reason": episode.reason, "error": episode.error,
            "total_reward": episode.total_reward, "steps": episode.steps,
            "invalid_actions": episode.invalid_actions, "info": episode.last_info,
        },
    }
