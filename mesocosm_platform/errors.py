"""What can go wrong talking to the bench platform, as one tree under ``PlatformError``::

    PlatformError                 (pytest_mesocosm/errors.py)
    ├── CredentialsError          (credentials.py) the credentials file is unusable
    ├── NotAuthenticated          no token anywhere: log in or start a guest session
    ├── MemberRequired            a guest token on a member-only command
    ├── PlatformUnreachable       no answer: connection refused, DNS, timeout
    └── ApiError                  the platform answered 4xx/5xx (status, method, url, detail)
        ├── BadRequest            400
        ├── Unauthorized          401
        ├── Forbidden             403
        ├── NotFound              404
        ├── Conflict              409
        ├── ValidationFailed      422 (``detail`` may be pydantic's list of problems)
        ├── RateLimited           429 (``retry_after`` seconds when the server said)
        └── ServerError           5xx

``str()`` of an :class:`ApiError` is the hosted CLI's one line,
``HTTP 403 for POST https://host/bench/v1/teams: Not a member of this team``.
"""

from __future__ import annotations

import json
from typing import Any

from pytest_mesocosm.errors import PlatformError

NOT_AUTHENTICATED = (
    "Not authenticated. Run: mesocosm auth login  (member)  or  mesocosm auth guest"
)
MEMBER_REQUIRED = "This command requires a member account. Run: mesocosm auth login"


class NotAuthenticated(PlatformError):
    """No token in the environment or the credentials file."""

    def __init__(self, message: str = NOT_AUTHENTICATED):
        super().__init__(message)


class MemberRequired(PlatformError):
    """The saved session is a guest's and the command needs a member."""

    def __init__(self, message: str = MEMBER_REQUIRED):
        super().__init__(message)


class PlatformUnreachable(PlatformError):
    """The request got no HTTP answer; ``url`` is where it went, ``kind`` the httpx error."""

    def __init__(self, message: str, *, method: str, url: str, kind: str):
        super().__init__(message)
        self.method = method
        self.url = url
        self.kind = kind


class ApiError(PlatformError):
    """An HTTP error answer; ``detail`` is the body's ``detail`` as the server sent it."""

    status: int

    def __init__(self, *, status: int, method: str, url: str, detail: Any = None):
        super().__init__(_line(status, method, url, detail), status=status, detail=detail)
        self.method = method
        self.url = url


class BadRequest(ApiError):
    """400."""


class Unauthorized(ApiError):
    """401: the token is missing, expired or not valid here."""


class Forbidden(ApiError):
    """403: authenticated, but not allowed (not a member, not the owner, a guest...)."""


class NotFound(ApiError):
    """404."""


class Conflict(ApiError):
    """409: the resource's state forbids it (exists already, team full, still cloning...)."""


class ValidationFailed(ApiError):
    """422: the body or a parameter was refused."""


class RateLimited(ApiError):
    """429; ``retry_after`` is the server's ``Retry-After`` in seconds, if it sent one."""

    def __init__(self, *, retry_after: float | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.retry_after = retry_after


class ServerError(ApiError):
    """5xx: the platform failed."""


_BY_STATUS: dict[int, type[ApiError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    422: ValidationFailed,
    429: RateLimited,
}


def error_class(status: int) -> type[ApiError]:
    if status >= 500:
        return ServerError
    return _BY_STATUS.get(status, ApiError)


def describe_detail(detail: Any) -> str:
    """One line for a ``detail``: a string as is, pydantic's list as ``loc: msg; ...``."""
    if isinstance(detail, str):
        return detail
    if isinstance(detail, list) and all(isinstance(d, dict) and "msg" in d for d in detail):
        parts = []
        for item in detail:
            loc = ".".join(str(p) for p in item.get("loc") or [])
            parts.append(f"{loc}: {item['msg']}" if loc else str(item["msg"]))
        return "; ".join(parts)
    return json.dumps(detail, ensure_ascii=False)


def _line(status: int, method: str, url: str, detail: Any) -> str:
    head = f"HTTP {status} for {method} {url}"
    if detail is None or detail == "":
        return head
    return f"{head}: {' '.join(describe_detail(detail).split())}"
