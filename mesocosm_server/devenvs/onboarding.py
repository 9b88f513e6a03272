"""Onboarding as a durable job: pending -> cloning -> ready | failed, resumed after a crash.

A server process claims one ``pending`` environment (or a ``cloning`` one whose lease
expired: the server onboarding it died) with a compare-and-set update, renews the lease
while it works, and writes the outcome only if it still holds the lease and the row is
still the submission it started (a delete or a resubmission in between wins). Steps:
clone, check the manifest, build the virtualenv, start the adapter and wait for
``/health``, publish the domain. Each step has its own time limit (settings); the lease
keeps the job alive as long as the steps run, and onboarding gives up only after
``settings.onboarding_seconds``, their sum.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from mesocosm_server import models
from mesocosm_server.db import transaction, utcnow
from mesocosm_server.devenvs.adapters import EnvAdapters, env_url, start_adapter
from mesocosm_server.devenvs.install import build_venv, check_manifest
from mesocosm_server.devenvs.isolation import Sandbox
from mesocosm_server.devenvs.layout import Layout, devenv_root
from mesocosm_server.devenvs.publish import publish_domain
from mesocosm_server.devenvs.sources import clone
from mesocosm_server.devenvs.steps import StepFailed
from mesocosm_server.settings import ServerSettings
from pytest_mesocosm.adapter import AdapterProcess
from pytest_mesocosm.errors import AdapterError

log = logging.getLogger("mesocosm.server.onboarding")
MAX_ATTEMPTS = 3  # a job that killed its server this often is not tried again


@dataclass(frozen=True)
class Job:
    env_id: str
    version: int
    github_url: str
    attempts: int


@dataclass
class Outcome:
    error: str | None = None
    manifest: dict[str, Any] | None = None
    process: AdapterProcess | None = None


class Onboarder:
    """Onboards one environment at a time for this server process."""

    def __init__(self, sessions: sessionmaker[Session], settings: ServerSettings,
                 adapters: EnvAdapters) -> None:
        self.sessions = sessions
        self.settings = settings
        self.adapters = adapters
        self.layout = Layout(devenv_root(settings))
        self.id = f"onboarder-{uuid.uuid4().hex[:12]}"

    def _lease(self) -> timedelta:
        return timedelta(seconds=self.settings.lease_seconds)

    def claim(self) -> Job | None:
        now = utcnow()
        env = models.DeveloperEnvironment
        claimable = or_(env.status == "pending",
                        and_(env.status == "cloning", env.job_expires_at < now))
        with transaction(self.sessions) as db:
            row = db.execute(select(env.id, env.submission_version, env.github_url,
                                    env.job_attempts).where(claimable)
                             .order_by(env.created_at).limit(1)).first()
            if row is None:
                return None
            taken = db.execute(  # type: ignore[attr-defined]
                update(env).where(env.id == row.id, claimable,
                                  env.submission_version == row.submission_version)
                .values(status="cloning", job_owner=self.id, job_expires_at=now + self._lease(),
                        job_attempts=env.job_attempts + 1, error_message=None, env_url=None)
            ).rowcount
        if taken != 1:
            return None
        return Job(row.id, row.submission_version, row.github_url, row.job_attempts + 1)

    def renew(self, job: Job) -> None:
        env = models.DeveloperEnvironment
        with transaction(self.sessions) as db:
            db.execute(update(env).where(env.id == job.env_id, env.job_owner == self.id)
                       .values(job_expires_at=utcnow() + self._lease()))

    def onboard(self, job: Job) -> Outcome:
        """The steps, in a thread; every failure is an Outcome with its message."""
        if job.attempts > MAX_ATTEMPTS:
            return Outcome(f"Onboarding was interrupted {MAX_ATTEMPTS} times; resubmit "
                           "to retry")
        settings = self.settings
        try:
            sandbox = Sandbox.from_settings(settings)
            submission = self.layout.fresh(job.env_id, job.version, job.attempts)
            clone(job.github_url, submission.checkout, timeout=settings.devenv_clone_seconds,
                  allow_local=settings.allow_local_endpoints)
            checked = check_manifest(submission.checkout)
            sandbox.give(submission.home)
            build_venv(submission.checkout, submission.venv, python=settings.devenv_python,
                       timeout=settings.devenv_install_seconds, sandbox=sandbox,
                       home=submission.home)
            submission.write_launch(checked.adapter)
            process = start_adapter(submission, settings, sandbox)
        except StepFailed as exc:
            return Outcome(str(exc))
        except LookupError as exc:
            return Outcome(str(exc.args[0]))
        except AdapterError as exc:
            return Outcome(f"Adapter failed to start: {exc}")
        except OSError as exc:
            return Outcome(f"Onboarding failed: {exc}")
        return Outcome(manifest=checked.manifest, process=process)

    def finish(self, job: Job, outcome: Outcome) -> bool:
        """Store the outcome if this job still owns the row; False if it was taken away."""
        env = models.DeveloperEnvironment
        with transaction(self.sessions) as db:
            row = db.scalar(select(env).where(
                env.id == job.env_id, env.job_owner == self.id, env.status == "cloning",
                env.submission_version == job.version).with_for_update())
            if row is None:
                return False
            if outcome.manifest is not None:
                try:  # publish_domain checks everything before it changes anything
                    row.domain_id = publish_domain(db, row, outcome.manifest, env_url(row.id))
                except StepFailed as exc:
                    outcome.error = str(exc)
            if outcome.error is None:
                row.status, row.env_url = "ready", env_url(row.id)
            else:
                row.status, row.error_message = "failed", outcome.error
            row.job_owner = row.job_expires_at = None
        return True

    def release(self, job: Job) -> None:
        """Give the job back on a clean stop, so the next start takes it at once."""
        env = models.DeveloperEnvironment
        with transaction(self.sessions) as db:
            db.execute(update(env).where(env.id == job.env_id, env.job_owner == self.id,
                                         env.status == "cloning")
                       .values(status="pending", job_owner=None, job_expires_at=None,
                               job_attempts=env.job_attempts - 1))

    async def _one(self, job: Job) -> None:
        work = asyncio.create_task(asyncio.to_thread(self.onboard, job))
        limit = asyncio.get_running_loop().time() + self.settings.onboarding_seconds
        while True:
            try:
                done, _ = await asyncio.wait({work}, timeout=self.settings.lease_seconds / 3)
            except asyncio.CancelledError:
                await asyncio.to_thread(self.release, job)
                raise
            if done:
                outcome = work.result()
                break
            if asyncio.get_running_loop().time() > limit:
                outcome = Outcome(f"Onboarding timed out after "
                                  f"{self.settings.onboarding_seconds:g} s")
                break  # the steps' own limits end the thread soon after
            await asyncio.to_thread(self.renew, job)
        kept = False
        try:
            kept = await asyncio.to_thread(self.finish, job, outcome)
        finally:
            if kept and outcome.error is None and outcome.process is not None:
                self.adapters.adopt(job.env_id, job.version, outcome.process)
                self.layout.prune(job.env_id, keep=self.layout.submission(
                    job.env_id, job.version, job.attempts))
            elif outcome.process is not None:
                outcome.process.stop()
        if not kept:
            await asyncio.to_thread(self._forget_if_deleted, job.env_id)

    def _forget_if_deleted(self, env_id: str) -> None:
        with self.sessions() as db:
            if db.get(models.DeveloperEnvironment, env_id) is None:
                self.layout.prune(env_id, keep=None)

    async def run(self, stop: asyncio.Event) -> None:
        """Claim and onboard until ``stop`` is set."""
        while not stop.is_set():
            job = None
            try:
                job = await asyncio.to_thread(self.claim)
                if job is not None:
                    await self._one(job)
                    continue
            except Exception:  # one bad job (or a database hiccup) must not end onboarding
                log.exception("onboarding %s", job.env_id if job else "(claiming)")
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), self.settings.poll_seconds * 5)
