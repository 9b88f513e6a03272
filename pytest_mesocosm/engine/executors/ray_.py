"""The Ray executor: episodes played by Ray actors, each with an adapter process of its own.

Each actor (:class:`EpisodeActor`) is started on a node with the env repo that the job's
``runtime_env`` ships there (the manifest's folder as ``working_dir``, its
``requirements.txt`` as ``pip`` when there is one) and this engine as a ``py_module``;
it holds a :class:`~pytest_mesocosm.engine.session.BenchSession` (so one adapter process
and the same ``run_episode()``, agent settings and model breaker) and plays the episodes
it is handed, several at once. Each result comes back here with its trace text; the
driver writes the trace into the run folder the moment the result lands, so what
finished is kept once, whatever happens to the cluster afterwards.

Faults: an actor lost mid-run (its node or raylet died, its process crashed) has its
unfinished episodes played again on the other actors, at most :data:`MAX_PLAYS` times
each, and a replacement actor is asked for; every loss is said as a notice and the
session's :attr:`RaySession.summary` says what happened. Ctrl-C cancels the episodes
in flight on the cluster and stops the actors (their adapters close first).

Model credentials and the model address (``*_API_KEY``, ``OLLAMA_HOST``, ...) reach the
actors as a constructor argument, not as ``runtime_env`` variables, which Ray records
in its logs and job table; nothing of them is written to the run folder.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import os
import re
import shutil
import socket
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import ray
from ray.exceptions import (
    GetTimeoutError,
    ObjectLostError,
    RayActorError,
    RayTaskError,
    RuntimeEnvSetupError,
    WorkerCrashedError,
)

import pytest_mesocosm
from pytest_mesocosm.agents.waiting import notify
from pytest_mesocosm.engine.config import BenchConfig, ExecutorOptions, GateOptions
from pytest_mesocosm.engine.outcomes import EpisodeResult, EpisodeStatus
from pytest_mesocosm.engine.session import (
    BenchSession,
    EpisodeRequest,
    ResultCallback,
    effective_parallel,
    play_all,
)
from pytest_mesocosm.engine.traces import RunFolder
from pytest_mesocosm.errors import MesocosmError
from pytest_mesocosm.manifest.models import Manifest, load_manifest

MAX_PLAYS = 3  # an episode whose actor is lost is played at most this many times in all
START_SECONDS = 600.0  # an actor not ready by then (no room on the cluster) is given up
PROBE_SECONDS = 5.0  # a cluster address must accept a connection within this
STOP_SECONDS = 15.0  # an actor's adapter gets this long to close before the actor is killed
SHIPPED_EXCLUDES = [".git", ".mesocosm", "__pycache__", ".venv", "venv", ".pytest_cache"]
_SESSIONS = 0  # open sessions that share this process's Ray job
_JOB_ROOT: Path | None = None  # the env repo that job ships
_LOST = (RayActorError, WorkerCrashedError, ObjectLostError)
# what the model layer reads from the environment: keys, tokens, addresses, LiteLLM's switches
_MODEL_ENV = re.compile(
    r"^(OLLAMA_\w+|LITELLM_\w+|AWS_\w+|AZURE_\w+|VERTEX\w*|GOOGLE_APPLICATION_CREDENTIALS"
    r"|\w+_(API_KEY|API_BASE|BASE_URL|API_VERSION|KEY|TOKEN|SECRET))$"
)


def model_environment(environ: dict[str, str] | None = None) -> dict[str, str]:
    """The driver's variables the model layer may need on the actors (credentials, addresses)."""
    source = os.environ if environ is None else environ
    return {name: value for name, value in source.items() if _MODEL_ENV.match(name)}


class EpisodeActor:
    """One Ray actor: the env's adapter and a :class:`BenchSession` on the actor's node.

    Built in the shipped env repo (the actor's working directory), with the driver's
    config made local: the adapter is started here (no env URL), traces go to a
    temporary folder and are handed back with each result.
    """

    def __init__(self, manifest_file: str, domain_id: str | None, config: BenchConfig,
                 environment: dict[str, str]) -> None:
        os.environ.update(environment)
        self.manifest = load_manifest(Path(manifest_file).resolve())
        if domain_id:
            self.manifest.id = domain_id
        self.folder = Path(tempfile.mkdtemp(prefix="mesocosm-ray-"))
        self.config = replace(
            config, env_url=None, start_if_absent=False, runs_dir=self.folder,
            executor=ExecutorOptions(), gate=GateOptions(),
        )
        self.session: BenchSession | None = None

    async def start(self) -> str:
        """Start the adapter and check the agent; answers the node's id."""
        self.session = BenchSession(self.manifest, self.config,
                                    run_folder=RunFolder.create(self.folder))
        await self.session.__aenter__()
        return str(ray.get_runtime_context().get_node_id())

    async def play(self, request: EpisodeRequest) -> tuple[dict[str, Any], str, str]:
        """Play one episode: its result as a dict, its trace's JSONL text, and where the
        env repo is on this node (paths in the trace are written from there)."""
        assert self.session is not None, "start() first"
        result = await self.session.run_one(request)
        text = ""
        if result.trace_path:
            trace = Path(result.trace_path)
            text = trace.read_text(encoding="utf-8")
            trace.unlink(missing_ok=True)
        return result.to_dict(), text, str(self.manifest.root)

    async def stop(self) -> None:
        """Close the adapter and the agent, drop the temporary folder."""
        if self.session is not None:
            await self.session.aclose()
        shutil.rmtree(self.folder, ignore_errors=True)


_RemoteActor = ray.remote(EpisodeActor)


@dataclass(eq=False)
class _Handle:
    """A started actor, on which node, and whether it was lost."""

    actor: Any
    node: str = "?"
    lost: bool = False


class _NoActors(Exception):
    """Every actor was lost and no replacement got a place on the cluster."""


def runtime_env(manifest: Manifest) -> dict[str, Any]:
    """What Ray ships to a node for an actor: the env repo, its requirements, this engine."""
    env: dict[str, Any] = {
        "working_dir": str(manifest.root),
        "excludes": SHIPPED_EXCLUDES,
        "py_modules": [str(Path(pytest_mesocosm.__file__).parent)],
    }
    requirements = manifest.root / "requirements.txt"
    if requirements.is_file():
        env["pip"] = str(requirements)
    return env


class RaySession:
    """The episodes of one manifest on a Ray cluster; used like a ``BenchSession``.

    ``async with RaySession(manifest, config) as session`` connects to the cluster
    (``config.executor.ray_address``), starts the actors and waits until one is ready;
    :meth:`run_one` plays an episode on an actor with a free slot.
    """

    lease = None  # no adapter on this machine: the actors hold them

    def __init__(self, manifest: Manifest, config: BenchConfig, *,
                 run_folder: RunFolder | None = None) -> None:
        if config.env_url and not config.start_if_absent:
            raise MesocosmError(
                f"the env URL {config.env_url} cannot be used with the ray executor: each Ray "
                "actor starts the env's adapter on its node; leave the env URL out"
            )
        if config.agent.cache in ("use", "refresh"):
            raise MesocosmError(
                f"--cache {config.agent.cache} records cassettes on the Ray nodes, where they "
                "would be lost; record with the asyncio executor, then use --cache replay"
            )
        if manifest.source_path is None:
            raise MesocosmError("the ray executor needs a manifest loaded from a file: "
                                "its folder is what Ray ships to the nodes")
        self.manifest = manifest
        self.config = config
        self.run_folder = run_folder or RunFolder.create(config.runs_dir)
        self.parallel, self.parallel_note = effective_parallel(manifest, config)
        self.actors = 0
        self.per_actor = 0
        self.lost: list[str] = []  # one line per actor lost
        self.replayed = 0  # episodes played again after their actor was lost
        self._live: list[_Handle] = []
        self._free: asyncio.Queue[_Handle | None] = asyncio.Queue()
        self._spawns: set[asyncio.Task[None]] = set()
        self._replacements = 0
        self._waiting = 0
        self._connected = False

    async def __aenter__(self) -> RaySession:
        try:
            self._connect()
            self._size()
            self.parallel_note = (
                f"playing on Ray ({self.config.executor.ray_address or 'local'}): "
                f"{self.actors} actors x {self.per_actor} episodes at once"
            )
            first = [self._spawn() for _ in range(self.actors)]
            await self._first_ready(first)
        except BaseException:
            await self.aclose()
            raise
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def _connect(self) -> None:
        """Join the cluster with this env repo as the job's ``runtime_env`` (Ray ships local
        folders per job only), once per process: sessions of one repo share the job."""
        global _SESSIONS, _JOB_ROOT
        root = self.manifest.root.resolve()
        if _SESSIONS:
            if root != _JOB_ROOT:
                raise MesocosmError(
                    f"the ray executor ships one env repo per run ({_JOB_ROOT}); bench "
                    f"{root} in a run of its own"
                )
        elif ray.is_initialized():
            raise MesocosmError("Ray is already initialized in this process; let the ray "
                                "executor connect (name the cluster with --ray-address)")
        else:
            _probe(self.config.executor.ray_address)
            try:
                ray.init(address=self.config.executor.ray_address,
                         runtime_env=runtime_env(self.manifest), include_dashboard=False,
                         log_to_driver=False, logging_level=logging.WARNING)
            except (ConnectionError, ValueError, RuntimeError) as exc:
                where = self.config.executor.ray_address or "a local cluster"
                raise MesocosmError(
                    f"cannot reach the Ray cluster at {where}: {exc}; check --ray-address "
                    "(auto, ray://HOST:PORT, or leave it out to start a local cluster)"
                ) from exc
            _JOB_ROOT = root
        _SESSIONS += 1
        self._connected = True

    def _size(self) -> None:
        """Actors: the option, else the cluster's CPUs (at most the planned episodes);
        episodes per actor: the option, else the run's parallel spread over them."""
        options = self.config.executor
        cpus = int(ray.cluster_resources().get("CPU", 1))
        self.actors = options.ray_actors or max(1, min(cpus, self.config.planned))
        self.per_actor = options.ray_actor_parallel or max(
            1, math.ceil(self.parallel / self.actors))

    def _spawn(self) -> asyncio.Task[None]:
        """Ask the cluster for one more actor; it joins the pool once started."""
        source = self.manifest.source_path
        assert source is not None
        config = replace(self.config, parallel=self.per_actor)
        actor = _RemoteActor.options(  # type: ignore[attr-defined]
            num_cpus=1, max_concurrency=self.per_actor + 1, max_restarts=0,
            max_task_retries=0, scheduling_strategy="SPREAD",
        ).remote(str(source.relative_to(self.manifest.root)), self.manifest.id, config,
                 model_environment())
        task = asyncio.ensure_future(self._join(_Handle(actor)))
        self._spawns.add(task)
        task.add_done_callback(self._spawned)
        return task

    async def _join(self, handle: _Handle) -> None:
        try:
            handle.node = await asyncio.wait_for(_wait(handle.actor.start.remote()),
                                                 START_SECONDS)
        except BaseException:
            _kill(handle.actor)
            raise
        self._live.append(handle)
        for _ in range(self.per_actor):
            self._free.put_nowait(handle)

    def _spawned(self, task: asyncio.Task[None]) -> None:
        self._spawns.discard(task)
        failure = None if task.cancelled() else task.exception()
        if failure is not None and self._live:  # else the run's start fails with it
            notify(f"a Ray actor did not start ({_as_error(failure, 'actor')}); "
                   f"playing on {len(self._live)}")
        self._wake_if_none_left()

    def _wake_if_none_left(self) -> None:
        """No actor live and none coming: wake the episodes waiting for one, to give up."""
        if not self._live and not self._spawns:
            for _ in range(self._waiting):
                self._free.put_nowait(None)

    async def _first_ready(self, spawns: list[asyncio.Task[None]]) -> None:
        """Wait until one actor is ready; raise the first failure when none can start."""
        pending = set(spawns)
        failure: BaseException | None = None
        while pending and not self._live:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if task.exception() is not None and failure is None:
                    failure = task.exception()
        if not self._live:
            raise _as_error(failure, "no Ray actor started")

    async def _take(self) -> _Handle:
        while True:
            if not self._live and not self._spawns:
                raise _NoActors
            self._waiting += 1
            try:
                handle = await self._free.get()
            finally:
                self._waiting -= 1
            if handle is not None and not handle.lost:
                return handle

    def _lose(self, handle: _Handle, exc: BaseException) -> None:
        """Take a lost actor out of the pool and ask for a replacement (bounded)."""
        if handle.lost:
            return
        handle.lost = True
        self._live.remove(handle)
        line = f"Ray actor on node {handle.node[:12]} lost ({type(exc).__name__})"
        self.lost.append(line)
        notify(f"{line}; its unfinished episodes are played again on other actors")
        if self._replacements < self.actors:
            self._replacements += 1
            self._spawn()
        _kill(handle.actor)
        self._wake_if_none_left()

    async def run_one(self, request: EpisodeRequest) -> EpisodeResult:
        """Play one episode on the cluster; again elsewhere if its actor is lost."""
        reasons: list[str] = []
        while len(reasons) < MAX_PLAYS:
            try:
                handle = await self._take()
            except _NoActors:
                reasons.append("no Ray actor left to play it")
                break
            ref = handle.actor.play.remote(request)
            try:
                data, trace, shipped = await _wait(ref)
            except asyncio.CancelledError:
                with contextlib.suppress(Exception):
                    ray.cancel(ref)
                raise
            except _LOST as exc:
                self._lose(handle, exc)
                reasons.append(f"{type(exc).__name__} on node {handle.node[:12]}")
                if len(reasons) < MAX_PLAYS:
                    self.replayed += 1
                continue
            except RayTaskError as exc:
                self._free.put_nowait(handle)
                raise _as_error(exc, f"{request.label} failed on a Ray actor") from None
            self._free.put_nowait(handle)
            return self._land(request, data, _rebase(trace, shipped, self.manifest.root))
        return EpisodeResult(
            episode_id=f"{self.manifest.domain_id}-{request.label}-lost",
            seed=request.seed, repeat=request.repeat, status=EpisodeStatus.ENV_ERROR,
            error=f"not finished on Ray after {len(reasons)} tries: " + "; ".join(reasons),
        )

    def _land(self, request: EpisodeRequest, data: dict[str, Any], trace: str) -> EpisodeResult:
        """A finished episode: its trace written here, once, and its result."""
        result = EpisodeResult.from_dict(data)
        path = self.run_folder.trace_path(request.label)
        path.write_text(trace, encoding="utf-8")
        result.trace_path = str(path)
        return result

    async def run(
        self,
        requests: Sequence[EpisodeRequest],
        *,
        on_result: ResultCallback | None = None,
        collected: list[EpisodeResult] | None = None,
    ) -> list[EpisodeResult]:
        """Every request on the cluster; results in input order (see ``BenchSession.run``)."""
        return await play_all(self.run_one, requests, on_result=on_result, collected=collected)

    @property
    def summary(self) -> str | None:
        """What the cluster did to the run, in one line; None when nothing was lost."""
        if not self.lost:
            return None
        return (f"Ray: {len(self.lost)} actor(s) lost ({'; '.join(self.lost)}); "
                f"{self.replayed} unfinished episode(s) played again; finished episodes "
                "were kept once")

    async def aclose(self) -> None:
        """Stop asking for actors, close every adapter, end the actors, disconnect."""
        for task in list(self._spawns):
            task.cancel()
        await asyncio.gather(*self._spawns, return_exceptions=True)
        live, self._live = self._live, []
        if live:
            with contextlib.suppress(Exception):
                stops = [_wait(h.actor.stop.remote()) for h in live]
                await asyncio.wait_for(asyncio.gather(*stops, return_exceptions=True),
                                       STOP_SECONDS)
        for handle in live:
            _kill(handle.actor)
        if self.summary:
            notify(self.summary)
        if self._connected:
            global _SESSIONS
            self._connected = False
            _SESSIONS -= 1
            if _SESSIONS == 0:
                ray.shutdown()


def _probe(address: str | None) -> None:
    """Refuse at once a ``HOST:PORT`` (or ``ray://HOST:PORT``) where nothing listens: Ray
    itself retries such an address for minutes."""
    host, sep, port = (address or "").removeprefix("ray://").rpartition(":")
    if not sep or not host or not port.isdigit():
        return  # "auto", none: Ray looks the cluster up itself
    try:
        socket.create_connection((host, int(port)), timeout=PROBE_SECONDS).close()
    except OSError as exc:
        raise MesocosmError(
            f"no Ray cluster answers at {address} ({exc.strerror or exc}); start one with "
            "`ray start --head` or fix --ray-address"
        ) from None


def _rebase(trace: str, shipped: str, root: Path) -> str:
    """A trace with the node's copy of the env repo named as the driver's folder (a script
    agent's name holds its path), so it reads as if played here."""
    def quoted(path: str) -> str:
        return json.dumps(path)[1:-1]

    return trace.replace(quoted(shipped), quoted(str(root)))


async def _wait(ref: Any) -> Any:
    """Await a Ray object ref from asyncio."""
    return await ref


def _kill(actor: Any) -> None:
    with contextlib.suppress(Exception):
        ray.kill(actor, no_restart=True)


def _as_error(exc: BaseException | None, what: str) -> BaseException:
    """Our error inside a Ray one (the actor's cause) as it is; anything else in one line."""
    cause = exc.cause if isinstance(exc, RayTaskError) else exc
    if isinstance(cause, (MesocosmError, asyncio.CancelledError, KeyboardInterrupt)):
        return cause
    if isinstance(exc, RuntimeEnvSetupError):
        return MesocosmError(f"{what}: Ray could not set up the env repo on a node "
                             f"(working_dir, requirements.txt): {exc}")
    if isinstance(exc, (asyncio.TimeoutError, GetTimeoutError)):
        return MesocosmError(f"{what}: no actor got a place on the cluster within "
                             f"{START_SECONDS:.0f} s; lower --ray-actors or add nodes")
    first = str(exc).strip().splitlines()[0] if exc is not None and str(exc).strip() else ""
    return MesocosmError(f"{what}: {type(exc).__name__}: {first}")
