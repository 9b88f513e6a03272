"""Many episodes of one manifest: bounded concurrency on one event loop, one adapter.

:class:`BenchSession` holds what a run shares (the adapter process or URL, one pooled
client, one agent, the run folder) so front ends that schedule episodes themselves
(the pytest plugin runs them item by item) and :func:`run_bench` (everything at once)
drive the same code. Results come back in seed order whatever order episodes finish in;
on Ctrl-C the finished episodes' results and traces are kept and ``results.json`` is
still written.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pytest_mesocosm.adapter import AdapterClient, AdapterProcess
from pytest_mesocosm.agents import make_agent
from pytest_mesocosm.agents.base import Agent, TaskInfo
from pytest_mesocosm.agents.waiting import notify
from pytest_mesocosm.engine.config import BenchConfig, EpisodeLimits
from pytest_mesocosm.engine.episode import EpisodeSpec, run_episode
from pytest_mesocosm.engine.outcomes import EpisodeResult, EpisodeStatus
from pytest_mesocosm.engine.traces import RunFolder, TraceWriter
from pytest_mesocosm.errors import AdapterUnreachable
from pytest_mesocosm.manifest.models import Manifest
from pytest_mesocosm.scoring.metrics import RunMetrics, metric_bounds, score_run

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
    """What the agent is told about the env, drawn from the manifest."""
    vow = manifest.binding_vow
    return TaskInfo(
        name=manifest.name,
        description=manifest.description or vow.description,
        action_space=vow.action_space.model_dump(by_alias=True, exclude_none=True),
        observation_space=vow.observation_space.model_dump(by_alias=True, exclude_none=True),
        system_prompt=system_prompt,
        domain_description=vow.description,
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


def effective_parallel(manifest: Manifest, config: BenchConfig) -> int:
    """``config.parallel``, lowered to the vow's ``parallel_episodes`` unless overridden."""
    wanted = max(config.parallel, 1)
    cap = manifest.binding_vow.episode.parallel_episodes
    if cap is not None and not config.parallel_override:
        return min(wanted, cap)
    return wanted


class BenchSession:
    """The adapter, client, agent and run folder shared by the episodes of one manifest.

    ``async with BenchSession(manifest, config) as session`` starts the manifest's adapter
    (unless ``config.env_url`` answers), makes the agent and checks it once with
    ``preflight()``; leaving the block closes everything, also on errors.
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
        self.parallel = effective_parallel(manifest, config)
        self._agent = agent
        self._process: AdapterProcess | None = None
        self._client: AdapterClient | None = None
        self.url: str | None = None
        self._model_failures = 0  # model_error episodes in a row
        self._model_down: str | None = None  # why no more episodes are started

    async def __aenter__(self) -> BenchSession:
        try:
            self.url = await self._adapter_url()
            # one request in flight per episode: a smaller pool would queue episodes
            self._client = AdapterClient(self.url, max_connections=self.parallel)
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
    def agent(self) -> Agent:
        assert self._agent is not None, "use BenchSession inside `async with`"
        return self._agent

    async def _adapter_url(self) -> str:
        """Use ``config.env_url`` if it is given, else start the manifest's adapter."""
        if self.config.env_url:
            async with AdapterClient(self.config.env_url) as probe:
                await probe.health()
            return self.config.env_url
        self._process = AdapterProcess(
            self.manifest.adapter_path,
            python=self.config.python,
            log_path=self.run_folder.path / "adapter.log",
        )
        await asyncio.to_thread(self._process.start)
        return self._process.url

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        if self._agent is not None:
            with contextlib.suppress(Exception):
                await self._agent.aclose()
        if self._process is not None:
            await asyncio.to_thread(self._process.stop)
            self._process = None

    async def run_one(self, request: EpisodeRequest) -> EpisodeResult:
        """Play one episode with its own trace file in the run folder."""
        if self._client is None:
            raise AdapterUnreachable("the bench session is closed; use it inside `async with`")
        if self._model_down is not None:
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
        if result.status is EpisodeStatus.ENV_ERROR and self._process is not None:
            died = await asyncio.to_thread(self._process.exit_note)
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
        total = len(requests)
        done: dict[int, EpisodeResult] = {}
        gate = asyncio.Semaphore(self.parallel)

        async def one(index: int, request: EpisodeRequest) -> None:
            async with gate:
                result = await self.run_one(request)
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
        return [done[i] for i in range(total)]

    def write_results(
        self, results: list[EpisodeResult], metrics: RunMetrics | None, *, interrupted: bool
    ) -> Path:
        return self.run_folder.write_results(
            self.config, results, metrics, extra=manifest_summary(self.manifest),
            complete=not interrupted,
        )


def manifest_summary(manifest: Manifest) -> dict[str, Any]:
    """The manifest facts a results file or an export needs to stand on its own."""
    return {
        "manifest": {
            "name": manifest.name,
            "domain_id": manifest.domain_id,
            "binding_vow_version": manifest.binding_vow.version,
            "path": str(manifest.source_path) if manifest.source_path else None,
            "scoring": manifest.scoring.model_dump(by_alias=True),
        }
    }


@dataclass
class BenchRun:
    """The outcome of :func:`run_bench`: results in seed order, metrics and where it all is."""

    manifest: Manifest
    config: BenchConfig
    results: list[EpisodeResult]
    metrics: RunMetrics
    run_dir: Path
    results_path: Path
    interrupted: bool = False


async def arun_bench(
    manifest: Manifest,
    config: BenchConfig,
    *,
    on_result: ResultCallback | None = None,
    agent: Agent | None = None,
    collected: list[EpisodeResult] | None = None,
    run_folder: RunFolder | None = None,
) -> BenchRun:
    """Async :func:`run_bench`; ``collected`` receives results as they finish."""
    requests = plan_episodes(config)
    finished = collected if collected is not None else []
    session = BenchSession(manifest, config, agent=agent, run_folder=run_folder)
    interrupted = False
    try:
        async with session:
            results = await session.run(requests, on_result=on_result, collected=finished)
    except (asyncio.CancelledError, KeyboardInterrupt):
        interrupted = True
        results = _in_request_order(finished, requests)
        metrics = score_run(manifest.scoring, results, metric_bounds(manifest))
        session.write_results(results, metrics, interrupted=True)
        raise
    metrics = score_run(manifest.scoring, results, metric_bounds(manifest))
    path = session.write_results(results, metrics, interrupted=interrupted)
    return BenchRun(manifest, config, results, metrics, session.run_folder.path, path)


def run_bench(
    manifest: Manifest,
    config: BenchConfig,
    *,
    on_result: ResultCallback | None = None,
    agent: Agent | None = None,
) -> BenchRun:
    """Run every planned episode of ``manifest`` and score them.

    Ctrl-C stops the run: the episodes that finished are kept, scored and written to
    ``results.json`` (with ``interrupted: true``), and the returned run says so.
    """
    finished: list[EpisodeResult] = []
    folder = RunFolder.create(config.runs_dir)
    try:
        return asyncio.run(arun_bench(
            manifest, config, on_result=on_result, agent=agent, collected=finished,
            run_folder=folder,
        ))
    except KeyboardInterrupt:
        results = _in_request_order(finished, plan_episodes(config))
        return BenchRun(
            manifest, config, results,
            score_run(manifest.scoring, results, metric_bounds(manifest)),
            folder.path, folder.path / "results.json", interrupted=True,
        )


def _in_request_order(
    results: list[EpisodeResult], requests: Sequence[EpisodeRequest]
) -> list[EpisodeResult]:
    order = {(r.seed, r.repeat): i for i, r in enumerate(requests)}
    return sorted(results, key=lambda r: order.get((r.seed, r.repeat), len(order)))

