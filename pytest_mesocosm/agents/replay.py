"""``replay:path/to/trace.jsonl``: play back the actions an earlier episode sent.

Useful to re-run a model's episode against a changed env without the model (did my fix
change the rewards of this exact game?) and to reproduce a bug report. The trace is the
per-episode JSONL the harness writes; the replay takes the ``action`` of its
``step_result`` events, in order, and answers step ``n`` (``ctx.step``) with the n-th.
A rejected replayed action is offered again (a replay cannot think of another), so the
invalid-action budget ends such an episode.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pytest_mesocosm.agents.base import AgentContext, AgentReply
from pytest_mesocosm.errors import AgentConfigError, ModelError


class ReplayAgent:
    """Answers step n with the n-th accepted action of the trace at ``path``."""

    def __init__(self, path: Path):
        self.name = f"replay:{path}"
        self.path = path
        self.actions = _read_actions(path, self.name)

    async def act(self, ctx: AgentContext) -> AgentReply:
        if ctx.step >= len(self.actions):
            raise ModelError(
                f"replay trace {self.path} has only {len(self.actions)} actions; "
                f"step {ctx.step + 1} needs one more"
            )
        action = self.actions[ctx.step]
        raw = action if isinstance(action, str) else json.dumps(action)
        return AgentReply(action=action, raw_text=raw)

    async def preflight(self) -> None:
        """Nothing to check beyond what construction did."""

    async def aclose(self) -> None:
        """Nothing to release."""


def _read_actions(path: Path, label: str) -> list[Any]:
    actions: list[Any] = []
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise AgentConfigError(f"{label}: cannot read {path}: {exc}") from exc
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except ValueError as exc:
            raise AgentConfigError(
                f"{label}: line {number} of {path.name} is not JSON ({exc}); "
                "give a trace .jsonl written by the harness"
            ) from exc
        if isinstance(event, dict) and event.get("event") == "step_result":
            if "action" not in event:
                raise AgentConfigError(
                    f"{label}: the step_result on line {number} of {path.name} has no action"
                )
            actions.append(event["action"])
    if not actions:
        raise AgentConfigError(
            f"{label}: {path.name} has no step_result events, so no actions to replay"
        )
    return actions
