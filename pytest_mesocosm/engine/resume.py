"""``--resume RUN_DIR``: play only the episodes a run did not finish, then judge it whole.

The run's flags plan its episodes again; those already in ``RUN_DIR/results.json`` are
kept as they are, the rest are played into the same run folder (an interrupted
episode's partial trace is replaced), and ``judge()`` writes one results.json over all of
them, saying in ``resumed`` which episodes were kept, played and retried. Episodes that
ended in ``env_error``/``model_error`` are kept too, unless ``retry_errors`` asks to play
them again (a flaky model or a fixed env).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_mesocosm.agents.base import Agent
from pytest_mesocosm.engine.config import BenchConfig
from pytest_mesocosm.engine.executors import Session, open_session
from pytest_mesocosm.engine.loop import run_until_interrupted
from pytest_mesocosm.engine.outcomes import EpisodeResult, EpisodeStatus
from pytest_mesocosm.engine.session import (
    BenchRun,
    EpisodeRequest,
    Played,
    ResultCallback,
    plan_episodes,
    play_session,
)
from pytest_mesocosm.engine.traces import RunFolder, TraceError, load_results
from pytest_mesocosm.errors import ResumeError
from pytest_mesocosm.manifest.models import Manifest
from pytest_mesocosm.scoring.judge import judge

ERRORS = (EpisodeStatus.ENV_ERROR, EpisodeStatus.MODEL_ERROR)


@dataclass
class ResumePlan:
    """What a resumed run keeps, and what it plays (``retried``: errors played again)."""

    folder: RunFolder
    kept: list[EpisodeResult] = field(default_factory=list)
    todo: list[EpisodeRequest] = field(default_factory=list)
    retried: list[str] = field(default_factory=list)

    def notes(self) -> dict[str, Any]:
        return {"resumed": {
            "kept": [r.label for r in self.kept],
            "played": [r.label for r in self.todo],
            "retried": self.retried,
        }}


def plan_resume(run_dir: Path, config: BenchConfig, *, retry_errors: bool) -> ResumePlan:
    """Sort the episodes ``config`` plans into kept and to play, from ``run_dir``'s results."""
    try:
        folder = RunFolder.open(run_dir)
        _, earlier, _ = load_results(folder.results_path)
    except TraceError as exc:
        raise ResumeError(f"--resume {run_dir}: {exc}") from None
    wanted = plan_episodes(config)
    by_key = {(r.seed, r.repeat): r for r in earlier}
    stray = sorted(set(by_key) - {(w.seed, w.repeat) for w in wanted},
                   key=lambda k: (k[0] is None, k[0] or 0, k[1]))
    if stray:
        labels = ", ".join(by_key[k].label for k in stray[:5])
        raise ResumeError(f"--resume {run_dir}: it holds episodes these options do not plan "
                          f"({labels}); give the run's own --episodes/--seeds/--repeat")
    plan = ResumePlan(folder)
    for request in wanted:
        done = by_key.get((request.seed, request.repeat))
        if done is None:
            plan.todo.append(request)
        elif retry_errors and done.status in ERRORS:
            plan.todo.append(request)
            plan.retried.append(request.label)
        else:
            plan.kept.append(done)
    return plan


async def arun_resume(
    manifest: Manifest,
    config: BenchConfig,
    plan: ResumePlan,
    *,
    on_result: ResultCallback | None = None,
    on_start: Callable[[Session], None] | None = None,
    agent: Agent | None = None,
) -> BenchRun:
    """Play ``plan.todo`` into the run's folder and judge every episode of the run."""
    finished = list(plan.kept)
    played: Played[list[EpisodeResult]] = Played()
    if plan.todo:
        session = open_session(manifest, config, agent=agent, run_folder=plan.folder)
        played = await play_session(
            session, lambda s: s.run(plan.todo, on_result=on_result, collected=finished),
            on_start=on_start)
    verdict = judge(manifest, finished, config, folder=plan.folder,
                    interrupted=played.interrupted, notes=plan.notes())
    return BenchRun(config, verdict, plan.folder.path, played.adapter)


def run_resume(
    manifest: Manifest,
    config: BenchConfig,
    plan: ResumePlan,
    *,
    on_result: ResultCallback | None = None,
    on_start: Callable[[Session], None] | None = None,
    agent: Agent | None = None,
) -> BenchRun:
    """:func:`arun_resume` with Ctrl-C handled as :func:`run_bench` does."""
    return run_until_interrupted(arun_resume(manifest, config, plan, on_result=on_result,
                                             on_start=on_start, agent=agent))
