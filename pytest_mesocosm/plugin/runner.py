"""Play the episodes one pytest process owns, several at once, on one event loop.

pytest runs items one after the other; a slow model would then sit idle between
episodes. So the episodes run on an event loop of their own, in a background thread,
and when an episode is asked for the runner also starts every later episode of the
same manifest that this process will run: the session's slots bound how many play at
once, in the order asked, and the loop keeps them going while pytest reports items. Each
later item then only collects its own result. Everything here is engine-side (no pytest):
the plugin hands in the manifests, the planned requests, and the order in which it will
ask for them.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine, Iterable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pytest_mesocosm.adapter.conformance import Finding, acheck_adapter
from pytest_mesocosm.adapter.connect import adapter_for
from pytest_mesocosm.engine.config import BenchConfig
from pytest_mesocosm.engine.executors import Session, open_session
from pytest_mesocosm.engine.loop import close_loop
from pytest_mesocosm.engine.outcomes import EpisodeResult
from pytest_mesocosm.engine.session import EpisodeRequest
from pytest_mesocosm.engine.traces import RunFolder
from pytest_mesocosm.errors import MesocosmError
from pytest_mesocosm.manifest.models import Manifest

Upcoming = Iterable[tuple[Manifest, EpisodeRequest]]
T = TypeVar("T")


@dataclass
class _ManifestRun:
    """One manifest in this process: its session (or why it could not start) and tasks."""

    session: Session | None
    failure: MesocosmError | None = None
    tasks: dict[EpisodeRequest, Future[EpisodeResult]] = field(default_factory=dict)
    playing: dict[EpisodeRequest, asyncio.Task[Any]] = field(default_factory=dict)  # loop side


class EpisodeRunner:
    """One event loop (in its own thread) and one session (of the chosen executor) per
    manifest.

    A session starts when the first episode of its manifest is asked for; if it cannot
    start (model unreachable, adapter broken) the error is kept and raised again for
    every episode of that manifest, so the user reads one message, not N different ones.
    """

    def __init__(self, config: BenchConfig, folder_for: Callable[[Manifest], RunFolder]):
        self.config = config
        self._folder_for = folder_for
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runs: dict[Path, _ManifestRun] = {}
        self._starting: dict[Path, tuple[Session, Future[Session]]] = {}
        self._findings: dict[Path, list[Finding] | MesocosmError] = {}

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The episodes' loop, running in a daemon thread from the first use on."""
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
            self._thread = threading.Thread(
                target=self._loop.run_forever, name="mesocosm-episodes", daemon=True)
            self._thread.start()
        return self._loop

    def _submit(self, coro: Coroutine[Any, Any, T]) -> Future[T]:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def _call(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the episodes' loop and wait for it here."""
        return self._submit(coro).result()

    @property
    def run_folders(self) -> dict[Path, RunFolder]:
        """The run folder of every manifest this process started a session for."""
        return {key: run.session.run_folder for key, run in self._runs.items() if run.session}

    def prepare(self, manifest: Manifest) -> None:
        """Start the manifest's session now, without waiting: its adapter boots while
        pytest finishes collecting (and, under xdist, while the controller schedules)."""
        key = _key(manifest)
        if key in self._runs or key in self._starting:
            return
        session = open_session(manifest, self.config, run_folder=self._folder_for(manifest))
        self._starting[key] = (session, self._submit(session.__aenter__()))

    def _start(self, manifest: Manifest) -> _ManifestRun:
        key = _key(manifest)
        if key not in self._runs:
            self.prepare(manifest)
            self._runs[key] = self._started(*self._starting.pop(key))
        run = self._runs[key]
        if run.failure is not None:
            raise run.failure.with_traceback(None)
        return run

    @staticmethod
    def _started(session: Session, starting: Future[Session]) -> _ManifestRun:
        """The session once started, or why it could not start (kept for every episode)."""
        try:
            starting.result()
        except MesocosmError as exc:
            return _ManifestRun(None, failure=exc)
        return _ManifestRun(session)

    def result(
        self, manifest: Manifest, request: EpisodeRequest, upcoming: Upcoming = ()
    ) -> EpisodeResult:
        """Play ``request`` (or collect it, if it was started ahead) and return its result.

        ``upcoming`` lists what this process will ask for next, in order; the episodes of
        the same manifest at its head are started now, behind ``request``: the session
        plays ``parallel`` of them at once, the others wait for a slot in that order.
        """
        run = self._start(manifest)
        self._schedule(run, request)
        for other, ahead in upcoming:
            if _key(other) != _key(manifest):
                break
            self._schedule(run, ahead)
        task = run.tasks[request]
        try:
            return task.result()
        finally:
            if task.done():  # else (Ctrl-C) close() cancels it with the other unclaimed ones
                del run.tasks[request]

    def _schedule(self, run: _ManifestRun, request: EpisodeRequest) -> None:
        if request in run.tasks:
            return
        assert run.session is not None
        run.tasks[request] = self._submit(_play(run, request))

    def findings(self, manifest: Manifest) -> list[Finding]:
        """The conformance findings for a manifest's adapter, checked once per process.

        The checks need no model, so they get an adapter of their own (or the
        ``env_url``): a broken model must not hide a broken environment.
        """
        key = _key(manifest)
        if key not in self._findings:
            try:
                self._findings[key] = self._call(self._check(manifest))
            except MesocosmError as exc:
                self._findings[key] = exc
        found = self._findings[key]
        if isinstance(found, MesocosmError):
            raise found.with_traceback(None)
        return found

    async def _check(self, manifest: Manifest) -> list[Finding]:
        log = self._folder_for(manifest).path / "conformance-adapter.log"
        async with adapter_for(manifest, self.config, log_path=log) as adapter:
            return await acheck_adapter(adapter.url, vow=manifest.binding_vow)

    def close(self) -> None:
        """Cancel episodes no item claimed (and drop their traces), stop every session."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        try:
            for key in list(self._starting):  # prepared, never asked for: stop them too
                self._runs[key] = self._started(*self._starting.pop(key))
            self._call(self._aclose())
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join()
            close_loop(loop)
            self._loop = self._thread = None

    async def _aclose(self) -> None:
        for run in self._runs.values():
            if run.session is None:
                continue
            for future in run.tasks.values():
                future.cancel()
            playing = list(run.playing.values())
            for task in playing:
                task.cancel()
            await asyncio.gather(*playing, return_exceptions=True)
            for request in run.tasks:
                run.session.run_folder.trace_path(request.label).unlink(missing_ok=True)
            run.tasks.clear()
            await run.session.aclose()


async def _play(run: _ManifestRun, request: EpisodeRequest) -> EpisodeResult:
    """One episode on the loop, known to :meth:`EpisodeRunner.close` while it plays."""
    assert run.session is not None
    task = asyncio.current_task()
    if task is not None:
        run.playing[request] = task
    try:
        return await run.session.run_one(request)
    finally:
        run.playing.pop(request, None)


def _key(manifest: Manifest) -> Path:
    return manifest.source_path or manifest.root
