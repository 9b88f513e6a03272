"""Adapters of ready developer environments, started on demand by whoever needs them.

Nothing here is the source of truth: the database says which environment is ready at
which submission, the disk holds its checkout and virtualenv. This process keeps the
adapters it started; one that died, or serves an older submission, is started again on
the next request, so a server restart loses only processes, which come back on demand.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from mesocosm_server import models
from mesocosm_server.devenvs.isolation import Sandbox
from mesocosm_server.devenvs.layout import Layout, Submission, devenv_root
from mesocosm_server.settings import ServerSettings
from pytest_mesocosm.adapter import AdapterProcess
from pytest_mesocosm.errors import AdapterError

SCHEME = "sandbox://"  # env_url of a developer environment: resolved here, never dialled


def env_url(env_id: str) -> str:
    return f"{SCHEME}{env_id}"


def env_id_of(url: str) -> str | None:
    return url[len(SCHEME):] if url.startswith(SCHEME) else None


def start_adapter(submission: Submission, settings: ServerSettings,
                  sandbox: Sandbox) -> AdapterProcess:
    """Start a submission's adapter with its own interpreter, isolated; wait for /health."""
    sandbox.give(submission.home)
    process = AdapterProcess(
        submission.adapter(), python=str(submission.venv / "bin/python"),
        startup_timeout=settings.devenv_health_seconds, log_path=submission.log,
        env=sandbox.environment(submission.venv, submission.home), preexec=sandbox.preexec())
    return process.start()


@dataclass
class _Held:
    version: int
    process: AdapterProcess


class EnvAdapters:
    """The adapters this server process runs, by environment id."""

    def __init__(self, sessions: sessionmaker[Session], settings: ServerSettings) -> None:
        self.sessions = sessions
        self.settings = settings
        self.layout = Layout(devenv_root(settings))
        self._held: dict[str, _Held] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def reap_orphans(self) -> None:
        """Stop adapters a killed server process left behind (called once, at start)."""
        self.layout.reap_all()

    def _lock(self, env_id: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(env_id, threading.Lock())

    def url(self, env_id: str) -> str:
        """The running adapter's URL, started (or restarted) if needed; LookupError with
        the reason when the environment cannot serve."""
        with self._lock(env_id):
            with self.sessions() as db:
                row = db.get(models.DeveloperEnvironment, env_id)
                status = row.status if row is not None else None
                version = row.submission_version if row is not None else 0
                attempt = row.job_attempts if row is not None else 0
            if status != "ready":
                raise LookupError(f"Developer environment '{env_id}' is not ready "
                                  f"(status: {status or 'deleted'})")
            held = self._held.get(env_id)
            if held is not None and held.version == version and held.process.running:
                return held.process.url
            if held is not None:
                held.process.stop()
            try:
                process = start_adapter(self.layout.submission(env_id, version, attempt),
                                        self.settings,
                                        Sandbox.from_settings(self.settings))
            except (AdapterError, OSError, KeyError, ValueError) as exc:
                raise LookupError(f"Developer environment '{env_id}' did not start: {exc}"
                                  ) from exc
            self._held[env_id] = _Held(version, process)
            return process.url

    def adopt(self, env_id: str, version: int, process: AdapterProcess) -> None:
        """Keep the adapter onboarding started, so the first run does not start another."""
        with self._lock(env_id):
            old = self._held.pop(env_id, None)
            if old is not None:
                old.process.stop()
            self._held[env_id] = _Held(version, process)

    def stop(self, env_id: str) -> None:
        with self._lock(env_id):
            held = self._held.pop(env_id, None)
        if held is not None:
            held.process.stop()

    def retire(self, env_id: str) -> None:
        """A deleted environment: stop its adapter (freeing its port), remove its folder."""
        self.stop(env_id)
        self.layout.prune(env_id, keep=None)

    def stop_all(self) -> None:
        for env_id in list(self._held):
            self.stop(env_id)
