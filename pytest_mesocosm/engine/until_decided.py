"""``--until-decided MAX``: play more seeds, in doubling batches, until the gate decides.

The first batch is the run's planned seeds; each later batch doubles the episodes played
(new seeds follow the largest one played), up to ``MAX`` episodes. After every batch the
run is gated at the level the sequential rule allows for that look
(:mod:`pytest_mesocosm.scoring.sequential`), and play stops as soon as no threshold is
inconclusive. One session (of the executor the config names) plays every batch; the run
ends with the same ``judge()`` as any other, at the last look's level.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from pytest_mesocosm.agents.base import Agent
from pytest_mesocosm.engine.config import BenchConfig
from pytest_mesocosm.engine.executors import Session, open_session
from pytest_mesocosm.engine.loop import run_until_interrupted
from pytest_mesocosm.engine.outcomes import EpisodeResult
from pytest_mesocosm.engine.session import (
    BenchRun,
    EpisodeRequest,
    ResultCallback,
    play_session,
)
from pytest_mesocosm.engine.traces import RunFolder
from pytest_mesocosm.errors import ScoringError
from pytest_mesocosm.manifest.models import Manifest
from pytest_mesocosm.scoring.judge import gate_run, judge
from pytest_mesocosm.scoring.metrics import metric_bounds, score_run
from pytest_mesocosm.scoring.sequential import Look, batch_ends, decided


def seed_stream(first: list[int], count: int) -> list[int]:
    """``count`` seeds: the planned ones, then fresh ones after the largest so far."""
    seeds = list(dict.fromkeys(first))[:count]
    used = set(seeds)
    candidate = max(seeds, default=-1) + 1
    while len(seeds) < count:
        if candidate not in used:
            seeds.append(candidate)
        candidate += 1
    return seeds


def check_maximum(config: BenchConfig) -> int:
    """``until_decided`` as episodes; below the first batch it is a user mistake."""
    maximum = config.gate.until_decided
    if maximum is None or maximum < config.planned:
        raise ScoringError(
            f"--until-decided {maximum} is below the {config.planned} episodes of the first "
            "batch; give a larger MAX or fewer episodes"
        )
    return maximum


@dataclass(frozen=True)
class Batches:
    """The seeds a run may play and after how many of them it looks."""

    seeds: list[int]
    ends: list[int]  # seeds played at each look
    repeats: int
    maximum: int  # episodes

    def requests(self, look: int) -> list[EpisodeRequest]:
        """The episodes of look ``look`` (1-based): the seeds since the previous look."""
        start = self.ends[look - 2] if look > 1 else 0
        return [EpisodeRequest(s, r) for s in self.seeds[start:self.ends[look - 1]]
                for r in range(self.repeats)]

    def config(self, config: BenchConfig, played: int) -> BenchConfig:
        """``config`` planning the seeds of every look ``played`` episodes reached."""
        looks = next((i for i, end in enumerate(self.ends, start=1)
                      if end * self.repeats >= played), len(self.ends))
        return replace(config, seeds=self.seeds[:self.ends[looks - 1]])


def plan_batches(config: BenchConfig) -> Batches:
    maximum = check_maximum(config)
    repeats = max(config.repeats, 1)
    ends = batch_ends(len(config.episode_seeds()), max(maximum // repeats, 1))
    return Batches(seed_stream(config.episode_seeds(), ends[-1]), ends, repeats, maximum)


def look_at(manifest: Manifest, config: BenchConfig, finished: list[EpisodeResult],
            index: int, maximum: int) -> tuple[Look, bool]:
    """Look ``index`` at the finished episodes: is every threshold decided?"""
    look = Look(index, len(finished), maximum)
    metrics = score_run(manifest.scoring, finished, metric_bounds(manifest))
    return look, decided(gate_run(manifest, config, metrics, look))


async def play_looks(
    session: Session, batches: Batches, finished: list[EpisodeResult], *,
    first: int = 1, on_result: ResultCallback | None = None,
) -> Look | None:
    """Play the batches from look ``first`` on, looking after each, until decided;
    return the last look."""
    look: Look | None = None
    for index in range(first, len(batches.ends) + 1):
        await session.run(batches.requests(index),
                          on_result=_offset(on_result, len(finished), batches.maximum),
                          collected=finished)
        look, done = look_at(session.manifest, session.config, finished, index,
                             batches.maximum)
        if done:
            break
    return look


async def arun_until_decided(
    manifest: Manifest,
    config: BenchConfig,
    *,
    on_result: ResultCallback | None = None,
    on_start: Callable[[Session], None] | None = None,
    agent: Agent | None = None,
    run_folder: RunFolder | None = None,
) -> BenchRun:
    """Play batches until every threshold is decided or ``until_decided`` episodes ran."""
    batches = plan_batches(config)
    finished: list[EpisodeResult] = []
    session = open_session(manifest, config, agent=agent, run_folder=run_folder)
    played = await play_session(
        session, lambda s: play_looks(s, batches, finished, on_result=on_result),
        on_start=on_start)
    ran = batches.config(config, len(finished))
    verdict = judge(manifest, finished, ran, folder=session.run_folder,
                    interrupted=played.interrupted, look=played.value)
    return BenchRun(ran, verdict, session.run_folder.path, played.adapter)


def _offset(on_result: ResultCallback | None, before: int, maximum: int) -> ResultCallback | None:
    """Number a batch's episodes after the earlier batches', out of the maximum."""
    if on_result is None:
        return None

    def shifted(result: EpisodeResult, done: int, total: int) -> None:
        on_result(result, before + done, maximum)

    return shifted


def run_until_decided(
    manifest: Manifest,
    config: BenchConfig,
    *,
    on_result: ResultCallback | None = None,
    on_start: Callable[[Session], None] | None = None,
    agent: Agent | None = None,
) -> BenchRun:
    """:func:`arun_until_decided` with Ctrl-C handled as :func:`run_bench` does."""
    check_maximum(config)
    folder = RunFolder.create(config.runs_dir)
    return run_until_interrupted(arun_until_decided(
        manifest, config, on_result=on_result, on_start=on_start, agent=agent,
        run_folder=folder,
    ))
