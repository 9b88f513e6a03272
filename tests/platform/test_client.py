"""The platform client over real loopback HTTP: error classes and lines, retries, timeouts."""

from __future__ import annotations

import time
from typing import Any

import pytest
from support import closed_port_url

from mesocosm_platform.api import BenchApi, LoginFailed, member_login
from mesocosm_platform.client import HttpClient, request_timeout
from mesocosm_platform.errors import (
    ApiError,
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    PlatformUnreachable,
    RateLimited,
    ServerError,
    Unauthorized,
    ValidationFailed,
)
from pytest_mesocosm.agents.transport import parse_retry_after as retry_after_seconds
from pytest_mesocosm.errors import PlatformError

VALIDATION = [{"type": "value_error", "loc": ["body", "num_episodes"],
               "msg": "Value error, num_episodes (21) exceeds the platform maximum (20)",
               "input": 21}]


@pytest.mark.parametrize(
    ("status", "detail", "cls", "tail"),
    [
        (400, "Environment is not ready (status: failed)", BadRequest,
         ": Environment is not ready (status: failed)"),
        (401, "Authentication required", Unauthorized, ": Authentication required"),
        (403, "Not a member of this team", Forbidden, ": Not a member of this team"),
        (404, "Run 'x' not found", NotFound, ": Run 'x' not found"),
        (409, {"message": "This repository is already being onboarded", "environment_id": "e"},
         Conflict, ': {"message": "This repository is already being onboarded", '
         '"environment_id": "e"}'),
        (422, VALIDATION, ValidationFailed,
         ": body.num_episodes: Value error, num_episodes (21) exceeds the platform maximum (20)"),
        (429, "Guest run limit reached (5 runs per day). Sign in to continue.", RateLimited,
         ": Guest run limit reached (5 runs per day). Sign in to continue."),
        (500, "Internal server error", ServerError, ": Internal server error"),
        (418, None, ApiError, ""),
    ],
)
def test_each_status_is_its_class_with_the_hosted_line(
    scripted: Any, status: int, detail: Any, cls: type[ApiError], tail: str
) -> None:
    body = None if detail is None else {"detail": detail}
    scripted.script("POST /v1/teams", *[(status, {}, body)] * 3)
    with BenchApi(scripted.url, token="t") as api, pytest.raises(cls) as caught:
        api.create_team("x")
    exc = caught.value
    assert isinstance(exc, PlatformError)
    assert (exc.status, exc.method, exc.url, exc.detail) == (
        status, "POST", f"{scripted.url}/v1/teams", detail)
    assert str(exc) == f"HTTP {status} for POST {scripted.url}/v1/teams{tail}"
    assert "\n" not in str(exc)


def test_bearer_token_and_json_body_are_sent(scripted: Any) -> None:
    scripted.script("POST /v1/teams", (201, {}, {"team_id": "t1"}))
    with BenchApi(scripted.url, token="jwt-1") as api:
        assert api.create_team("Crew") == {"team_id": "t1"}
    (seen,) = scripted.seen
    assert seen.headers["Authorization"] == "Bearer jwt-1"
    assert seen.body == {"name": "Crew"}


def test_ids_cannot_change_the_route(scripted: Any) -> None:
    with BenchApi(scripted.url) as api, pytest.raises(NotFound):
        api.get_run("../teams?x=1")
    assert scripted.seen[0].path == "/v1/runs/..%2Fteams%3Fx%3D1"


def test_429_with_a_short_retry_after_is_retried(scripted: Any) -> None:
    scripted.script("POST /v1/runs", (429, {"Retry-After": "0"}, {"detail": "wait"}),
                    (202, {}, {"id": "r1"}))
    with BenchApi(scripted.url) as api:
        assert api.create_run({}) == {"id": "r1"}
    assert len(scripted.requests("POST /v1/runs")) == 2


def test_a_long_cooldown_goes_to_the_user_at_once(scripted: Any) -> None:
    scripted.script("POST /v1/runs", (429, {"Retry-After": "120"}, {"detail": "Please wait"}))
    started = time.monotonic()
    with BenchApi(scripted.url) as api, pytest.raises(RateLimited) as caught:
        api.create_run({})
    assert caught.value.retry_after == 120
    assert time.monotonic() - started < 5
    assert len(scripted.seen) == 1


def test_429_without_retry_after_is_not_retried(scripted: Any) -> None:
    scripted.script("POST /v1/runs", (429, {}, {"detail": "Guest run limit reached"}))
    with BenchApi(scripted.url) as api, pytest.raises(RateLimited):
        api.create_run({})
    assert len(scripted.seen) == 1


def test_5xx_is_retried_for_reads_only(scripted: Any) -> None:
    scripted.script("GET /v1/runs/r", (503, {}, {"detail": "busy"}), (200, {}, {"id": "r"}))
    scripted.script("POST /v1/runs", (502, {}, {"detail": "bad gateway"}), (202, {}, {}))
    with BenchApi(scripted.url) as api:
        assert api.get_run("r") == {"id": "r"}
        with pytest.raises(ServerError):
            api.create_run({})
    assert len(scripted.requests("GET /v1/runs/r")) == 2
    assert len(scripted.requests("POST /v1/runs")) == 1


def test_retries_are_bounded(scripted: Any) -> None:
    scripted.script("GET /v1/me", *[(500, {}, {"detail": "boom"})] * 5)
    with BenchApi(scripted.url, max_attempts=3) as api, pytest.raises(ServerError):
        api.me()
    assert len(scripted.seen) == 3


def test_timeout_is_a_one_line_unreachable(scripted: Any) -> None:
    scripted.delay = 1.0
    with (HttpClient(scripted.url, timeout=0.2, max_attempts=1) as http,
          pytest.raises(PlatformUnreachable) as caught):
        http.call("GET", "/v1/me")
    assert caught.value.kind == "ReadTimeout"
    assert "MESOCOSM_REQUEST_TIMEOUT_S" in str(caught.value)


def test_nothing_listening_is_unreachable() -> None:
    dead_url = closed_port_url()
    with BenchApi(dead_url) as api, pytest.raises(PlatformUnreachable) as caught:
        api.me()
    assert caught.value.kind == "ConnectError"
    assert str(caught.value).startswith(f"cannot reach {dead_url}/v1/me (ConnectError")


def test_request_timeout_variable() -> None:
    assert request_timeout({}) == 120
    assert request_timeout({"MESOCOSM_REQUEST_TIMEOUT_S": "2.5"}) == 2.5
    for bad in ("soon", "0", "-1", "nan"):
        with pytest.raises(PlatformError, match="MESOCOSM_REQUEST_TIMEOUT_S="):
            request_timeout({"MESOCOSM_REQUEST_TIMEOUT_S": bad})


def test_retry_after_forms() -> None:
    assert retry_after_seconds("7") == 7
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0
    assert retry_after_seconds("later") is None


def _login_script(scripted: Any, login: tuple[int, dict[str, str], Any]) -> None:
    scripted.script("GET /auth/csrf/", (200, {"X-CSRFToken": "c1", "Set-Cookie": "csrftoken=c1"},
                                        {"detail": "CSRF cookie set"}))
    scripted.script("POST /auth/login/", login)
    scripted.script("GET /auth/jwt/", (200, {}, {"token": "member-jwt"}))


def test_login_exchange_sends_csrf_and_keeps_cookies(scripted: Any) -> None:
    _login_script(scripted, (200, {"Set-Cookie": "sessionid=s1; Path=/"},
                             {"detail": "Successfully logged in."}))
    assert member_login(scripted.url, " ada ", "pw") == "member-jwt"
    login, jwt = scripted.requests("POST /auth/login/")[0], scripted.requests("GET /auth/jwt/")[0]
    assert login.headers["X-CSRFToken"] == "c1"
    assert login.body == {"username": "ada", "password": "pw"}
    assert "sessionid=s1" in jwt.headers["Cookie"]


@pytest.mark.parametrize(
    ("status", "detail", "message"),
    [(400, "Invalid credentials.", "Invalid username or password"),
     (403, "Account disabled", "Account access denied: Account disabled"),
     (500, "Internal server error", "Authentication failed (HTTP 500): Internal server error")],
)
def test_login_refusals_use_the_hosted_words(
    scripted: Any, status: int, detail: str, message: str
) -> None:
    _login_script(scripted, (status, {}, {"detail": detail}))
    with pytest.raises(LoginFailed) as caught:
        member_login(scripted.url, "ada", "pw", timeout=5)
    assert str(caught.value) == message
