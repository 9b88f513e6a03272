"""Login exchange, member and guest tokens, /v1/me, guest session limits."""

from __future__ import annotations

import base64
import json

import httpx
from platform_kit import Platform


def test_login_exchange_gives_a_member_token(platform: Platform) -> None:
    token = platform.login("alice")
    with platform.client(token) as client:
        me = client.get("/v1/me").json()
    assert me["type"] == "member" and me["username"] == "alice"
    assert isinstance(me["user_id"], int) and me["guest_session_id"] is None


def test_login_errors_have_the_hosted_messages(platform: Platform) -> None:
    with httpx.Client(base_url=platform.root) as client:
        answer = client.get("/auth/csrf/")
        assert answer.json() == {"detail": "CSRF cookie set"}
        csrf = {"X-CSRFToken": answer.headers["X-CSRFToken"]}
        missing = client.post("/auth/login/", json={"username": "alice"}, headers=csrf)
        assert (missing.status_code, missing.json()) == (
            400, {"detail": "Please provide username and password."})
        wrong = client.post("/auth/login/", json={"username": "alice", "password": "no"},
                            headers=csrf)
        assert (wrong.status_code, wrong.json()) == (400, {"detail": "Invalid credentials."})
        assert client.get("/auth/jwt/").status_code == 403
        assert client.get("/auth/login/").status_code == 405
    no_csrf = httpx.post(f"{platform.root}/auth/login/",
                         json={"username": "alice", "password": "pw-secret"})
    assert no_csrf.status_code == 403


def test_guest_session_and_me(platform: Platform) -> None:
    answer = httpx.post(f"{platform.bench}/v1/auth/guest")
    assert answer.status_code == 200
    body = answer.json()
    assert body["expires_at"].endswith("+00:00")
    assert "bench_guest=" in answer.headers["set-cookie"]
    with platform.client(body["guest_token"]) as client:
        me = client.get("/v1/me").json()
    assert me["type"] == "guest" and me["user_id"] is None and me["guest_session_id"]
    cookie_me = httpx.get(f"{platform.bench}/v1/me",
                          cookies={"bench_guest": body["guest_token"]}).json()
    assert cookie_me["type"] == "guest"
    out = httpx.post(f"{platform.bench}/v1/auth/guest/logout")
    assert out.json() == {"detail": "ok"}


def test_anonymous_me_has_all_four_keys_null(platform: Platform) -> None:
    me = httpx.get(f"{platform.bench}/v1/me").json()
    assert {k: me[k] for k in ("type", "user_id", "username", "guest_session_id")} == {
        "type": "anonymous", "user_id": None, "username": None, "guest_session_id": None}


def _forge(token: str, **changes: object) -> str:
    """Same signature, claims changed: must be refused."""
    head, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims.update(changes)
    raw = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{head}.{raw}.{signature}"


def test_one_token_kind_never_passes_as_the_other(platform: Platform) -> None:
    guest = platform.guest()
    member = platform.login("bob")
    with platform.client(guest) as client:
        assert client.get("/v1/teams").status_code == 403  # a guest, not a member
    dressed = _forge(guest, user_id=1, username="alice", type="member", aud="mesocosm-member")
    with platform.client(dressed) as client:
        assert client.get("/v1/me").json()["type"] == "anonymous"
    dressed = _forge(member, type="bench_guest", aud="mesocosm-guest",
                     guest_session_id="x")
    with platform.client(dressed) as client:
        assert client.get("/v1/me").json()["type"] == "anonymous"
    with platform.client("not-a-token") as client:
        assert client.get("/v1/me").json()["type"] == "anonymous"
        assert client.get("/v1/teams").json() == {"detail": "Authentication required"}


def test_me_context_for_members_only(platform: Platform) -> None:
    with platform.client(platform.login("carol")) as client:
        context = client.get("/v1/me", params={"include": "context"}).json()["context"]
        assert context["solo"] == {"env_count": 0, "run_count": 0}
        assert client.get("/v1/me/context").status_code == 200
    with platform.client(platform.guest()) as client:
        answer = client.get("/v1/me/context")
        assert (answer.status_code, answer.json()) == (
            403, {"detail": "SWECC member account required"})
    assert httpx.get(f"{platform.bench}/v1/me/runs").status_code == 401
