"""Request dependencies: the database session and who is asking (PLATFORM_API.md 2.1).

A bearer token is tried as a member token, then as a guest token whose session row is
live; then the ``bench_guest`` cookie; otherwise the caller is anonymous. A bad token
never answers 401 by itself: the guards below do, in the hosted order.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session
from starlette.requests import HTTPConnection

from mesocosm_server import models
from mesocosm_server.db import utcnow
from mesocosm_server.security import TokenKeys, read_guest_token, read_member_token
from mesocosm_server.settings import ServerSettings
from mesocosm_server.wakeup import Wakeup

GUEST_COOKIE = "bench_guest"


@dataclass(frozen=True)
class Principal:
    kind: Literal["member", "guest", "anonymous"]
    user_id: int | None = None
    username: str | None = None
    guest_session_id: str | None = None

    @property
    def actor_id(self) -> str:
        return str(self.user_id) if self.kind == "member" else str(self.guest_session_id)

    @property
    def requester_id(self) -> str:
        return str(self.user_id) if self.kind == "member" else f"guest:{self.guest_session_id}"


ANONYMOUS = Principal("anonymous")


# Dependencies that do no I/O are ``async``: FastAPI runs a plain ``def`` one in the
# thread pool, and under many concurrent requests every hop waits its turn again.
async def get_db(request: Request) -> AsyncIterator[Session]:
    """A session in a transaction. Opening it does no I/O (the connection is taken at the
    first query, on the route's thread), and routes commit on their own thread as they
    return (``route_class.SessionRoute``), so closing it here does none either, except
    the rollback after a route raised: one quick statement."""
    with request.app.state.sessions() as session, session.begin():
        yield session


async def get_settings(request: Request) -> ServerSettings:
    settings: ServerSettings = request.app.state.settings
    return settings


async def get_keys(request: Request) -> TokenKeys:
    keys: TokenKeys = request.app.state.keys
    return keys


async def get_wakeup(request: Request) -> Wakeup:
    wakeup: Wakeup = request.app.state.wakeup
    return wakeup


Db = Annotated[Session, Depends(get_db, scope="function")]  # commit before answering
Settings = Annotated[ServerSettings, Depends(get_settings)]
Keys = Annotated[TokenKeys, Depends(get_keys)]
WorkerWakeup = Annotated[Wakeup, Depends(get_wakeup)]


def _guest(db: Session, keys: TokenKeys, token: str) -> Principal | None:
    session_id = read_guest_token(keys, token)
    if session_id is None:
        return None
    row = db.get(models.GuestSession, session_id)
    if row is None or row.expires_at <= utcnow():
        return None
    return Principal("guest", guest_session_id=session_id)


def principal_of(conn: HTTPConnection, db: Session, keys: TokenKeys,
                 token: str | None = None) -> Principal:
    """Who is asking: the bearer token, else ``token`` (a WebSocket's ``?token=``, as
    browsers cannot set its headers), else the guest cookie, else anonymous."""
    header = conn.headers.get("authorization", "")
    scheme, _, bearer = header.partition(" ")
    if scheme.lower() == "bearer" and bearer.strip():
        token = bearer
    if token and token.strip():
        token = token.strip()
        claims = read_member_token(keys, token)
        if claims is not None:
            return Principal("member", user_id=claims["user_id"], username=claims["username"])
        guest = _guest(db, keys, token)
        if guest is not None:
            return guest
    cookie = conn.cookies.get(GUEST_COOKIE)
    if cookie:
        guest = _guest(db, keys, cookie)
        if guest is not None:
            return guest
    return ANONYMOUS


def get_principal(request: Request, db: Db, keys: Keys) -> Principal:
    return principal_of(request, db, keys)


Caller = Annotated[Principal, Depends(get_principal, scope="function")]


def require_principal(principal: Caller) -> Principal:
    if principal.kind == "anonymous":
        raise HTTPException(401, "Authentication required")
    return principal


def require_member(principal: Caller) -> Principal:
    if principal.kind == "anonymous":
        raise HTTPException(401, "Authentication required")
    if principal.kind != "member":
        raise HTTPException(403, "SWECC member account required")
    return principal


AnyUser = Annotated[Principal, Depends(require_principal, scope="function")]
Member = Annotated[Principal, Depends(require_member, scope="function")]
