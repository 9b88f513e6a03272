"""Wake every server process on one PostgreSQL database when a run is enqueued.

A process wakes its own worker in memory (:mod:`mesocosm_server.wakeup`); another process
on the same database would only see the new episodes at its next poll. On PostgreSQL the
route also sends ``NOTIFY`` in the run's transaction (delivered when it commits), and each
server listens on a connection of its own, so API-only servers (``--workers 0``) can hand
runs to worker servers at once. SQLite is one process's database: nothing to announce.
"""

from __future__ import annotations

import logging
import threading

import psycopg
from sqlalchemy import make_url, text
from sqlalchemy.orm import Session

from mesocosm_server.wakeup import Wakeup

CHANNEL = "mesocosm_work"
RETRY_SECONDS = 5.0  # a lost listening connection is opened again after this
log = logging.getLogger("mesocosm.server")


def announce_work(db: Session) -> None:
    """Tell the other server processes, when this transaction commits, that work is queued."""
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text(f"NOTIFY {CHANNEL}"))


def listen_for_work(database_url: str, wakeup: Wakeup, stop: threading.Event) -> threading.Thread:
    """A daemon thread that nudges ``wakeup`` on every announcement until ``stop`` is set."""
    conninfo = make_url(database_url).set(drivername="postgresql").render_as_string(
        hide_password=False)
    thread = threading.Thread(target=_listen, args=(conninfo, wakeup, stop),
                              name="mesocosm-listen", daemon=True)
    thread.start()
    return thread


def _listen(conninfo: str, wakeup: Wakeup, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            with psycopg.connect(conninfo, autocommit=True) as conn:
                conn.execute(f"LISTEN {CHANNEL}")
                wakeup.notify()  # whatever was announced while this was not listening
                while not stop.is_set():
                    for _ in conn.notifies(timeout=1.0):
                        wakeup.notify()
        except psycopg.Error as exc:
            log.warning("listening for enqueued work on PostgreSQL: %s; retrying", exc)
            stop.wait(RETRY_SECONDS)
