"""Async client of the adapter wire contract (DESIGN.md, "The adapter wire contract").

Why aiohttp and not httpx: this client sits on the per-step path and the harness's budget
is < 1 ms of CPU per step. Measured on the dev machine (16 concurrent POST /step to a
loopback FastAPI adapter, client process CPU only): httpx.AsyncClient ~1.1 ms per request,
aiohttp.ClientSession ~0.1 ms. aiohttp already comes with LiteLLM.

One :class:`AdapterClient` keeps one keep-alive connection pool for its lifetime; the
aiohttp session is created lazily inside the running loop (aiohttp binds it to that loop).
Parsing is lenient the way the hosted platform's client is, and every failure surfaces as
one of the errors in :mod:`pytest_mesocosm.errors`; no aiohttp exception escapes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from pytest_mesocosm.errors import (
    ActionRejected,
    AdapterError,
    AdapterUnreachable,
    EnvError,
    EpisodeNotFound,
)

DEFAULT_CONTENT_TYPE = "application/json"
# Idle connections are dropped after 4 s, before uvicorn's default 5 s keep-alive closes
# them server-side: reusing a connection the server is closing fails the request.
_KEEPALIVE_SECONDS = 4.0
_JSON_HEADERS = {"Content-Type": "application/json"}
_TRUE = frozenset({"true", "1"})
_FALSE = frozenset({"false", "0"})
_EPISODE_ROUTES = frozenset({"/step", "/render", "/close"})
_STEP_SHAPE = "{observation, reward, terminated, truncated, info}"


@dataclass(slots=True)
class Observation:
    """What the env shows the agent: the data, its content type, maybe an episode prompt."""

    data: Any
    content_type: str = DEFAULT_CONTENT_TYPE
    system_prompt: str | None = None


@dataclass(slots=True)
class StepResponse:
    """One answer of ``POST /step``, already checked and normalised."""

    observation: Observation
    reward: float
    terminated: bool
    truncated: bool
    info: dict[str, Any]
    system_prompt: str | None = None


def _preview(value: Any, limit: int = 200) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def _shape_error(route: str, problem: str, body: Any) -> EnvError:
    message = f"{route} answered 200 but {problem}: {_preview(body)}"
    return EnvError(message, status=200, detail=body)


def _optional_str(route: str, field: str, value: Any, default: str | None) -> str | None:
    if value is None:
        return default
    if isinstance(value, str):
        return value
    raise _shape_error(route, f"{field!r} must be a string or null", value)


def parse_observation(body: Any, route: str = "POST /reset") -> Observation:
    """Read a reset/render body; a body without ``data`` is the observation itself."""
    if isinstance(body, dict) and "data" in body:
        return Observation(
            body["data"],
            _optional_str(route, "content_type", body.get("content_type"), DEFAULT_CONTENT_TYPE)
            or DEFAULT_CONTENT_TYPE,
            _optional_str(route, "system_prompt", body.get("system_prompt"), None),
        )
    return Observation(body)


def parse_reward(value: Any, route: str = "POST /step") -> float:
    """A finite float; numeric strings are accepted like the hosted client does."""
    if isinstance(value, (int, float)):
        reward = float(value)
    elif isinstance(value, str):
        try:
            reward = float(value.strip())
        except ValueError:
            raise _shape_error(route, "'reward' is not a number", value) from None
    else:
        raise _shape_error(route, "'reward' must be a number", value)
    if not math.isfinite(reward):
        raise _shape_error(route, "'reward' is not finite; rewards must be finite floats", value)
    return reward


def parse_flag(field: str, value: Any, route: str = "POST /step") -> bool:
    """A boolean that may also arrive as "true"/"false", "1"/"0" or 1/0."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
    raise _shape_error(route, f"{field!r} must be a boolean", value)


def parse_step(body: Any) -> StepResponse:
    """Read a step body; EnvError says which part breaks the contract's shape."""
    route = "POST /step"
    if not isinstance(body, dict):
        raise _shape_error(route, f"the body is not a JSON object {_STEP_SHAPE}", body)
    missing = [k for k in ("observation", "reward", "terminated", "truncated") if k not in body]
    if missing:
        raise _shape_error(route, f"lacks {', '.join(missing)} (expected {_STEP_SHAPE})", body)
    info = body.get("info")
    if info is None:
        info = {}
    elif not isinstance(info, dict):
        raise _shape_error(route, "'info' must be a JSON object", info)
    return StepResponse(
        observation=parse_observation(body["observation"], route),
        reward=parse_reward(body["reward"], route),
        terminated=parse_flag("terminated", body["terminated"], route),
        truncated=parse_flag("truncated", body["truncated"], route),
        info=info,
        system_prompt=_optional_str(route, "system_prompt", body.get("system_prompt"), None),
    )


def _detail(raw: bytes) -> Any:
    """The ``detail`` of an error body, else the body itself (JSON or text)."""
    try:
        body = json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")[:500]
    return body["detail"] if isinstance(body, dict) and "detail" in body else body


class AdapterClient:
    """Talks to one adapter over one keep-alive pool; use ``async with`` or call aclose()."""

    def __init__(self, base_url: str, *, timeout: float = 30.0, max_connections: int = 256):
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise AdapterError(
                f"adapter URL {base_url!r} is not an http URL; pass e.g. http://127.0.0.1:8765"
            )
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.max_connections = max_connections
        port = parts.port if parts.port is not None else "N"
        self._start_hint = (
            f"is the adapter running? start it with `python adapter.py --port {port}`"
        )
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def __aenter__(self) -> AdapterClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool; the client opens a new one if used again."""
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    def _get_session(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        session = self._session
        if session is not None and not session.closed:
            if self._loop is not loop:
                raise RuntimeError(
                    "AdapterClient is bound to the event loop it was first used in; "
                    "create one client per event loop"
                )
            return session
        connector = aiohttp.TCPConnector(
            limit=self.max_connections, keepalive_timeout=_KEEPALIVE_SECONDS
        )
        self._session = aiohttp.ClientSession(
            connector=connector, timeout=aiohttp.ClientTimeout(total=self.timeout)
        )
        self._loop = loop
        return self._session

    async def _send(self, method: str, path: str, payload: dict[str, Any] | None) -> bytes:
        """One request; returns the raw body of a 2xx/3xx answer, raises ours otherwise."""
        data = None
        if payload is not None:
            try:
                data = json.dumps(payload, allow_nan=False).encode()
            except (TypeError, ValueError) as exc:
                raise AdapterError(
                    f"cannot send {method} {path}: the body is not JSON ({exc}); "
                    "actions must be JSON values (bytes as base64, finite numbers)"
                ) from exc
        session = self._get_session()
        try:
            async with session.request(
                method, self.base_url + path, data=data, headers=_JSON_HEADERS if data else None
            ) as resp:
                raw = await resp.read()
                status = resp.status
        except asyncio.TimeoutError as exc:
            raise AdapterUnreachable(
                f"the adapter at {self.base_url} did not answer {method} {path} within "
                f"{self.timeout:g} s; {self._start_hint}"
            ) from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise AdapterUnreachable(
                f"cannot reach the adapter at {self.base_url} ({method} {path}: "
                f"{type(exc).__name__}: {exc}); {self._start_hint}"
            ) from exc
        if status >= 400:
            raise self._status_error(method, path, status, _detail(raw))
        return raw

    def _status_error(self, method: str, path: str, status: int, detail: Any) -> EnvError:
        said = f"the adapter at {self.base_url} answered {status} to {method} {path}: {detail}"
        if status == 404 and path in _EPISODE_ROUTES:
            return EpisodeNotFound(
                f"{said}; the episode is not live there (never reset, closed, or the adapter "
                "restarted)",
                status=status, detail=detail,
            )
        if status == 404:
            return EnvError(f"{said}; is {self.base_url} an adapter URL?", status=status,
                            detail=detail)
        if status == 422 and path == "/step":
            return ActionRejected(f"the env rejected the action (422): {detail}", status=status,
                                  detail=detail)
        if status >= 500:
            said += "; the environment raised an exception, see the adapter's log"
        return EnvError(said, status=status, detail=detail)

    async def request(self, method: str, path: str, payload: dict[str, Any] | None = None) -> Any:
        """Send one contract call and return its decoded JSON body, unchecked.

        The typed methods below build on this; the conformance checker uses it to look at
        the raw shape of an answer.
        """
        raw = await self._send(method, path, payload)
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise EnvError(
                f"{method} {path} on {self.base_url} answered a body that is not JSON: "
                f"{_preview(raw)}",
                status=200, detail=raw.decode("utf-8", "replace"),
            ) from exc

    async def health(self) -> dict[str, Any]:
        body = await self.request("GET", "/health")
        if not isinstance(body, dict):
            raise _shape_error("GET /health", 'the body is not {"status": "ok", ...}', body)
        return body

    async def reset(
        self, episode_id: str, seed: int | None, scenario_params: dict[str, Any] | None = None
    ) -> Observation:
        payload = {"episode_id": episode_id, "seed": seed, "scenario_params": scenario_params or {}}
        return parse_observation(await self.request("POST", "/reset", payload))

    async def step(self, episode_id: str, action: Any) -> StepResponse:
        return parse_step(
            await self.request("POST", "/step", {"episode_id": episode_id, "action": action})
        )

    async def close(self, episode_id: str) -> None:
        """Release the episode; an id the adapter does not know is not an error."""
        with contextlib.suppress(EpisodeNotFound):
            await self._send("POST", "/close", {"episode_id": episode_id})

    async def render(self, episode_id: str, mode: str = "text") -> Observation:
        body = await self.request("POST", "/render", {"episode_id": episode_id, "mode": mode})
        return parse_observation(body, "POST /render")
