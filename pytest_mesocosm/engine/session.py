"""Many episodes of one manifest: bounded concurrency on one event loop, one adapter.

:class:`BenchSession` holds what a run shares (the adapter process or URL, one pooled
client, one agent, the run folder) so front ends that schedule episodes themselves
(the pytest plugin runs them item by item) and :func:`run_bench` (everything at once)
drive the same code, and :func:`run_bench` ends with the same ``judge()`` as every
front end. Results come back in seed order whatever order episodes finish in; on Ctrl-C
the finished episodes' results and traces are kept and ``results.json`` is still written.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Generic, TypeVar

from pytest_mesocosm.adapter import AdapterClient
from pytest_mesocosm.adapter.connect import AdapterLease, adapter_for
from pytest_mesocosm.agents import make_agent
from pytest_mesocosm.agents.base import Agent, TaskInfo, TechniqueUse
from pytest_mesocosm.agents.waiting import notify
from pytest_mesocosm.engine.config import BenchConfig, EpisodeLimits
from pytest_mesocosm.engine.episode import EpisodeSpec, run_episode
from pytest_mesocosm.engine.loop import run_until_interrupted
from pytest_mesocosm.engine.outcomes import EpisodeResult, EpisodeStatus
from pytest_mesocosm.engine.traces import RunFolder, TraceWriter
from pytest_mesocosm.errors import AdapterUnreachable
from pytest_mesocosm.manifest.models import Manifest
from pytest_mesocosm.scoring.judge import Verdict, judge
from pytest_mesocosm.scoring.metrics import RunMetrics

if TYPE_CHECKING:
    from pytest_mesocosm.engine.executors import Session

T = TypeVar("T")

ResultCallback = Callable[[EpisodeResult, int, int], None]  # (result, done, total)
MODEL_DOWN_AFTER = 3  # episodes in a row whose model failed every attempt


@dataclass(frozen=True)
class EpisodeRequest:
    """One planned episode: a seed and which repeat of it."""

    seed: int | None
    repeat: int = 0

    @property
    def label(self) -> str:
        base = f"seed={self.seed}"
        return f"{base}-r{self.repeat}" if self.repeat else base


def plan_episodes(config: BenchConfig) -> list[EpisodeRequest]:
    """Seeds times repeats, in seed order: the order results and test items appear in."""
    return [
        EpisodeRequest(seed, repeat)
        for seed in config.episode_seeds()
        for repeat in range(max(config.repeats, 1))
    ]


def task_info(manifest: Manifest, system_prompt: str | None = None) -> TaskInfo:
    """What the agent is told about the env, drawn from the manifest. Every technique the
    vow declares is on, with empty params, as in the hosted CLI's ``run local``
    (PLATFORM_API.md 6.4); only the ``hosted`` prompt profile reads them."""
    vow = manifest.binding_vow
    return TaskInfo(
        name=manifest.name,
        description=manifest.description or vow.description,
        action_space=vow.action_space.model_dump(by_alias=True, exclude_none=True),
        observation_space=vow.observation_space.model_dump(by_alias=True, exclude_none=True),
        system_prompt=system_prompt,
        domain_description=vow.description,
        techniques=tuple(TechniqueUse(t) for t in vow.techniques or []),
    )


def effective_limits(manifest: Manifest, limits: EpisodeLimits) -> EpisodeLimits:
    """The user's limits, falling back to the vow's ``max_steps``/``max_wall_seconds``."""
    episode = manifest.binding_vow.episode
    return replace(
        limits,
        max_steps=limits.max_steps if limits.max_steps is not None else episode.max_steps,
        max_wall_seconds=(
            limits.max_wall_seconds if limits.max_wall_seconds is not None
            else episode.max_wall_seconds
        ),
    )


def effective_parallel(manifest: Manifest, config: BenchConfig) -> tuple[int, str | None]:
    """Episodes in flight at once, and a line to print when the choice overrides the vow.

    An explicit ``config.parallel`` wins; the vow's ``parallel_episodes`` is the default.
    """
    vow = manifest.binding_vow.episode.parallel_episodes
    if config.parallel is None:
        return max(vow or 1, 1), None
    wanted = max(config.parallel, 1)
    if vow is not None and wanted > vow:
        return wanted, (f"{manifest.name}: playing {wanted} episodes at once, more than the "
                        f"binding vow's parallel_episodes={vow}")
    return wanted, None


class BenchSession:
    """The adapter, client, agent and run folder shared by the episodes of one manifest.

    ``async with BenchSession(manifest, config) as session`` gets the adapter from
    :func:`~pytest_mesocosm.adapter.connect.adapter_for`, makes the agent and checks it
    once with ``preflight()``; leaving the block closes everything, also on errors. The
    session alone bounds how many episodes play at once: :meth:`run_one` waits for a slot.
    """

    def __init__(
        self,
        manifest: Manifest,
        config: BenchConfig,
        *,
        run_folder: RunFolder | None = None,
        agent: Agent | None = None,
    ):
        self.manifest = manifest
        self.config = config
        self.run_folder = run_folder or RunFolder.create(config.runs_dir)
        self.task = task_info(manifest, config.agent.system_prompt)
        self.limits = effective_limits(manifest, config.limits)
        self.parallel, self.parallel_note = effective_parallel(manifest, config)
        self._agent = agent
        self._adapter: AbstractAsyncContextManager[AdapterLease] | None = None
        self._client: AdapterClient | None = None
        self._slots: asyncio.Semaphore | None = None
        self.lease: AdapterLease | None = None
        self._model_failures = 0  # model_error episodes in a row
        self._model_down: str | None = None  # why no more episodes are started

    async def __aenter__(self) -> BenchSession:
        try:
            self._adapter = adapter_for(self.manifest, self.config,
                                        log_path=self.run_folder.path / "adapter.log")
            self.lease = await self._adapter.__aenter__()
            # one request in flight per episode: a smaller pool would queue episodes
            self._client = AdapterClient(self.lease.url, max_connections=self.parallel)
            self._slots = asyncio.Semaphore(self.parallel)
            if self._agent is None:
                self._agent = make_agent(self.config.agent, base_dir=self.manifest.root)
            await self._agent.preflight()
        except BaseException:
            await self.aclose()
            raise
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    @property
    def url(self) -> str | None:
        return self.lease.url if self.lease else None

    @property
    def agent(self) -> Agent:
        assert self._agent is not None, "use BenchSession inside `async with`"
        return self._agent

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        if self._agent is not None:
            with contextlib.suppress(Exception):
                await self._agent.aclose()
        if self._adapter is not None:
            adapter, self._adapter, self.lease = self._adapter, None, None
            await adapter.__aexit__(None, None, None)

    async def run_one(self, request: EpisodeRequest) -> EpisodeResult:
        """Play one episode with its own trace file, once a slot is free."""
        if self._client is None or self._slots is None:
            raise AdapterUnreachable("the bench session is closed; use it inside `async with`")
        async with self._slots:
            if self._model_down is not None:  # checked once a slot is free: it may be new
                return EpisodeResult(
                    episode_id=f"{self.manifest.domain_id}-{request.label}-not-started",
                    seed=request.seed, repeat=request.repeat, status=EpisodeStatus.MODEL_ERROR,
                    error=self._model_down,
                )
            spec = EpisodeSpec(
                episode_id=f"{self.manifest.domain_id}-{request.label}-{uuid.uuid4().hex[:8]}",
                seed=request.seed,
                repeat=request.repeat,
                limits=self.limits,
                scenario_params=self.config.scenario_params,
            )
            trace_path = self.run_folder.trace_path(request.label)
            with TraceWriter(trace_path) as trace:
                result = await run_episode(
                    spec, client=self._client, agent=self.agent, task=self.task, trace=trace
                )
        result.trace_path = str(trace_path)
        process = self.lease.process if self.lease is not None else None
        if result.status is EpisodeStatus.ENV_ERROR and process is not None:
            died = await asyncio.to_thread(process.exit_note)
            if died is not None:  # the real cause, not "is the adapter running?"
                result.error = died
        self._watch_model(result)
        return result

    def _watch_model(self, result: EpisodeResult) -> None:
        """After :data:`MODEL_DOWN_AFTER` model_error episodes in a row, start no more:
        each would wait out every attempt again. Said once; the rest end at once."""
        if result.status is not EpisodeStatus.MODEL_ERROR:
            self._model_failures = 0
            return
        self._model_failures += 1
        if self._model_failures >= MODEL_DOWN_AFTER and self._model_down is None:
            self._model_down = (
                f"not started: the model failed {self._model_failures} episodes in a row "
                f"(last: {result.error})"
            )
            notify(f"the model failed {self._model_failures} episodes in a row; the remaining "
                   f"episodes are not started (model_error). Last error: {result.error}")

    async def run(
        self,
        requests: Sequence[EpisodeRequest],
        *,
        on_result: ResultCallback | None = None,
        collected: list[EpisodeResult] | None = None,
    ) -> list[EpisodeResult]:
        """Run ``requests`` with at most ``self.parallel`` in flight; results in input order.

        Finished results are also appended to ``collected`` as they arrive, so a caller
        that is interrupted still holds every episode that finished.
        """
        return await play_all(self.run_one, requests, on_result=on_result, collected=collected)


async def play_all(
    run_one: Callable[[EpisodeRequest], Awaitable[EpisodeResult]],
    requests: Sequence[EpisodeRequest],
    *,
    on_result: ResultCallback | None = None,
    collected: list[EpisodeResult] | None = None,
) -> list[EpisodeResult]:
    """Every request through ``run_one`` at once (the session bounds how many play);
    results in input order, and in ``collected`` as they finish. Cancelled, it cancels
    the episodes still playing before it returns."""
    total = len(requests)
    done: dict[int, EpisodeResult] = {}

    async def one(index: int, request: EpisodeRequest) -> None:
        result = await run_one(request)
        done[index] = result
        if collected is not None:
            collected.append(result)
        if on_result is not None:
            on_result(result, len(done), total)

    tasks = [asyncio.ensure_future(one(i, r)) for i, r in enumerate(requests)]
    try:
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return [done[i] for i in range(total)]


@dataclass
class BenchRun:
    """The outcome of :func:`run_bench`: the judged run and the session's adapter line."""

    config: BenchConfig
    verdict: Verdict
    run_dir: Path
    adapter: str | None = None  # which adapter played, as one line

    @property
    def manifest(self) -> Manifest:
        return self.verdict.manifest

    @property
    def results(self) -> list[EpisodeResult]:
        return self.verdict.results

    @property
    def metrics(self) -> RunMetrics:
        return self.verdict.metrics

    @property
    def results_path(self) -> Path:
        return self.verdict.results_path

    @property
    def interrupted(self) -> bool:
        return self.verdict.interrupted


async def arun_bench(
    manifest: Manifest,
    config: BenchConfig,
    *,
    on_result: ResultCallback | None = None,
    on_start: Callable[[Session], None] | None = None,
    agent: Agent | None = None,
    run_folder: RunFolder | None = None,
) -> BenchRun:
    """Play every planned episode of ``manifest`` and :func:`judge` them.

    Cancelled (Ctrl-C), it still judges the episodes that finished: ``results.json`` is
    written with ``interrupted: true`` and the returned run says so.
    """
    from pytest_mesocosm.engine.executors import open_session  # it imports this module

    requests = plan_episodes(config)
    finished: list[EpisodeResult] = []
    session = open_session(manifest, config, agent=agent, run_folder=run_folder)
    played = await play_session(
        session, lambda s: s.run(requests, on_result=on_result, collected=finished),
        on_start=on_start)
    verdict = judge(manifest, finished, config, folder=session.run_folder,
                    interrupted=played.interrupted)
    return BenchRun(config, verdict, session.run_folder.path, played.adapter)


@dataclass
class Played(Generic[T]):
    """How a session's play ended: who played, whether Ctrl-C cut it, what play returned."""

    adapter: str | None = None  # which adapter played, as one line
    interrupted: bool = False
    value: T | None = None


async def play_session(
    session: Session,
    play: Callable[[Session], Awaitable[T]],
    *,
    on_start: Callable[[Session], None] | None = None,
) -> Played[T]:
    """Enter ``session``, tell ``on_start``, and ``play`` in it; Ctrl-C (or cancelling)
    ends the play as interrupted rather than raising, so the caller judges what finished."""
    played: Played[T] = Played()
    try:
        async with session:
            if session.lease is not None:
                played.adapter = session.lease.describe(session.manifest)
            if on_start is not None:
                on_start(session)
            played.value = await play(session)
    except (asyncio.CancelledError, KeyboardInterrupt):
        played.interrupted = True
    return played


def run_bench(
    manifest: Manifest,
    config: BenchConfig,
    *,
    on_result: ResultCallback | None = None,
    on_start: Callable[[Session], None] | None = None,
    agent: Agent | None = None,
) -> BenchRun:
    """Run every planned episode of ``manifest``, judge them, write results.json.

    Ctrl-C stops the run: the episodes that finished are kept, judged and written to
    ``results.json`` (with ``interrupted: true``), and the returned run says so.
    """
    folder = RunFolder.create(config.runs_dir)
    return run_until_interrupted(arun_bench(
        manifest, config, on_result=on_result, on_start=on_start, agent=agent, run_folder=folder,
    ))
