"""Teams: create, join by code, the four-member cap, leave, remove, transfer, delete."""

from __future__ import annotations

import httpx
from platform_kit import Platform


def test_team_life_cycle(platform: Platform) -> None:
    platform.add_users("dan", "erin", "fay")
    tokens = {n: platform.login(n) for n in ("alice", "bob", "carol", "dan", "erin")}
    clients = {n: platform.client(t) for n, t in tokens.items()}
    try:
        alice, bob = clients["alice"], clients["bob"]
        created = alice.post("/v1/teams", json={"name": "Team Rocket!"})
        assert created.status_code == 201
        team = created.json()
        assert team["slug"] == "team-rocket" and team["role"] == "owner"
        assert team["member_count"] == 1 and team["max_members"] == 4
        code, team_id = team["join_code"], team["team_id"]
        assert len(code) == 4
        taken = alice.post("/v1/teams", json={"name": "x", "slug": "team-rocket"})
        assert taken.status_code == 409

        joined = bob.post("/v1/teams/join", json={"code": code.lower()})
        assert joined.status_code == 200 and joined.json()["role"] == "member"
        assert bob.get(f"/v1/teams/{team_id}").json()["join_code"] is None
        assert bob.post("/v1/teams/join", json={"code": code}).json()["member_count"] == 2
        for name in ("carol", "dan"):
            assert clients[name].post("/v1/teams/join", json={"code": code}).status_code == 200
        full = clients["erin"].post("/v1/teams/join", json={"code": code})
        assert (full.status_code, full.json()) == (
            409, {"detail": "Team is full (maximum 4 members)"})
        unknown = bob.post("/v1/teams/join", json={"code": "ZZZZ" if code != "ZZZZ" else "YYYY"})
        assert (unknown.status_code, unknown.json()) == (404, {"detail": "Invalid join code"})
        short = bob.post("/v1/teams/join", json={"code": " ab "})
        assert (short.status_code, short.json()) == (
            422, {"detail": "Join code must be 4 characters"})
        assert bob.post("/v1/teams/join", json={"code": "abc"}).status_code == 422

        outsider = clients["erin"].get(f"/v1/teams/{team_id}")
        assert (outsider.status_code, outsider.json()) == (
            403, {"detail": "Not a member of this team"})
        bad = alice.get("/v1/teams/not-a-uuid")
        assert (bad.status_code, bad.json()) == (422, {"detail": "Invalid team_id"})

        regen = bob.post(f"/v1/teams/{team_id}/join-code/regenerate")
        assert regen.json() == {
            "detail": "Only the team owner can regenerate the join code"}
        assert alice.post(f"/v1/teams/{team_id}/join-code/regenerate").json()["join_code"] != code

        owner_leaves = alice.delete(f"/v1/teams/{team_id}/members/me")
        assert owner_leaves.json() == {
            "detail": "Owner must transfer ownership or delete the team before leaving"}
        assert clients["dan"].delete(f"/v1/teams/{team_id}/members/me").json() == {
            "detail": "left"}
        me = alice.get("/v1/me").json()
        carol_id = clients["carol"].get("/v1/me").json()["user_id"]
        assert alice.delete(f"/v1/teams/{team_id}/members/{carol_id}").json() == {
            "detail": "removed"}
        self_remove = alice.delete(f"/v1/teams/{team_id}/members/{me['user_id']}")
        assert self_remove.status_code == 404
        gone = alice.delete(f"/v1/teams/{team_id}/members/{carol_id}")
        assert (gone.status_code, gone.json()) == (404, {"detail": "User is not on this team"})

        bob_id = bob.get("/v1/me").json()["user_id"]
        not_member = alice.post(f"/v1/teams/{team_id}/transfer",
                                json={"new_owner_user_id": carol_id})
        assert (not_member.status_code, not_member.json()) == (
            422, {"detail": "New owner must already be a team member"})
        assert alice.post(f"/v1/teams/{team_id}/transfer",
                          json={"new_owner_user_id": bob_id}).json() == {"detail": "transferred"}
        assert bob.get(f"/v1/teams/{team_id}").json()["role"] == "owner"
        denied = alice.delete(f"/v1/teams/{team_id}")
        assert (denied.status_code, denied.json()) == (
            403, {"detail": "Only the team owner can delete the team"})
        assert bob.delete(f"/v1/teams/{team_id}").status_code == 204
        assert bob.get("/v1/teams").json() == []
    finally:
        for client in clients.values():
            client.close()


def test_guests_and_anonymous_may_not_use_teams(platform: Platform) -> None:
    assert httpx.get(f"{platform.bench}/v1/teams").json() == {
        "detail": "Authentication required"}
    with platform.client(platform.guest()) as guest:
        answer = guest.post("/v1/teams", json={"name": "x"})
    assert (answer.status_code, answer.json()) == (
        403, {"detail": "SWECC member account required"})


def test_a_value_the_database_refuses_is_a_422_not_a_500(platform: Platform) -> None:
    """PostgreSQL takes no NUL character in text (SQLite stores it): a 422, never a 500."""
    refuses = platform.database_url.startswith("postgresql")
    with platform.client(platform.login("alice")) as alice:
        joined = alice.post("/v1/teams/join", json={"code": "A\u0000BC"})
        assert joined.status_code == (422 if refuses else 404), joined.text
        named = alice.post("/v1/teams", json={"name": "nul\u0000team"})
        assert named.status_code == (422 if refuses else 201), named.text
    if refuses:
        (problem,) = joined.json()["detail"]
        assert problem["msg"].startswith("a value cannot be stored: ")
