"""Runs as durable jobs: episodes leased from the database, played, stored, scored.

Each server process runs one :class:`Worker`. It claims ``pending`` episodes (or
``running`` ones whose lease expired: their server died) with a compare-and-set update,
renews its leases while playing, and stores the final state, the trace and, when the
run's last episode ends, the run's scores, in one transaction guarded by its lease. So a
server killed with -9 and started again finishes its runs: finished episodes are never
replayed and unfinished ones are played again once their lease expires. A run's
``max_parallel`` bounds its episodes in flight across every worker.

The worker claims when woken (a run was created in this process, or one of its episodes
ended) and otherwise every ``poll_seconds``, the fallback for work enqueued by another
process on the same database.

Each episode's trace events go to this process's :class:`LiveTraces` as they are
written, for the trace sockets; its feed closes once the episode is stored.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from mesocosm_server import models
from mesocosm_server.db import transaction, utcnow
from mesocosm_server.devenvs.adapters import EnvAdapters, env_id_of
from mesocosm_server.live import LiveTraces
from mesocosm_server.play import Played, play
from mesocosm_server.scores import enough_scoreable, honest_summary, hosted_scores
from mesocosm_server.settings import ServerSettings
from mesocosm_server.wakeup import Wakeup
from pytest_mesocosm.engine.outcomes import EpisodeResult, EpisodeStatus

log = logging.getLogger("mesocosm.server.worker")


@dataclass
class Claim:
    episode_id: str
    run_id: str
    seed: int | None
    run_config: dict[str, Any]
    domain: dict[str, Any]


class Worker:
    """Plays up to ``settings.workers`` episodes at once for this process."""

    def __init__(self, sessions: sessionmaker[Session], settings: ServerSettings,
                 wakeup: Wakeup | None = None, *, adapters: EnvAdapters | None = None,
                 live: LiveTraces | None = None) -> None:
        self.sessions = sessions
        self.settings = settings
        self.wakeup = wakeup or Wakeup()
        self.live = live or LiveTraces()
        self.adapters = adapters  # developer environments' adapters, started on demand
        self.id = f"worker-{uuid.uuid4().hex[:12]}"
        self.tasks: dict[str, asyncio.Task[None]] = {}

    # -- leasing -----------------------------------------------------------------------
    def _claimable(self, now: Any) -> Any:
        return or_(models.Episode.status == "pending",
                   and_(models.Episode.status == "running",
                        models.Episode.lease_expires_at < now))

    def claim(self, wanted: int) -> list[Claim]:
        now = utcnow()
        lease_until = now + timedelta(seconds=self.settings.lease_seconds)
        claims: list[Claim] = []
        with transaction(self.sessions) as db:
            candidates = db.execute(
                select(models.Episode.id, models.Episode.run_id, models.Episode.seed)
                .join(models.Run).where(models.Run.status == "running", self._claimable(now))
                .order_by(models.Run.created_at, models.Episode.position).limit(wanted * 4)
            ).all()
            if not candidates:
                return []
            run_ids = {c.run_id for c in candidates}
            inflight = dict(db.execute(
                select(models.Episode.run_id, func.count()).where(
                    models.Episode.run_id.in_(run_ids), models.Episode.status == "running",
                    models.Episode.lease_expires_at >= now)
                .group_by(models.Episode.run_id)).all())
            runs = {r.id: r for r in db.scalars(select(models.Run).where(
                models.Run.id.in_(run_ids)))}
            for candidate in candidates:
                if len(claims) >= wanted:
                    break
                run = runs[candidate.run_id]
                if inflight.get(run.id, 0) >= run.max_parallel:
                    continue
                taken = db.execute(  # type: ignore[attr-defined]
                    update(models.Episode)
                    .where(models.Episode.id == candidate.id, self._claimable(now))
                    .values(status="running", lease_owner=self.id, lease_expires_at=lease_until,
                            attempts=models.Episode.attempts + 1,
                            started_at=func.coalesce(models.Episode.started_at, now))
                ).rowcount
                if taken != 1:
                    continue
                inflight[run.id] = inflight.get(run.id, 0) + 1
                domain = db.get(models.Domain, run.domain_id)
                claims.append(Claim(candidate.id, run.id, candidate.seed, run.config,
                                    domain.data if domain else {}))
        return claims

    def renew(self) -> set[str]:
        """Extend this worker's leases; the ids it no longer holds (cancelled runs)."""
        if not self.tasks:
            return set()
        until = utcnow() + timedelta(seconds=self.settings.lease_seconds)
        with transaction(self.sessions) as db:
            held = set(db.scalars(select(models.Episode.id).where(
                models.Episode.id.in_(list(self.tasks)), models.Episode.lease_owner == self.id,
                models.Episode.status == "running")))
            db.execute(update(models.Episode).where(models.Episode.id.in_(held))
                       .values(lease_expires_at=until))
        return set(self.tasks) - held

    def release(self, episode_ids: list[str]) -> None:
        """Give back episodes this worker stops playing, so a restart takes them at once."""
        if not episode_ids:
            return
        with transaction(self.sessions) as db:
            db.execute(update(models.Episode).where(
                models.Episode.id.in_(episode_ids), models.Episode.lease_owner == self.id,
                models.Episode.status == "running",
            ).values(status="pending", lease_owner=None, lease_expires_at=None))

    # -- finishing ---------------------------------------------------------------------
    def finish(self, claim: Claim, played: Played) -> None:
        now = utcnow()
        result = played.result
        with transaction(self.sessions) as db:
            # The run's row is locked first, so the workers finishing its last episodes
            # close it one after the other: each then sees the others' committed episodes
            # (under PostgreSQL's read committed, two at once would each see the other
            # still running and neither would close the run). SQLite serializes writers.
            db.execute(select(models.Run.id).where(models.Run.id == claim.run_id)
                       .with_for_update())
            stored = db.execute(  # type: ignore[attr-defined]
                update(models.Episode).where(
                    models.Episode.id == claim.episode_id, models.Episode.lease_owner == self.id,
                    models.Episode.status == "running")
                .values(status=played.status, ended_at=now, steps=result.steps,
                        total_reward=result.total_reward, terminal_info=played.terminal_info,
                        result=result.to_dict(), lease_owner=None, lease_expires_at=None)
            ).rowcount
            if stored != 1:
                return  # cancelled, or the lease was lost: someone else owns it now
            db.add(models.EpisodeTrace(episode_id=claim.episode_id, events=played.events))
            db.flush()
            self._close_run_if_done(db, claim.run_id, now)

    def _close_run_if_done(self, db: Session, run_id: str, now: Any) -> None:
        left = db.scalar(select(func.count()).select_from(models.Episode).where(
            models.Episode.run_id == run_id, models.Episode.status.in_(("pending", "running"))))
        if left:
            return  # one count, not every episode's stored result, until the last one ends
        episodes = list(db.scalars(select(models.Episode).where(models.Episode.run_id == run_id)))
        run = db.get(models.Run, run_id)
        domain = db.get(models.Domain, run.domain_id) if run else None
        if run is None or domain is None or run.status != "running":
            return
        scoring = domain.data["scoring"]
        docs = [{"status": e.status, "total_reward": e.total_reward,
                 "terminal_info": e.terminal_info} for e in episodes]
        ok = enough_scoreable(docs, self.settings.min_scoreable_episode_ratio)
        results = [EpisodeResult.from_dict(e.result) for e in episodes if e.result]
        db.execute(update(models.Run).where(models.Run.id == run_id,
                                            models.Run.status == "running").values(
            status="completed" if ok else "failed", completed_at=now,
            scores=hosted_scores(scoring, docs) if ok else {},
            summary=honest_summary(scoring, results) if results else None))

    # -- the loop ----------------------------------------------------------------------
    async def _play(self, claim: Claim) -> None:
        self.live.open(claim.episode_id)
        try:
            played = await self._played(claim)
            await asyncio.to_thread(self.finish, claim, played)
        finally:  # after the trace is stored, so a socket finds it there
            self.live.close(claim.episode_id)

    async def _played(self, claim: Claim) -> Played:
        domain = claim.domain
        url = claim.run_config.get("env_url") or (domain.get("endpoint") or {}).get("url")
        try:
            if not url:
                raise LookupError("No environment URL configured")
            env_id = env_id_of(str(url))
            if env_id is not None and self.adapters is not None:
                url = await asyncio.to_thread(self.adapters.url, env_id)
            return await play(
                episode_id=claim.episode_id, seed=claim.seed, env_url=str(url), domain=domain,
                run_config=claim.run_config, step_cap=self.settings.max_episode_steps,
                token_budget=self.settings.max_tokens_per_episode,
                on_event=partial(self.live.publish, claim.episode_id))
        except LookupError as exc:
            result = EpisodeResult(claim.episode_id, claim.seed, EpisodeStatus.ENV_ERROR,
                                   error=str(exc))
            return Played(result, "failed", {"error": str(exc)}, [])

    async def run(self, stop: asyncio.Event) -> None:
        """Claim, play and renew until ``stop`` is set; unfinished episodes are released."""
        renew_every = self.settings.lease_seconds / 3
        loop = asyncio.get_running_loop()
        last_renew = loop.time()
        self.wakeup.bind()
        stopping = asyncio.create_task(self._notify_when(stop))
        try:
            while not stop.is_set():
                free = self.settings.workers - len(self.tasks)
                if free > 0:
                    for claim in await asyncio.to_thread(self.claim, free):
                        task = asyncio.create_task(self._play(claim))
                        self.tasks[claim.episode_id] = task
                        task.add_done_callback(partial(self._done, claim.episode_id))
                if loop.time() - last_renew >= renew_every:
                    last_renew = loop.time()
                    for lost in await asyncio.to_thread(self.renew):
                        playing = self.tasks.get(lost)
                        if playing is not None:
                            playing.cancel()
                await self.wakeup.wait(self.settings.poll_seconds)
        finally:
            stopping.cancel()
            stopped = list(self.tasks)
            for task in list(self.tasks.values()):
                task.cancel()
            await asyncio.gather(*self.tasks.values(), return_exceptions=True)
            await asyncio.to_thread(self.release, stopped)

    async def _notify_when(self, stop: asyncio.Event) -> None:
        await stop.wait()
        self.wakeup.notify()

    def _done(self, episode_id: str, task: asyncio.Task[None]) -> None:
        self.tasks.pop(episode_id, None)
        self.wakeup.notify()  # a slot is free
        if not task.cancelled() and task.exception() is not None:
            log.error("episode %s: %s", episode_id, task.exception())
