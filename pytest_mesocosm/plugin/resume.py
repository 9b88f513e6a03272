"""``--mesocosm-resume RUN_DIR``: finish an interrupted ``pytest --mesocosm`` run.

RUN_DIR is the run folder of one manifest (``<runs>/<run id>-<domain>``, as the summary
names it); its run id and runs folder name the run, so every manifest of the session
resumes its own ``<run id>-<domain>`` folder. Each episode item whose episode is in that
folder's results.json reports the kept result instead of playing (errors too, unless
``--mesocosm-retry-errors``); the rest play as usual, and the judge writes one
results.json over all of them with ``resumed`` saying what was kept, played and retried.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from pytest_mesocosm.engine.config import BenchConfig
from pytest_mesocosm.engine.outcomes import EpisodeResult
from pytest_mesocosm.engine.resume import ResumePlan, plan_resume
from pytest_mesocosm.engine.session import EpisodeRequest
from pytest_mesocosm.engine.traces import RESULTS_FILE, RunFolder, read_results
from pytest_mesocosm.errors import MesocosmError
from pytest_mesocosm.manifest.models import Manifest
from pytest_mesocosm.plugin.runner import EpisodeRunner, Upcoming


def resumed_run(run_dir: Path) -> tuple[Path, str]:
    """``(runs folder, run id)`` of the run RUN_DIR belongs to; a usage error otherwise."""
    try:
        domain = (read_results(run_dir).get("manifest") or {}).get("domain_id")
    except MesocosmError as exc:
        raise pytest.UsageError(f"--mesocosm-resume {run_dir}: {exc}") from None
    suffix = f"-{domain}"
    if not domain or not run_dir.name.endswith(suffix):
        raise pytest.UsageError(f"--mesocosm-resume {run_dir}: not the run folder of a "
                                "pytest --mesocosm run (<run id>-<domain>); give the folder "
                                "the summary's 'results:' line names")
    return run_dir.parent, run_dir.name.removesuffix(suffix)


def plan_for(folder: Path, config: BenchConfig, *, retry_errors: bool) -> ResumePlan:
    """The plan of one manifest's folder; a manifest the run never reached keeps nothing."""
    if not (folder / RESULTS_FILE).is_file():
        return ResumePlan(RunFolder(folder))
    return plan_resume(folder, config, retry_errors=retry_errors)


class ResumingRunner(EpisodeRunner):
    """An :class:`EpisodeRunner` that hands back kept episodes instead of playing them."""

    def __init__(self, config: BenchConfig, folder_for: Callable[[Manifest], RunFolder], *,
                 results_dir: Callable[[Manifest], Path], retry_errors: bool):
        super().__init__(config, folder_for)
        self._results_dir = results_dir
        self._retry_errors = retry_errors
        self._kept: dict[Path, dict[tuple[int | None, int], EpisodeResult]] = {}

    def kept(self, manifest: Manifest) -> dict[tuple[int | None, int], EpisodeResult]:
        key = manifest.source_path or manifest.root
        if key not in self._kept:
            plan = plan_for(self._results_dir(manifest), self.config,
                            retry_errors=self._retry_errors)
            self._kept[key] = {(r.seed, r.repeat): r for r in plan.kept}
        return self._kept[key]

    def result(
        self, manifest: Manifest, request: EpisodeRequest, upcoming: Upcoming = ()
    ) -> EpisodeResult:
        kept = self.kept(manifest)
        done = kept.get((request.seed, request.repeat))
        if done is not None:
            return done
        mine = manifest.source_path or manifest.root
        ahead = [(m, r) for m, r in upcoming
                 if (m.source_path or m.root) != mine or (r.seed, r.repeat) not in kept]
        return super().result(manifest, request, ahead)
