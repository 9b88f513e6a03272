"""The database: one engine per app, migrations applied with Alembic at start.

SQLite gets WAL and a busy timeout so request threads and the worker can share the
file, and ``synchronous=NORMAL``: no fsync per commit (two per episode), still durable
when the process dies (the WAL is on disk); a power cut may undo the last commits, whose
episodes, still leased, are then played again. PostgreSQL URLs
(``postgresql+psycopg://``) are used as given.

The pool holds a connection for every thread that may ask for one at once: FastAPI
keeps a request's session (and its connection) until the response is serialized, which
for a plain ``def`` route takes another thread-pool hop; with fewer connections than
request threads, threads waiting for a connection can hold every thread the holders
need to finish, and all stall until the pool's 30 s timeout.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker


def utcnow() -> datetime:
    """Naive UTC, the hosted API's timestamp form."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


WORKER_THREADS = 32  # asyncio's default executor (the run worker's) never exceeds this


def _private_file(path: Path) -> None:
    """The database file readable by the server's user only (SQLite gives its WAL and
    shared-memory files the same mode): submitted adapters run as another user."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
    if path.stat().st_uid == os.geteuid():
        path.chmod(0o600)


def make_engine(url: str, request_threads: int = 0) -> Engine:
    """``request_threads``: the app's thread-pool size (0 for one-off commands)."""
    connections = request_threads + WORKER_THREADS if request_threads else 5
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            _private_file(Path(path))
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                               pool_size=connections, max_overflow=0)

        @event.listens_for(engine, "connect")
        def _pragmas(conn: Any, _record: Any) -> None:
            cursor = conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=min(10, connections),
                         max_overflow=max(0, connections - 10))


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration shipped in the package."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option(
        "script_location", str(resources.files("mesocosm_server").joinpath("migrations"))
    )
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    with factory() as session, session.begin():
        yield session
