"""Serve: the root app on ``host:port``, the bench API on ``127.0.0.1:bench_port``, and
this process's run worker, until SIGINT/SIGTERM. Episodes in flight are given back
(``pending``) on a clean stop; after a kill their leases expire and they are played again.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from collections.abc import Iterator

import anyio.to_thread
import uvicorn

from mesocosm_server.app import create_app
from mesocosm_server.devenvs.onboarding import Onboarder
from mesocosm_server.notify import listen_for_work
from mesocosm_server.settings import ServerSettings
from mesocosm_server.worker import Worker


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signals to :func:`_serve`, which stops both servers
    and the worker together (uvicorn's own handler would re-raise the signal and end the
    process before the worker gives its episodes back)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def _serve(settings: ServerSettings) -> None:
    apps = create_app(settings)
    # the database pool is sized for this many request threads (see db.py)
    anyio.to_thread.current_default_thread_limiter().total_tokens = settings.request_threads
    servers = [_Server(uvicorn.Config(apps.root, host=settings.host, port=settings.port,
                                      log_level="warning", lifespan="off"))]
    if settings.bench_port:
        servers.append(_Server(uvicorn.Config(
            apps.bench, host="127.0.0.1", port=settings.bench_port, log_level="warning",
            lifespan="off")))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, _stop_all, servers)
    sessions, adapters = apps.bench.state.sessions, apps.bench.state.adapters
    await asyncio.to_thread(adapters.reap_orphans)
    worker = Worker(sessions, settings, apps.bench.state.wakeup, adapters=adapters,
                    live=apps.bench.state.live)
    worker_task = asyncio.create_task(worker.run(stop))
    listening = threading.Event()
    if settings.workers and apps.engine.dialect.name == "postgresql":
        listen_for_work(settings.sqlalchemy_url, apps.bench.state.wakeup, listening)
    onboarding = asyncio.create_task(Onboarder(sessions, settings, adapters).run(stop))
    try:
        await asyncio.gather(*(server.serve() for server in servers))
    finally:
        stop.set()
        listening.set()
        onboarding.cancel()  # a job in progress is given back, pending
        with contextlib.suppress(asyncio.CancelledError):
            await worker_task
        with contextlib.suppress(asyncio.CancelledError):
            await onboarding
        adapters.stop_all()
        apps.engine.dispose()


def _stop_all(servers: list[_Server]) -> None:
    for server in servers:
        server.should_exit = True


def serve(settings: ServerSettings) -> None:
    asyncio.run(_serve(settings))
