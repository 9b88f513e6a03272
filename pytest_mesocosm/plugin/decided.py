"""``--mesocosm-until-decided MAX``: the items play the first batch, the controller the rest.

pytest fixes its items at collection, so the planned seeds are the items; when the run is
judged and a threshold is still inconclusive, the process the user reads plays the next
batches itself (one session per manifest, traces in the run folder's
``until-decided/``), with the engine's sequential rule, until every threshold is decided
or MAX episodes ran. The extra episodes are in results.json and the summary, not items.
"""

from __future__ import annotations

import asyncio

from pytest_mesocosm.engine.executors import open_session
from pytest_mesocosm.engine.loop import run_until_interrupted
from pytest_mesocosm.engine.outcomes import EpisodeResult
from pytest_mesocosm.engine.traces import RunFolder
from pytest_mesocosm.engine.until_decided import Batches, look_at, plan_batches, play_looks
from pytest_mesocosm.manifest.models import Manifest
from pytest_mesocosm.plugin.report import JudgeInput
from pytest_mesocosm.scoring.sequential import Look


def until_decided(manifest: Manifest, given: JudgeInput) -> JudgeInput:
    """Look at the items' episodes; play more batches while a threshold is undecided."""
    batches = plan_batches(given.config)
    finished = list(given.results)
    look, done = look_at(manifest, given.config, finished, 1, batches.maximum)
    interrupted = given.interrupted
    if not (done or interrupted or len(batches.ends) == 1):
        folder = RunFolder.create(given.folder, "until-decided")
        try:
            look = run_until_interrupted(_more(manifest, given, batches, finished, folder)) or look
        except (asyncio.CancelledError, KeyboardInterrupt):
            interrupted = True
    return JudgeInput(finished, batches.config(given.config, len(finished)), given.folder,
                      look=look, notes=given.notes, interrupted=interrupted)


async def _more(manifest: Manifest, given: JudgeInput, batches: Batches,
                finished: list[EpisodeResult], folder: RunFolder) -> Look | None:
    async with open_session(manifest, given.config, run_folder=folder) as session:
        return await play_looks(session, batches, finished, first=2)
