"""``create_app(settings)``: the root app (login routes, bench API under ``/bench``) and
the bench API alone (for the ``MESOCOSM_LOCAL`` port). Nothing is built at import.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Engine
from sqlalchemy.exc import DataError

from mesocosm_server.db import make_engine, migrate, session_factory
from mesocosm_server.devenvs.adapters import EnvAdapters
from mesocosm_server.live import LiveTraces
from mesocosm_server.routes import (
    admin,
    developer,
    domains,
    gallery,
    identity,
    leaderboards,
    login,
    runs,
    service,
    teams,
    techniques,
    test_episode,
    ws,
)
from mesocosm_server.security import TokenKeys, load_or_create_secret
from mesocosm_server.settings import ServerSettings
from mesocosm_server.version import API_VERSION
from mesocosm_server.wakeup import Wakeup


@dataclass
class Apps:
    root: FastAPI  # /auth/... and the bench API under /bench
    bench: FastAPI  # the bench API at its own root
    engine: Engine


async def _internal_error(_request: Request, _exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": "Internal server error"}, status_code=500)


async def _unstorable_value(_request: Request, exc: Exception) -> JSONResponse:
    """A value the database refuses (PostgreSQL takes no NUL character in text) is the
    caller's mistake: 422 in FastAPI's validation shape, not a 500."""
    reason = str(getattr(exc, "orig", exc)).splitlines()[0]
    detail = [{"type": "value_error", "loc": ["body"], "input": None,
               "msg": f"a value cannot be stored: {reason}"}]
    return JSONResponse({"detail": detail}, status_code=422)


def _bench_app(settings: ServerSettings, keys: TokenKeys, engine: Engine) -> FastAPI:
    app = FastAPI(title="BenchAnything", version=API_VERSION, redirect_slashes=False)
    app.state.settings, app.state.keys = settings, keys
    app.state.sessions = session_factory(engine)
    app.state.wakeup = Wakeup()  # this process's worker, nudged by routes
    app.state.live = LiveTraces()  # the trace events of the episodes its worker plays
    app.state.adapters = EnvAdapters(app.state.sessions, settings)
    app.add_exception_handler(Exception, _internal_error)
    app.add_exception_handler(DataError, _unstorable_value)
    for module in (service, identity, teams, developer, domains, runs, test_episode,
                   leaderboards, gallery, techniques, admin, ws):
        app.include_router(module.router)
    return app


def create_app(settings: ServerSettings) -> Apps:
    """Open the database (migrating it), load or make the signing key, build both apps."""
    engine = make_engine(settings.sqlalchemy_url, settings.request_threads)
    migrate(engine)
    keys = TokenKeys.from_secret(load_or_create_secret(settings.key_path))
    bench = _bench_app(settings, keys, engine)
    root = FastAPI(title="BenchAnything login", version=API_VERSION, redirect_slashes=False)
    root.state.settings, root.state.keys = settings, keys
    root.state.sessions = bench.state.sessions
    root.add_exception_handler(Exception, _internal_error)
    root.add_exception_handler(DataError, _unstorable_value)
    root.include_router(login.router)
    root.include_router(service.router)
    root.mount("/bench", bench)
    return Apps(root=root, bench=bench, engine=engine)
