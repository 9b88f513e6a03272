"""Play the episodes one pytest process owns, several at once, on one event loop.

pytest runs items one after the other; a slow model would then sit idle between
episodes. So when an episode is asked for, the runner also starts the next episodes of
the same manifest that this process will run (up to the session's ``parallel``), as
tasks on the process's single event loop; each later item then only collects its own
result. Everything here is engine-side (no pytest): the plugin hands in the manifests,
the planned requests, and the order in which it will ask for them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

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


@dataclass
class _ManifestRun:
    """One manifest in this process: its session (or why it could not start) and tasks."""

    session: Session | None
    failure: MesocosmError | None = None
    tasks: dict[EpisodeRequest, asyncio.Task[EpisodeResult]] = field(default_factory=dict)


class EpisodeRunner:
    """One event loop and one session (of the chosen executor) per manifest for this process.

    A session starts when the first episode of its manifest is asked for; if it cannot
    start (model unreachable, adapter broken) the error is kept and raised again for
    every episode of that manifest, so the user reads one message, not N different ones.
    """

    def __init__(self, config: BenchConfig, folder_for: Callable[[Manifest], RunFolder]):
        self.config = config
        self._folder_for = folder_for
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runs: dict[Path, _ManifestRun] = {}
        self._findings: dict[Path, list[Finding] | MesocosmError] = {}

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
        return self._loop

    @property
    def run_folders(self) -> dict[Path, RunFolder]:
        """The run folder of every manifest this process started a session for."""
        return {key: run.session.run_folder for key, run in self._runs.items() if run.session}

    def _start(self, manifest: Manifest) -> _ManifestRun:
        key = _key(manifest)
        run = self._runs.get(key)
        if run is None:
            session = open_session(manifest, self.config, run_folder=self._folder_for(manifest))
            try:
                self.loop.run_until_complete(session.__aenter__())
            except MesocosmError as exc:
                run = _ManifestRun(None, failure=exc)
            else:
                run = _ManifestRun(session)
            self._runs[key] = run
        if run.failure is not None:
            raise run.failure.with_traceback(None)
        return run

    def result(
        self, manifest: Manifest, request: EpisodeRequest, upcoming: Upcoming = ()
    ) -> EpisodeResult:
        """Play ``request`` (or collect it, if it was started ahead) and return its result.

        ``upcoming`` lists what this process will ask for next, in order; the episodes of
        the same manifest at its head are started now, up to ``parallel`` in flight.
        """
        run = self._start(manifest)
        assert run.session is not None
        self._schedule(run, request)
        for other, ahead in upcoming:
            if len(run.tasks) >= run.session.parallel or _key(other) != _key(manifest):
                break
            self._schedule(run, ahead)
        task = run.tasks[request]
        try:
            return self.loop.run_until_complete(task)
        finally:
            if task.done():  # else (Ctrl-C) close() cancels it with the other unclaimed ones
                del run.tasks[request]

    def _schedule(self, run: _ManifestRun, request: EpisodeRequest) -> None:
        if request in run.tasks:
            return
        assert run.session is not None
        run.tasks[request] = self.loop.create_task(run.session.run_one(request))

    def findings(self, manifest: Manifest) -> list[Finding]:
        """The conformance findings for a manifest's adapter, checked once per process.

        The checks need no model, so they get an adapter of their own (or the
        ``env_url``): a broken model must not hide a broken environment.
        """
        key = _key(manifest)
        if key not in self._findings:
            try:
                self._findings[key] = self.loop.run_until_complete(self._check(manifest))
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
        if self._loop is None:
            return
        self._loop.run_until_complete(self._aclose())
        close_loop(self._loop)
        self._loop = None

    async def _aclose(self) -> None:
        for run in self._runs.values():
            if run.session is None:
                continue
            for task in run.tasks.values():
                task.cancel()
            await asyncio.gather(*run.tasks.values(), return_exceptions=True)
            for request in run.tasks:
                run.session.run_folder.trace_path(request.label).unlink(missing_ok=True)
            run.tasks.clear()
            await run.session.aclose()


def _key(manifest: Manifest) -> Path:
    return manifest.source_path or manifest.root
