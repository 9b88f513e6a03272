"""Member accounts, managed from the command line (``mesocosm server users``)."""

from __future__ import annotations

from sqlalchemy import select

from mesocosm_server import models
from mesocosm_server.db import make_engine, migrate, session_factory, transaction, utcnow
from mesocosm_server.security import hash_password
from mesocosm_server.settings import ServerSettings


class UserExists(ValueError):
    pass


def add_user(settings: ServerSettings, username: str, password: str) -> int:
    """Create a member; its id. ``UserExists`` when the name is taken."""
    engine = make_engine(settings.sqlalchemy_url)
    try:
        migrate(engine)
        with transaction(session_factory(engine)) as db:
            if db.scalar(select(models.User.id).where(models.User.username == username)):
                raise UserExists(username)
            user = models.User(username=username, password_hash=hash_password(password),
                               created_at=utcnow())
            db.add(user)
            db.flush()
            return user.id
    finally:
        engine.dispose()


def list_users(settings: ServerSettings) -> list[tuple[int, str, str]]:
    """``(id, username, created_at)`` of every member, oldest first."""
    engine = make_engine(settings.sqlalchemy_url)
    try:
        migrate(engine)
        with transaction(session_factory(engine)) as db:
            rows = db.execute(select(models.User.id, models.User.username,
                                     models.User.created_at).order_by(models.User.id))
            return [(uid, name, created.isoformat(timespec="seconds"))
                    for uid, name, created in rows]
    finally:
        engine.dispose()
