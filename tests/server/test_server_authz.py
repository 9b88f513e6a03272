"""The authorization matrix: every route x {anonymous, guest, member, other member,
teammate, owner}, asserting who may read and write what.

alice owns the domain, the team (bob is her teammate) and a private team run; the guest
owns a guest run; dan is a member with nothing, carol another member with her own run.
Writes that would destroy the fixtures are asserted for everyone but the owner (the
owner's success is covered by the resource's own tests).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from platform_kit import Platform, wordle_domain
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

PERSONAS = ("anonymous", "guest", "member", "other", "teammate", "owner")
A, G, M, X, T, W = PERSONAS  # short names for the table below
SKIP = None

# (method, path, body, {persona: expected status}); "*" is everyone not named.
ROUTES: list[tuple[str, str, Any, dict[str, int | None]]] = [
    ("GET", "/health", None, {"*": 200}),
    ("GET", "/v1/me", None, {"*": 200}),
    ("GET", "/v1/me/context", None, {A: 401, G: 403, "*": 200}),
    ("GET", "/v1/me/runs", None, {A: 401, "*": 200}),
    ("GET", "/v1/teams", None, {A: 401, G: 403, "*": 200}),
    ("POST", "/v1/teams", {"name": "matrix"}, {A: 401, G: 403, "*": 201}),
    ("GET", "/v1/teams/{team}", None, {A: 401, G: 403, M: 403, X: 403, "*": 200}),
    ("GET", "/v1/teams/{team}/runs", None, {A: 401, G: 403, M: 403, X: 403, "*": 200}),
    ("GET", "/v1/teams/{team}/leaderboard", None,
     {A: 401, G: 403, M: 403, X: 403, "*": 200}),
    ("POST", "/v1/teams/{team}/join-code/regenerate", None, {A: 401, G: 403, W: 200, "*": 403}),
    ("DELETE", "/v1/teams/{team}/members/{bob}", None, {A: 401, G: 403, W: SKIP, "*": 403}),
    ("POST", "/v1/teams/{team}/transfer", {"new_owner_user_id": 0},
     {A: 401, G: 403, W: SKIP, "*": 403}),
    ("DELETE", "/v1/teams/{team}", None, {A: 401, G: 403, W: SKIP, "*": 403}),
    ("POST", "/v1/teams/join", {"code": "????"}, {A: 401, G: 403, "*": 404}),
    ("GET", "/v1/domains", None, {"*": 200}),
    ("GET", "/v1/domains/authz", None, {"*": 200}),
    ("POST", "/v1/domains", "new-domain", {A: 401, G: 403, "*": 201}),
    ("PATCH", "/v1/domains/authz", {"detail": "x"}, {A: 401, G: 403, W: 409, "*": 403}),
    ("POST", "/v1/domains/authz/publish", None, {A: 401, G: 403, W: 200, "*": 403}),
    ("POST", "/v1/domains/authz/unpublish", None, {A: 401, G: 403, W: SKIP, "*": 403}),
    ("POST", "/v1/domains/authz/archive", None, {A: 401, G: 403, W: SKIP, "*": 403}),
    ("GET", "/v1/domains/authz/runs/mine", None, {A: 401, "*": 200}),
    ("GET", "/v1/domains/authz/runs/gallery", None, {"*": 200}),
    ("POST", "/v1/runs", "new-run", {A: 401, "*": 202}),
    ("GET", "/v1/runs", None, {"*": 200}),
    ("GET", "/v1/runs/active", None, {"*": 200}),
    ("GET", "/v1/runs/{run}", None, {T: 200, W: 200, "*": 403}),
    ("GET", "/v1/runs/{run}/episodes", None, {T: 200, W: 200, "*": 403}),
    ("GET", "/v1/runs/{run}/traces", None, {T: 200, W: 200, "*": 403}),
    ("GET", "/v1/runs/{run}/export", None, {T: 200, W: 200, "*": 403}),
    ("POST", "/v1/runs/{run}/cancel", None, {A: 401, T: 200, W: 200, "*": 403}),
    ("PATCH", "/v1/runs/{run}/visibility", {"visibility": "private"},
     {A: 401, T: 200, W: 200, "*": 403}),
    ("GET", "/v1/runs/{guest_run}", None, {G: 200, "*": 403}),
    ("GET", "/v1/runs/{guest_run}/traces", None, {G: 200, "*": 403}),
    ("POST", "/v1/runs/{guest_run}/cancel", None, {A: 401, G: 200, "*": 403}),
    ("PATCH", "/v1/runs/{guest_run}/visibility", {"visibility": "private"},
     {A: 401, "*": 403}),
    ("POST", "/v1/test/episode", "test-episode", {A: 401, G: 403, W: SKIP, "*": 403}),
    ("POST", "/v1/developer/environments", "new-env", {A: 401, G: 403, "*": 201}),
    ("GET", "/v1/developer/environments", None, {A: 401, G: 403, "*": 200}),
    ("GET", "/v1/developer/environments?team_id={team}", None,
     {A: 401, G: 403, T: 200, W: 200, "*": 403}),
    ("GET", "/v1/teams/{team}/environments", None, {A: 401, G: 403, T: 200, W: 200, "*": 403}),
    ("GET", "/v1/developer/environments/{env}", None, {T: 200, W: 200, "*": 403}),
    ("GET", "/v1/developer/environments/{env}/poll", None, {T: 200, W: 200, "*": 403}),
    ("GET", "/v1/developer/environments/{env}/usage", None, {T: 200, W: 200, "*": 403}),
    ("GET", "/v1/developer/environments/{env}/runs", None,
     {A: 401, G: 403, T: 200, W: 200, "*": 403}),
    ("POST", "/v1/developer/environments/{env}/retry", None, {T: SKIP, W: SKIP, "*": 403}),
    ("DELETE", "/v1/developer/environments/{env}", None, {T: SKIP, W: SKIP, "*": 403}),
    ("GET", "/v1/developer/environments/nope", None, {"*": 404}),
    ("GET", "/v1/developer/domains/authz/usage", None, {A: 401, G: 403, W: 200, "*": 403}),
    ("GET", "/v1/leaderboards/authz", None, {"*": 200}),
    ("GET", "/v1/leaderboards?domain_ids=authz", None, {"*": 200}),
    ("GET", "/v1/gallery/runs", None, {"*": 200}),
    ("GET", "/v1/gallery/domains/authz/activity", None, {"*": 200}),
    ("GET", "/v1/gallery/domains/nope/activity", None, {"*": 404}),
    ("GET", "/v1/techniques", None, {"*": 200}),
    ("GET", "/v1/techniques/memory", None, {"*": 200}),
    ("GET", "/v1/techniques/nope", None, {"*": 404}),
    ("GET", "/v1/admin/status", None, {A: 401, W: 200, "*": 403}),  # alice is the admin
    # WebSocket handshakes: 101 accepted, else the HTTP denial status
    ("WS", "/v1/ws/episodes/{episode}/trace", None, {T: 101, W: 101, "*": 403}),
    ("WS", "/v1/ws/episodes/{guest_episode}/trace", None, {G: 101, "*": 403}),
    ("WS", "/v1/ws/episodes/nope/trace", None, {"*": 404}),
]


@pytest.fixture(scope="module")
def world(platform: Platform, wordle_url: str) -> Iterator[dict[str, Any]]:
    platform.add_users("dan")
    tokens: dict[str, str | None] = {
        A: None, G: platform.guest(), M: platform.login("dan"), X: platform.login("carol"),
        T: platform.login("bob"), W: platform.login("alice")}
    clients = {p: platform.client(t) for p, t in tokens.items()}
    owner = clients[W]
    assert owner.post("/v1/domains", json=wordle_domain("authz", wordle_url)).status_code == 201
    team = owner.post("/v1/teams", json={"name": "authz"}).json()
    assert clients[T].post("/v1/teams/join", json={"code": team["join_code"]}).status_code == 200
    run_body = {"domain_id": "authz", "binding_vow_version": "1.0.0",
                "agent_config": {"model": "script:missing.py:f"}}
    run = owner.post("/v1/runs", json={**run_body, "team_id": team["team_id"],
                                       "visibility": "private"}).json()
    guest_run = clients[G].post("/v1/runs", json=run_body).json()
    assert clients[X].post("/v1/runs", json=run_body).status_code == 202
    env = owner.post("/v1/developer/environments", json={  # fails to clone: fine here
        "name": "authz", "github_url": "/nonexistent/authz", "team_id": team["team_id"]})
    names = {"team": team["team_id"], "run": run["id"], "guest_run": guest_run["id"],
             "env": env.json()["id"],
             "bob": clients[T].get("/v1/me").json()["user_id"],
             "episode": owner.get(f"/v1/runs/{run['id']}/episodes").json()[0]["id"],
             "guest_episode": clients[G].get(
                 f"/v1/runs/{guest_run['id']}/episodes").json()[0]["id"]}
    yield {"clients": clients, "names": names, "run_body": run_body, "wordle_url": wordle_url}
    for client in clients.values():
        client.close()


def _cases() -> list[Any]:
    cases = []
    for method, path, body, expected in ROUTES:
        for persona in PERSONAS:
            status = expected.get(persona, expected.get("*"))
            if status is not None:
                cases.append(pytest.param(method, path, body, persona, status,
                                          id=f"{method} {path} as {persona}"))
    return cases


def _body(kind: Any, world: dict[str, Any], persona: str) -> Any:
    if kind == "new-domain":
        return wordle_domain(f"authz-{persona}", world["wordle_url"])
    if kind == "new-env":
        return {"name": f"authz-{persona}", "github_url": f"/nonexistent/authz-{persona}"}
    if kind == "new-run":
        return world["run_body"]
    if kind == "test-episode":
        return {"domain_id": "authz", "binding_vow_version": "1.0.0",
                "agent_config": {"model": "script:missing.py:f"}}
    return kind


def _handshake(client: httpx.Client, path: str) -> int:
    """The WebSocket handshake's status (101, or the denial), reading the socket to its
    close when accepted: every message is a trace event of the episode asked for."""
    url = str(client.base_url).replace("http://", "ws://", 1).rstrip("/") + path
    headers = {"Authorization": client.headers["authorization"]} if (
        "authorization" in client.headers) else {}
    try:
        with connect(url, additional_headers=headers, open_timeout=30) as socket:
            for message in socket:
                assert json.loads(message)["episode_id"] in path
    except InvalidStatus as exc:
        return exc.response.status_code
    return 101


@pytest.mark.parametrize(("method", "path", "body", "persona", "status"), _cases())
def test_authorization(world: dict[str, Any], method: str, path: str, body: Any,
                       persona: str, status: int) -> None:
    client: httpx.Client = world["clients"][persona]
    url = path.format(**world["names"])
    if method == "WS":
        assert _handshake(client, url) == status
        return
    answer = client.request(method, url, json=_body(body, world, persona))
    assert answer.status_code == status, answer.text
    if status == 401:
        assert answer.json() == {"detail": "Authentication required"}


@pytest.mark.parametrize("persona", PERSONAS)
def test_run_lists_show_only_what_each_may_read(world: dict[str, Any], persona: str) -> None:
    client: httpx.Client = world["clients"][persona]
    names = world["names"]
    listed = {r["id"] for r in client.get("/v1/runs").json()}
    status = client.get("/v1/runs/status", params={"ids": f"{names['run']},{names['guest_run']}"})
    visible = set(status.json()["runs"])
    team_run = persona in (T, W)
    assert (names["run"] in visible) == team_run
    assert (names["guest_run"] in visible) == (persona == G)
    assert (names["guest_run"] in listed) == (persona == G)
    assert (names["run"] in listed) == (persona == W)  # /v1/runs lists the caller's own
