"""One HTTP client for the bench API and the login server.

:class:`HttpClient` holds one ``httpx.Client`` (connection reuse, cookies for the login
exchange), the timeout (``MESOCOSM_REQUEST_TIMEOUT_S``, 120 s as the hosted CLI), and the
retry policy, written with ``tenacity`` because httpx's own transport retries cover only
failed connects, not 429 or 5xx answers:

- a 429 with ``Retry-After`` (the run cooldown) is retried after that many seconds when it
  is short (``max_retry_wait``); a longer wait, or a 429 without it (the guest's daily
  limit), goes straight to the user, who can decide to wait;
- a 5xx, or a request that got no answer, is retried only for idempotent methods; a POST
  is never sent twice (a failed connect is, since nothing was sent);
- at most ``max_attempts`` tries, with a short jittered exponential backoff.

Every HTTP error becomes one :class:`~mesocosm_platform.errors.ApiError` subclass carrying
status, method, URL and the server's ``detail``; httpx exceptions never leak.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from typing import Any, TypeVar

import httpx
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from mesocosm_platform.errors import (
    ApiError,
    PlatformUnreachable,
    RateLimited,
    ServerError,
    error_class,
)
from pytest_mesocosm.agents.transport import parse_retry_after
from pytest_mesocosm.errors import PlatformError

TIMEOUT_VAR = "MESOCOSM_REQUEST_TIMEOUT_S"
DEFAULT_TIMEOUT_S = 120.0
MAX_ATTEMPTS = 3
MAX_RETRY_WAIT_S = 10.0
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
_Client = TypeVar("_Client", bound="HttpClient")
_backoff = wait_exponential_jitter(multiplier=0.2, max=2.0, jitter=0.2)


def request_timeout(env: Mapping[str, str]) -> float:
    """``MESOCOSM_REQUEST_TIMEOUT_S`` as seconds, else 120; a bad value names the variable."""
    raw = env.get(TIMEOUT_VAR, "").strip()
    if not raw:
        return DEFAULT_TIMEOUT_S
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise PlatformError(f"{TIMEOUT_VAR}={raw!r} is not a positive number of seconds; "
                            f"set it to e.g. {DEFAULT_TIMEOUT_S:g} or unset it")
    return value


def _detail(response: httpx.Response) -> Any:
    """The body's ``detail`` (any JSON), or the text of a non-JSON body, or None."""
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip()
        return text[:300] or None
    if isinstance(body, dict) and "detail" in body:
        return body["detail"]
    return body if body not in (None, "", {}, []) else None


def raise_for_status(response: httpx.Response) -> None:
    """Turn a 4xx/5xx answer into the matching :class:`ApiError`."""
    if response.status_code < 400:
        return
    kwargs: dict[str, Any] = {
        "status": response.status_code,
        "method": response.request.method,
        "url": str(response.request.url),
        "detail": _detail(response),
    }
    cls = error_class(response.status_code)
    if cls is RateLimited:
        raise RateLimited(retry_after=parse_retry_after(response.headers.get("Retry-After")),
                          **kwargs)
    raise cls(**kwargs)


class HttpClient:
    """A base URL, a bearer token, and the retry policy of the module docstring."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
        max_attempts: int = MAX_ATTEMPTS,
        max_retry_wait: float = MAX_RETRY_WAIT_S,
        transport: httpx.BaseTransport | None = None,
    ):
        headers = {"Accept": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        self.base_url = base_url.rstrip("/")
        self.max_attempts = max_attempts
        self.max_retry_wait = max_retry_wait
        self._http = httpx.Client(
            base_url=self.base_url, headers=headers, timeout=timeout, follow_redirects=True,
            transport=transport,
        )

    def __enter__(self: _Client) -> _Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def _retryable(self, method: str, exc: BaseException) -> bool:
        if isinstance(exc, RateLimited):
            return exc.retry_after is not None and exc.retry_after <= self.max_retry_wait
        if isinstance(exc, ServerError):
            return method in IDEMPOTENT
        if isinstance(exc, PlatformUnreachable):
            return exc.kind == "ConnectError" or method in IDEMPOTENT
        return False

    @staticmethod
    def _wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RateLimited) and exc.retry_after is not None:
            return exc.retry_after
        return float(_backoff(state))

    def _send_once(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            kind = type(exc).__name__
            url = self.url(path)
            hint = (f"no answer in time: raise {TIMEOUT_VAR} for slow answers"
                    if isinstance(exc, httpx.TimeoutException) else
                    "is the server running there? Check the URL flag or variable "
                    "(--bench-url, MESOCOSM_BASE_URL, --server-url, SWECC_SERVER_URL)")
            raise PlatformUnreachable(
                f"cannot reach {url} ({kind}: {exc or 'no answer'}); {hint}",
                method=method, url=url, kind=kind,
            ) from exc
        raise_for_status(response)
        return response

    def send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One call with the retry policy; raises :class:`ApiError` or ``PlatformUnreachable``."""
        method = method.upper()
        retrying = Retrying(
            stop=stop_after_attempt(self.max_attempts),
            wait=self._wait,
            retry=retry_if_exception(lambda exc: self._retryable(method, exc)),
            sleep=time.sleep,
            reraise=True,
        )
        return retrying(self._send_once, method, path, **kwargs)

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """:meth:`send`, then the JSON body (None for an empty one, e.g. a 204)."""
        response = self.send(method, path, **kwargs)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:
            raise ApiError(
                status=response.status_code, method=method.upper(), url=self.url(path),
                detail=f"the answer is not JSON: {response.text[:200]!r}",
            ) from exc
