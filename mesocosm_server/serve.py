"""Serve: the root app on ``host:port``, the bench API on ``127.0.0.1:bench_port``, and
this process's run worker, until SIGINT/SIGTERM. In-flight episodes keep their leases
and are picked up again after a restart.
"""

from __future__ import annotations

import asyncio
import contextlib

import uvicorn

from mesocosm_server.app import create_app
from mesocosm_server.settings import ServerSettings
from mesocosm_server.worker import Worker


async def _serve(settings: ServerSettings) -> None:
    apps = create_app(settings)
    servers = [uvicorn.Server(uvicorn.Config(apps.root, host=settings.host, port=settings.port,
                                             log_level="warning", lifespan="off"))]
    if settings.bench_port:
        servers.append(uvicorn.Server(uvicorn.Config(
            apps.bench, host="127.0.0.1", port=settings.bench_port, log_level="warning",
            lifespan="off")))
    stop = asyncio.Event()
    worker = Worker(apps.bench.state.sessions, settings)
    worker_task = asyncio.create_task(worker.run(stop))
    try:
        await asyncio.gather(*(server.serve() for server in servers))
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await worker_task
        apps.engine.dispose()


def serve(settings: ServerSettings) -> None:
    asyncio.run(_serve(settings))
