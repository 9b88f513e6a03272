"""Turn finished episodes into golden files: their actions, replayed and captured.

The actions sent to the env (accepted, or rejected by it with a 422) are read from the
episode's trace; answers the model never got to send (a reply that could not be parsed)
are not actions. The env's answers are then captured afresh (:mod:`.replay`), so a golden
file holds exactly what a later check will compare.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pytest_mesocosm.adapter import AdapterClient
from pytest_mesocosm.engine.outcomes import EpisodeResult
from pytest_mesocosm.engine.traces import read_trace
from pytest_mesocosm.golden.replay import capture
from pytest_mesocosm.golden.store import GoldenEpisode, GoldenError, write_golden
from pytest_mesocosm.manifest.models import Manifest


def trace_actions(events: Iterable[dict[str, Any]]) -> list[Any]:
    """The actions an episode sent to the env, in order."""
    return [event.get("action") for event in events if event.get("event") == "action"]


def recordable(result: EpisodeResult) -> bool:
    """An episode that reached the env and left a trace (not an env/model error)."""
    return result.scoreable and bool(result.trace_path)


async def record_results(
    client: AdapterClient, manifest: Manifest, results: Iterable[EpisodeResult], *,
    recorded_with: str | None = None, scenario_params: dict[str, Any] | None = None,
) -> list[Path]:
    """Capture and write one golden file per recordable episode; return their paths."""
    written = []
    for result in results:
        if not recordable(result):
            continue
        path = Path(str(result.trace_path))
        if not path.is_file():
            raise GoldenError(f"episode {result.label}: its trace {path} is gone; run again")
        golden: GoldenEpisode = await capture(
            client, domain_id=manifest.domain_id, seed=result.seed, repeat=result.repeat,
            actions=trace_actions(read_trace(path)), scenario_params=scenario_params,
        )
        golden.recorded_with = recorded_with
        written.append(write_golden(manifest, golden))
    return written
