"""Polling ``GET /v1/runs/{id}``: many pollers at once on a server with few request
threads never stall, and the ETag (taken from the run's small columns) changes exactly
when the document does. The server's own poll is set to an hour, so its runs finish only
because creating a run and ending an episode wake its worker.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from platform_kit import Platform, wordle_domain

POLLERS = 60  # more requests in flight than the server has threads and pool connections
THREADS = 2


@pytest.fixture(scope="module")
def narrow(database_url: str, ollama: str, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[Platform]:
    """A server with two request threads, so a request holding its connection while it
    waits for a thread would stall the others until the pool gives up (30 s)."""
    server = Platform(tmp_path_factory.mktemp("narrow"), database_url,
                      env={"OLLAMA_HOST": ollama,
                           "MESOCOSM_SERVER_REQUEST_THREADS": str(THREADS),
                           "MESOCOSM_SERVER_WORKERS": "1",
                           "MESOCOSM_SERVER_POLL_SECONDS": "3600"})
    server.add_users("alice", "bob")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def run(narrow: Platform, wordle_url: str) -> dict[str, Any]:
    token = narrow.login("alice")
    with narrow.client(token) as client:
        domain = wordle_domain("poll", wordle_url)
        assert client.post("/v1/domains", json=domain).status_code == 201
        created = client.post("/v1/runs", json={
            "domain_id": "poll", "binding_vow_version": "1.0.0",
            "agent_config": {"model": "ollama/llama3.2"}, "num_episodes": 2,
            "visibility": "private"})
        assert created.status_code == 202, created.text
        run_id = created.json()["id"]
        deadline = time.monotonic() + 120
        while client.get(f"/v1/runs/{run_id}").json()["status"] == "running":
            assert time.monotonic() < deadline, "the worker was not woken"
            time.sleep(0.05)
    return {"id": run_id, "token": token}


def test_the_worker_is_woken_by_a_new_run_and_by_an_episode_ending(
        narrow: Platform, run: dict[str, Any]) -> None:
    """One episode at a time and no poll within the test: the second episode was
    claimed because the first one's end woke the worker."""
    with narrow.client(run["token"]) as client:
        episodes = client.get(f"/v1/runs/{run['id']}/episodes").json()
    assert [e["status"] for e in episodes] == ["completed", "completed"]


async def _many(url: str, token: str, headers: dict[str, str]) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=POLLERS, max_keepalive_connections=POLLERS)
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"},
                                 limits=limits, timeout=20) as client:
        return await asyncio.gather(*(client.get(url, headers=headers)
                                      for _ in range(POLLERS * 3)))


def test_many_pollers_on_few_threads_all_answer(narrow: Platform, run: dict[str, Any]) -> None:
    url = f"{narrow.local}/v1/runs/{run['id']}"
    plain = asyncio.run(_many(url, run["token"], {}))
    assert {a.status_code for a in plain} == {200}
    tags = {a.headers["ETag"] for a in plain}
    assert len(tags) == 1
    again = asyncio.run(_many(url, run["token"], {"If-None-Match": tags.pop()}))
    assert {a.status_code for a in again} == {304}


def test_etag_follows_visibility_and_viewer(narrow: Platform, run: dict[str, Any]) -> None:
    with narrow.client(run["token"]) as alice:
        first = alice.get(f"/v1/runs/{run['id']}").headers["ETag"]
        assert alice.get(f"/v1/runs/{run['id']}",
                         headers={"If-None-Match": first}).status_code == 304
        assert alice.patch(f"/v1/runs/{run['id']}/visibility",
                           json={"visibility": "gallery_public"}).status_code == 200
        second = alice.get(f"/v1/runs/{run['id']}",
                           headers={"If-None-Match": first})
    assert second.status_code == 200 and second.headers["ETag"] != first
    assert second.json()["status"] == "completed"  # so others may read it, now public
    with narrow.client(narrow.login("bob")) as bob:
        seen = bob.get(f"/v1/runs/{run['id']}")
        assert seen.status_code == 200
        assert seen.headers["ETag"] != second.headers["ETag"]  # bob sees the redacted view
        assert bob.get(f"/v1/runs/{run['id']}", headers={
            "If-None-Match": second.headers["ETag"]}).status_code == 200
