"""Play recorded actions against an adapter, with no model, and keep what it answers.

The same capture serves recording (the actions come from a finished episode's trace)
and checking (they come from the golden file), so both read the env the same way.
Play stops where the env ends the episode; a rejected action (422) is kept with its
reason and play goes on, as the harness did; an env error is kept and ends the replay.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from pytest_mesocosm.adapter import AdapterClient
from pytest_mesocosm.adapter.client import Observation
from pytest_mesocosm.errors import ActionRejected, EnvError
from pytest_mesocosm.golden.store import GoldenEpisode


def _observation(obs: Observation) -> dict[str, Any]:
    return {"data": obs.data, "content_type": obs.content_type}


async def capture(
    client: AdapterClient, *, domain_id: str, seed: int | None, actions: Sequence[Any],
    repeat: int = 0, scenario_params: dict[str, Any] | None = None,
) -> GoldenEpisode:
    """Reset with ``seed``, send ``actions`` in order and record every answer."""
    episode_id = f"golden-{domain_id}-{uuid.uuid4().hex[:8]}"
    golden = GoldenEpisode(domain_id, seed, repeat, dict(scenario_params or {}))
    try:
        golden.reset = {"observation": _observation(
            await client.reset(episode_id, seed, scenario_params))}
        for action in actions:
            try:
                step = await client.step(episode_id, action)
            except ActionRejected as exc:
                golden.steps.append({"action": action, "rejected": str(exc.detail)})
                continue
            except EnvError as exc:
                golden.steps.append({"action": action, "error": str(exc)})
                break
            golden.steps.append({
                "action": action, "observation": _observation(step.observation),
                "reward": step.reward, "terminated": step.terminated,
                "truncated": step.truncated, "info": step.info,
            })
            if step.terminated or step.truncated:
                break
    finally:
        await client.close(episode_id)
    return golden


async def replay(client: AdapterClient, golden: GoldenEpisode) -> GoldenEpisode:
    """The golden's actions played again against the env as it is now."""
    return await capture(client, domain_id=golden.domain_id, seed=golden.seed,
                         actions=golden.actions, repeat=golden.repeat,
                         scenario_params=golden.scenario_params)
