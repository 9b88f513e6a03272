"""Record or check every golden file of a manifest against one adapter: what
``mesocosm golden record|check`` runs (the pytest plugin makes items of the same steps)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pytest_mesocosm.adapter import AdapterClient
from pytest_mesocosm.adapter.connect import adapter_for
from pytest_mesocosm.engine.config import BenchConfig
from pytest_mesocosm.engine.outcomes import EpisodeResult
from pytest_mesocosm.golden.compare import Difference, first_difference
from pytest_mesocosm.golden.record import record_results
from pytest_mesocosm.golden.replay import replay
from pytest_mesocosm.golden.store import golden_files, read_golden
from pytest_mesocosm.manifest.models import Manifest


@dataclass(frozen=True)
class GoldenCheck:
    """One golden file checked: its label and the first difference, if any."""

    path: Path
    label: str
    difference: Difference | None


async def check_goldens(
    manifest: Manifest, config: BenchConfig, *, ignore: Sequence[str] = (), log_path: Path
) -> list[GoldenCheck]:
    """Replay every golden file of ``manifest`` against its adapter."""
    checks = []
    async with (adapter_for(manifest, config, log_path=log_path) as lease,
                AdapterClient(lease.url) as client):
        for path in golden_files(manifest):
            golden = read_golden(path)
            now = await replay(client, golden)
            checks.append(GoldenCheck(path, golden.label, first_difference(golden, now, ignore)))
    return checks


async def record_goldens(
    manifest: Manifest, config: BenchConfig, results: Iterable[EpisodeResult], *, log_path: Path
) -> list[Path]:
    """Write a finished run's episodes as golden files, captured from its adapter."""
    async with (adapter_for(manifest, config, log_path=log_path) as lease,
                AdapterClient(lease.url) as client):
        return await record_results(client, manifest, results, recorded_with=config.agent.model,
                                    scenario_params=config.scenario_params)
