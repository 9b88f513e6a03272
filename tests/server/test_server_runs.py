"""POST /v1/runs checks in the hosted order and messages; cancel, visibility, paging,
status, active runs, and the test episode.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from platform_kit import Platform, wordle_domain

BODY = {"domain_id": "runs", "binding_vow_version": "1.0.0",
        "agent_config": {"model": "ollama/llama3.2"}}


@pytest.fixture(scope="module")
def alice(platform: Platform, wordle_url: str) -> Iterator[httpx.Client]:
    with platform.client(platform.login("alice")) as client:
        domain = wordle_domain("runs", wordle_url)
        domain["binding_vow"]["techniques"] = [{"technique_id": "memory"}]
        assert client.post("/v1/domains", json=domain).status_code == 201
        yield client


def _detail(answer: httpx.Response) -> Any:
    return answer.json()["detail"]


def test_body_validation_has_pydantic_list_details(alice: httpx.Client) -> None:
    over = alice.post("/v1/runs", json={**BODY, "num_episodes": 21})
    assert over.status_code == 422
    assert over.json()["detail"][0]["msg"] == (
        "Value error, num_episodes (21) exceeds the platform maximum (20)")
    assert over.json()["detail"][0]["loc"] == ["body", "num_episodes"]
    seeds = alice.post("/v1/runs", json={**BODY, "num_episodes": 3, "seed_set": [1, 2]})
    assert seeds.status_code == 422
    assert seeds.json()["detail"][0]["msg"] == (
        "Value error, seed_set has 2 entries but num_episodes is 3; they must match, or "
        "omit seed_set to auto-generate seeds")
    missing = alice.post("/v1/runs", json={"domain_id": "runs"})
    assert missing.status_code == 422 and isinstance(missing.json()["detail"], list)


@pytest.mark.parametrize(("change", "status", "detail"), [
    ({"domain_id": "nope"}, 422, "Domain 'nope' not found"),
    ({"binding_vow_version": "2.0.0"}, 422,
     "Binding vow version mismatch: domain has '1.0.0', requested '2.0.0'"),
    ({"agent_config": {"model": "m", "techniques": [{"technique_id": "tool_calling"}]}}, 422,
     "Technique 'tool_calling' not declared in binding vow"),
    ({"team_id": "not-a-uuid"}, 422, "Invalid team_id"),
    ({"team_id": "2b0c7c59-8a8e-4a49-9a4b-111111111111"}, 403, "Not a member of this team"),
    ({"env_id": "e1"}, 404, "Environment 'e1' not found"),
])
def test_orchestrator_checks(alice: httpx.Client, change: dict[str, Any], status: int,
                             detail: str) -> None:
    answer = alice.post("/v1/runs", json={**BODY, **change})
    assert (answer.status_code, _detail(answer)) == (status, detail)


def test_guest_team_runs_are_refused(platform: Platform, alice: httpx.Client) -> None:
    with platform.client(platform.guest()) as guest:
        answer = guest.post("/v1/runs", json={
            **BODY, "team_id": "2b0c7c59-8a8e-4a49-9a4b-111111111111"})
    assert (answer.status_code, _detail(answer)) == (403, "Teams require member login")


def test_anonymous_post_with_a_bad_body_gets_401_first(platform: Platform) -> None:
    answer = httpx.post(f"{platform.bench}/v1/runs", json={"num_episodes": "many"})
    assert (answer.status_code, _detail(answer)) == (401, "Authentication required")


def test_visibility_defaults_and_changes(alice: httpx.Client) -> None:
    odd = alice.post("/v1/runs", json={**BODY, "visibility": "weird"}).json()
    listed = {r["id"]: r for r in alice.get("/v1/me/runs").json()}
    assert listed[odd["id"]]["visibility"] == "gallery_public"
    changed = alice.patch(f"/v1/runs/{odd['id']}/visibility", json={"visibility": "private"})
    assert changed.json()["visibility"] == "private"
    bad = alice.patch(f"/v1/runs/{odd['id']}/visibility", json={"visibility": "public"})
    assert (bad.status_code, _detail(bad)) == (
        422, "visibility must be 'private' or 'gallery_public'")
    missing = alice.patch("/v1/runs/nope/visibility", json={"visibility": "private"})
    assert (missing.status_code, _detail(missing)) == (404, "Run 'nope' not found")


def test_cancel_stops_pending_episodes(platform: Platform, alice: httpx.Client) -> None:
    run = alice.post("/v1/runs", json={**BODY, "num_episodes": 20}).json()
    cancelled = alice.post(f"/v1/runs/{run['id']}/cancel").json()
    assert cancelled["status"] == "cancelled" and cancelled["completed_at"]
    time.sleep(0.5)
    episodes = alice.get(f"/v1/runs/{run['id']}/episodes").json()
    stopped = [e for e in episodes if e["status"] == "cancelled"]
    assert stopped and all(
        e["terminal_info"] == {"cancelled": True, "reason": "run_cancelled"} for e in stopped)
    assert all(e["status"] not in ("pending", "running") for e in episodes)
    again = alice.post(f"/v1/runs/{run['id']}/cancel").json()
    assert again["status"] == "cancelled"  # terminal: returned unchanged


def test_paging_status_and_active(alice: httpx.Client) -> None:
    ids = [alice.post("/v1/runs", json={**BODY, "agent_config": {"model": "script:x.py:f"}}
                      ).json()["id"] for _ in range(3)]
    first = alice.get("/v1/runs", params={"limit": 2, "domain_id": "runs"}).json()
    assert [r["id"] for r in first] == ids[::-1][:2]
    second = alice.get("/v1/runs", params={"limit": 2, "domain_id": "runs",
                                           "cursor": first[-1]["id"]}).json()
    assert second[0]["id"] == ids[0]
    early = alice.get("/v1/runs", params={"created_before": "2000-01-01T00:00:00"}).json()
    assert early == []
    bad = alice.get("/v1/runs", params={"created_before": "yesterday"})
    assert (bad.status_code, _detail(bad)) == (422, "created_before must be an ISO-8601 datetime")
    assert alice.get("/v1/runs", params={"limit": 101}).status_code == 422
    status = alice.get("/v1/runs/status", params={"ids": ",".join([*ids, "nope"])}).json()
    assert set(status["runs"]) == set(ids)
    assert _detail(alice.get("/v1/runs/status")) == "ids is required"
    many = ",".join(f"r{i}" for i in range(51))
    assert _detail(alice.get("/v1/runs/status", params={"ids": many})) == (
        "At most 50 run ids per request")
    assert isinstance(alice.get("/v1/runs/active").json(), list)
    item = alice.get("/v1/me/runs").json()[0]
    for key in ("completed_count", "failed_count", "avg_reward", "actor_type", "actor_id",
                "actor_username", "visibility"):
        assert key in item
    assert item["actor_username"] == "alice"


def test_test_episode_plays_one_episode(platform: Platform, alice: httpx.Client,
                                        wordle_url: str) -> None:
    answer = alice.post("/v1/test/episode", json={
        "domain_id": "runs", "binding_vow_version": "9.9.9",
        "agent_config": {"model": "ollama/llama3.2"}, "seed": 3, "env_url": wordle_url})
    assert answer.status_code == 200, answer.text
    episode = answer.json()
    assert episode["seed"] == 3 and episode["status"] in ("completed", "truncated")
    assert alice.get(f"/v1/test/episode/{episode['id']}").json() == episode
    trace = alice.get(f"/v1/test/episode/{episode['id']}/trace").json()
    assert trace[0]["event_type"] == "episode_start"
    assert httpx.get(f"{platform.bench}/v1/test/episode/{episode['id']}").status_code == 403
    missing = alice.get("/v1/test/episode/nope")
    assert (missing.status_code, _detail(missing)) == (404, "Episode 'nope' not found")
    nowhere = alice.post("/v1/test/episode", json={
        "domain_id": "nope", "binding_vow_version": "1", "agent_config": {"model": "m"}})
    assert (nowhere.status_code, _detail(nowhere)) == (404, "Domain 'nope' not found")
