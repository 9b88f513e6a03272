"""Techniques (listed, and their contexts in the prompts the server's worker sends),
a domain's activity feed, the admin status and the trace WebSocket, on a server whose
model is a recording fake Ollama.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fakes.ollama_server import FakeOllama
from platform_kit import Platform, wordle_domain
from test_hosted_profile import FREE_CLOSING
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

REDACTED = "[redacted: not visible on public gallery]"
LATENCY = 0.5  # per model call: an episode of six guesses lasts about 3 s


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeOllama]:
    with FakeOllama(replies=["slate"], latency=LATENCY) as server:
        yield server


@pytest.fixture(scope="module")
def server(database_url: str, fake: FakeOllama, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[Platform]:
    platform = Platform(tmp_path_factory.mktemp("catalogue"), database_url,
                        env={"OLLAMA_HOST": fake.url}, flags=["--admins", "alice"])
    platform.add_users("alice", "bob")
    platform.start()
    yield platform
    platform.stop()


def _wait(client: httpx.Client, run_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while True:
        run: dict[str, Any] = client.get(f"/v1/runs/{run_id}").json()
        if run["status"] not in ("pending", "running"):
            return run
        assert time.monotonic() < deadline, run
        time.sleep(0.1)


@pytest.fixture(scope="module")
def world(server: Platform, fake: FakeOllama, wordle_url: str) -> dict[str, Any]:
    alice, bob = server.login("alice"), server.login("bob")
    domain = wordle_domain("cat", wordle_url)
    domain["binding_vow"]["description"] = "Guess the hidden word."
    domain["binding_vow"]["techniques"] = [{"technique_id": "memory"},
                                           {"technique_id": "multi_agent"}]
    with server.client(alice) as client:
        assert client.post("/v1/domains", json=domain).status_code == 201
        fake.requests.clear()
        created = client.post("/v1/runs", json={
            "domain_id": "cat", "binding_vow_version": "1.0.0", "seed_set": [0],
            "agent_config": {"model": "ollama/llama3.2", "system_prompt": "Be brief.",
                             "techniques": [
                                 {"technique_id": "memory", "params": {"window_size": 1}},
                                 {"technique_id": "multi_agent",
                                  "params": {"roles": ["scout", "solver"]}}]}})
        assert created.status_code == 202, created.text
        run = _wait(client, created.json()["id"])
        calls = fake.chat_bodies()
        failing = client.post("/v1/runs", json={
            "domain_id": "cat", "binding_vow_version": "1.0.0",
            "agent_config": {"model": "script:missing.py:policy"}}).json()
        _wait(client, failing["id"])
        episode = client.get(f"/v1/runs/{run['id']}/episodes").json()[0]
        traces = client.get(f"/v1/runs/{run['id']}/traces").json()[episode["id"]]
    return {"alice": alice, "bob": bob, "run": run, "calls": calls, "episode": episode,
            "traces": traces, "failing": failing}


# -- techniques ------------------------------------------------------------------------


def test_techniques_are_listed_with_their_schemas(server: Platform) -> None:
    with server.client() as client:
        listed = client.get("/v1/techniques").json()
        one = client.get("/v1/techniques/multi_agent").json()
        unknown = client.get("/v1/techniques/chain_of_thought")
    assert [t["id"] for t in listed] == ["tool_calling", "memory", "multi_agent"]
    assert {t["version"] for t in listed} == {"1.0.0"}
    assert one["config_schema"]["properties"]["roles"]["type"] == "array"
    assert (unknown.status_code, unknown.json()) == (
        404, {"detail": "Technique 'chain_of_thought' not found"})


def test_the_runs_techniques_reach_the_prompt(world: dict[str, Any]) -> None:
    assert world["run"]["status"] == "completed"
    assert len(world["calls"]) == world["episode"]["steps"] == 6
    results = {e["step"]: e["payload"] for e in world["traces"]
               if e["event_type"] == "step_result"}
    seen_at_step_2 = json.dumps(results[1]["observation"], ensure_ascii=False)[:120]
    system = world["calls"][2]["messages"][0]["content"]  # the model call of step 3
    env_prompt, _, ours = system.partition("Be brief.\n\n")
    assert env_prompt == "" or env_prompt.endswith("\n\n")
    assert ours == (
        "## Domain\nGuess the hidden word.\n\n## Action Space\nA 5-letter lowercase word.\n\n"
        f"## Recent History\n(steps 1-1 omitted)\nStep 2: obs={seen_at_step_2} | "
        f"action=slate | reward={results[2]['reward']}\n\n"
        "## Your Role\nscout\n\n" + FREE_CLOSING)
    first = world["calls"][0]["messages"][0]["content"]
    assert "## Recent History" not in first and "## Your Role\nscout\n\n" in first
    assert "## Your Role\nsolver\n\n" in world["calls"][1]["messages"][0]["content"]


# -- the activity feed -----------------------------------------------------------------


def test_activity_shows_mine_unredacted_and_the_gallery_redacted(
    server: Platform, world: dict[str, Any]
) -> None:
    run_id = world["run"]["id"]
    feeds = {}
    for who, token in (("alice", world["alice"]), ("bob", world["bob"]), ("anonymous", None)):
        with server.client(token) as client:
            feeds[who] = client.get("/v1/gallery/domains/cat/activity").json()
    mine = {i["id"]: i for i in feeds["alice"]["items"]}
    assert mine[run_id]["source"] == "mine"
    assert mine[run_id]["config"]["agent_config"]["system_prompt"] == "Be brief."
    assert mine[world["failing"]["id"]]["source"] == "mine"
    assert len(mine) == len(feeds["alice"]["items"])  # not listed twice
    for who in ("bob", "anonymous"):
        items = feeds[who]["items"]
        assert [(i["id"], i["source"]) for i in items] == [(run_id, "gallery")]
        assert items[0]["config"]["agent_config"]["system_prompt"] == REDACTED
    with server.client(world["alice"]) as client:
        small = client.get("/v1/gallery/domains/cat/activity", params={"limit": 1}).json()
    assert len(small["items"]) == 1 and small["next_cursor"] == small["items"][0]["id"]


# -- admin status ------------------------------------------------------------------------


def test_admin_status_for_the_named_admins_only(server: Platform,
                                                world: dict[str, Any]) -> None:
    with server.client(world["alice"]) as client:
        status = client.get("/v1/admin/status").json()
    with server.client(world["bob"]) as client:
        refused = client.get("/v1/admin/status")
    assert status["counts"]["runs"] == {"completed": 1, "failed": 1}
    assert status["counts"]["episodes"] == {"completed": 1, "failed": 1}
    assert status["in_flight"]["episodes"] == 0 and status["reaper_enabled"] is True
    failure = status["recent_failures"][0]
    assert failure["run_id"] == world["failing"]["id"] and "missing.py" in failure["error"]
    assert (refused.status_code, refused.json()) == (
        403, {"detail": "Server admins only (the server's --admins setting)"})


# -- the trace WebSocket ---------------------------------------------------------------


def _socket_url(server: Platform, episode_id: str, token: str | None = None) -> str:
    url = f"ws://127.0.0.1:{server.bench_port}/v1/ws/episodes/{episode_id}/trace"
    return url + (f"?token={token}" if token else "")


def test_the_socket_streams_the_trace_redacted_for_others(
    server: Platform, world: dict[str, Any]
) -> None:
    episode_id = world["episode"]["id"]
    with connect(_socket_url(server, episode_id, world["alice"])) as socket:
        owner = [json.loads(m) for m in socket]
    with connect(_socket_url(server, episode_id),
                 additional_headers={"Authorization": f"Bearer {world['bob']}"}) as socket:
        other = [json.loads(m) for m in socket]
    assert owner == world["traces"]
    texts = [e["payload"]["text"] for e in owner if e["event_type"] == "model_call"]
    assert texts == ["slate"] * 6
    assert [e["event_type"] for e in other] == [e["event_type"] for e in owner]
    assert {e["payload"]["text"] for e in other if e["event_type"] == "model_call"} == {
        REDACTED}


def test_a_cancel_message_closes_the_socket_before_the_episode_ends(
    server: Platform, world: dict[str, Any]
) -> None:
    with server.client(world["alice"]) as client:
        run = client.post("/v1/runs", json={
            "domain_id": "cat", "binding_vow_version": "1.0.0", "visibility": "private",
            "agent_config": {"model": "ollama/llama3.2"}}).json()
        episode_id = client.get(f"/v1/runs/{run['id']}/episodes").json()[0]["id"]
        with connect(_socket_url(server, episode_id, world["alice"])) as socket:
            socket.send(json.dumps({"command": "cancel"}))
            assert list(socket) == []
        assert client.get(f"/v1/runs/{run['id']}").json()["status"] == "running"
        _wait(client, run["id"])


def test_the_socket_streams_an_episode_live_while_it_plays(
    server: Platform, world: dict[str, Any]
) -> None:
    with server.client(world["alice"]) as client:
        run = client.post("/v1/runs", json={
            "domain_id": "cat", "binding_vow_version": "1.0.0", "seed_set": [0],
            "agent_config": {"model": "ollama/llama3.2", "system_prompt": "Be brief."}}).json()
        episodes = f"/v1/runs/{run['id']}/episodes"
        episode_id = client.get(episodes).json()[0]["id"]
        with connect(_socket_url(server, episode_id, world["alice"])) as mine:
            first = json.loads(mine.recv(timeout=60))
            status_then = client.get(episodes).json()[0]["status"]
            with pytest.raises(InvalidStatus) as refused:  # others read finished runs only
                connect(_socket_url(server, episode_id, world["bob"]))
            owner = [first, *(json.loads(m) for m in mine)]
        assert client.get(episodes).json()[0]["status"] == "completed"
        stored = client.get(f"/v1/runs/{run['id']}/traces").json()[episode_id]
    assert status_then == "running"  # the first event came while the episode played
    assert refused.value.response.status_code == 403
    assert first["event_type"] == "episode_start"
    assert owner == stored and len(owner) == len(world["traces"])  # each event once


def test_an_episode_played_by_another_server_arrives_whole_when_it_ends(
    server: Platform, world: dict[str, Any]
) -> None:
    # a second server on the same database (and key) that plays nothing: the API alone
    watcher = Platform(server.data_dir, server.database_url, flags=["--workers", "0"]).start()
    try:
        with server.client(world["alice"]) as client:
            run = client.post("/v1/runs", json={
                "domain_id": "cat", "binding_vow_version": "1.0.0", "seed_set": [0],
                "agent_config": {"model": "ollama/llama3.2"}}).json()
            episodes = f"/v1/runs/{run['id']}/episodes"
            episode_id = client.get(episodes).json()[0]["id"]
            with connect(_socket_url(watcher, episode_id, world["alice"])) as socket:
                first = json.loads(socket.recv(timeout=60))
                status_then = client.get(episodes).json()[0]["status"]
                shown = [first, *(json.loads(m) for m in socket)]
            stored = client.get(f"/v1/runs/{run['id']}/traces").json()[episode_id]
    finally:
        watcher.stop()
    assert status_then == "completed"
    assert shown == stored
