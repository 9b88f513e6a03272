"""Serve a :class:`BaseEnv` over HTTP: :func:`create_app` and :func:`serve`.

Speed matters here: a bench drives thousands of ``/step`` calls, and the adapter should
never be what a run waits on. So the contract's routes are answered by a pure ASGI
middleware in front of FastAPI: it reads the raw body, ``json.loads`` it, and sends
``json.dumps`` bytes, with no Request/Response objects, routing or pydantic on the way
(measured: about half the server CPU per call of an async FastAPI route). The env runs
inline on the event loop (``BaseEnv.blocking`` moves it to a thread). Everything else
(``/docs``, routes a user adds to the app) is plain FastAPI. ``bench/adapter_roundtrip.py``
measures the result.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from pytest_mesocosm.sdk import wire
from pytest_mesocosm.sdk.env import BaseEnv
from pytest_mesocosm.sdk.episodes import Episodes
from pytest_mesocosm.sdk.routes import Answer, Contract, error

DEFAULT_IDLE_TIMEOUT = 600.0
DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024
_JSON = b"application/json"

Handler = Callable[[dict[str, Any]], Awaitable[Answer]]


def _check_env_class(env_class: Any) -> None:
    """Fail at start-up, in one line, rather than with a 500 on every reset."""
    if not (isinstance(env_class, type) and issubclass(env_class, BaseEnv)):
        raise TypeError(f"serve() needs a BaseEnv subclass, got {env_class!r}; pass the class "
                        "itself, e.g. serve(WordleEnv)")
    name = env_class.__name__
    if inspect.isabstract(env_class):
        missing = ", ".join(sorted(env_class.__abstractmethods__))
        raise TypeError(f"{name} does not implement {missing}; define them (see BaseEnv)")
    try:
        inspect.signature(env_class).bind()
    except TypeError as exc:
        raise TypeError(f"{name}() must be callable with no arguments, since the server builds "
                        f"one per episode ({exc}); give __init__'s parameters defaults") from exc


class WireRoutes:
    """ASGI middleware answering the contract's routes itself; other requests pass through."""

    def __init__(self, app: ASGIApp, *, routes: dict[str, tuple[bytes, Handler]],
                 max_body_bytes: int) -> None:
        self.app = app
        self.routes = routes
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = self.routes.get(scope["path"]) if scope["type"] == "http" else None
        if route is None:
            await self.app(scope, receive, send)
            return
        method, handler = route
        if scope["method"] != method.decode():
            status, payload = error(405, f"{scope['path']} takes {method.decode()} only")
            await self._send(send, status, payload, [(b"allow", method)])
            return
        try:
            body = wire.parse_body(await self._read(scope, receive)) if method == b"POST" else {}
            status, payload = await handler(body)
        except wire.WireError as err:
            status, payload = error(err.status, err.detail)
        await self._send(send, status, payload)

    async def _read(self, scope: Scope, receive: Receive) -> bytes:
        """The request body, refusing (413) more than ``max_body_bytes`` without reading it."""
        limit = self.max_body_bytes
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                raise wire.WireError(413, f"request body is {int(value)} bytes, over the "
                                          f"{limit}-byte limit; send smaller actions")
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise wire.WireError(413, f"request body is over the {limit}-byte limit; "
                                          "send smaller actions")
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    @staticmethod
    async def _send(send: Send, status: int, payload: bytes,
                    extra: list[tuple[bytes, bytes]] | None = None) -> None:
        headers = [(b"content-type", _JSON), (b"content-length", str(len(payload)).encode())]
        await send({"type": "http.response.start", "status": status,
                    "headers": headers + (extra or [])})
        await send({"type": "http.response.body", "body": payload})


def create_app(
    env_class: type[BaseEnv],
    *,
    idle_timeout: float | None = DEFAULT_IDLE_TIMEOUT,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
) -> FastAPI:
    """A FastAPI app speaking the adapter wire contract for ``env_class``.

    ``idle_timeout`` (seconds, ``None`` for never) closes episodes nobody has touched for
    that long; ``max_body_bytes`` caps request bodies (413 above it). Every live episode
    is closed when the app shuts down.
    """
    _check_env_class(env_class)
    episodes = Episodes(env_class, idle_timeout=idle_timeout)
    contract = Contract(episodes)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        episodes.start_reaper()
        try:
            yield
        finally:
            await episodes.stop()

    app = FastAPI(title=env_class.__name__, lifespan=lifespan)
    routes: dict[str, tuple[bytes, Handler]] = {
        "/health": (b"GET", contract.health),
        "/reset": (b"POST", contract.reset),
        "/step": (b"POST", contract.step),
        "/render": (b"POST", contract.render),
        "/close": (b"POST", contract.close),
    }
    app.add_middleware(WireRoutes, routes=routes, max_body_bytes=max_body_bytes)
    return app


def serve(
    env_class: type[BaseEnv],
    host: str = "0.0.0.0",
    port: int = 8765,
    log_level: str = "info",
    *,
    idle_timeout: float | None = DEFAULT_IDLE_TIMEOUT,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
) -> None:
    """Serve ``env_class`` until interrupted; ``adapter.py`` parses ``--host``/``--port``.

    Uses uvicorn with uvloop and httptools when installed and no access log (a line per
    step would cost more than the step).
    """
    import uvicorn

    app = create_app(env_class, idle_timeout=idle_timeout, max_body_bytes=max_body_bytes)
    if not logging.getLogger().handlers:
        logging.basicConfig(level=log_level.upper(), format="%(levelname)s:  %(name)s: %(message)s")
    uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=False)
