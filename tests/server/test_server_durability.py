"""Runs are durable jobs: kill -9 the server mid-run, start it again on the same
database, and the run completes with every episode played to its end exactly once.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from platform_kit import FAKE_OLLAMA, Platform, wordle_domain
from sqlalchemy import create_engine, select
from support import free_port

from mesocosm_server import models


@pytest.fixture(scope="module")
def slow_ollama(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fake Ollama taking 0.25 s a call, so a run lasts long enough to be killed."""
    port = free_port()
    log = tmp_path_factory.mktemp("slow") / "ollama.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, str(FAKE_OLLAMA), "--port", str(port),
                                 "--reply", "slate", "--latency", "0.25", "--no-record"],
                                stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 15
    while True:
        try:
            httpx.get(f"http://127.0.0.1:{port}/api/tags", timeout=1)
            break
        except httpx.HTTPError:
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(10)


def _episodes(client: httpx.Client, run_id: str) -> list[dict[str, Any]]:
    episodes: list[dict[str, Any]] = client.get(f"/v1/runs/{run_id}/episodes").json()
    return episodes


@pytest.mark.parametrize("stop", ["kill -9", "SIGTERM"])
def test_stop_mid_run_then_restart_finishes_every_episode_once(
    stop: str, database_url: str, slow_ollama: str, wordle_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    server = Platform(tmp_path_factory.mktemp("durable"), database_url, env={
        "OLLAMA_HOST": slow_ollama, "MESOCOSM_SERVER_LEASE_SECONDS": "2",
        "MESOCOSM_SERVER_WORKERS": "4"})
    tag = "kill" if stop == "kill -9" else "term"
    server.add_users(f"durable-{tag}")
    server.start()
    try:
        token = server.login(f"durable-{tag}")
        with server.client(token) as client:
            assert client.post("/v1/domains", json=wordle_domain(f"durable-{tag}", wordle_url)
                               ).status_code == 201
            run = client.post("/v1/runs", json={
                "domain_id": f"durable-{tag}", "binding_vow_version": "1.0.0",
                "agent_config": {"model": "ollama/llama3.2"}, "num_episodes": 8,
                "max_parallel": 2}).json()
            deadline = time.monotonic() + 300
            while True:
                episodes = _episodes(client, run["id"])
                done = [e for e in episodes if e["status"] not in ("pending", "running")]
                running = [e for e in episodes if e["status"] == "running"]
                assert len(running) <= 2  # max_parallel is honoured
                if len(done) >= 2 and running:
                    break
                assert time.monotonic() < deadline and len(done) < 8, episodes
                time.sleep(0.05)
        if stop == "kill -9":
            server.kill()
        else:
            assert server.proc is not None
            server.proc.terminate()
            assert server.proc.wait(20) == 0  # a clean stop, episodes given back
        before = {e["id"]: e for e in done}
        in_flight = {e["id"] for e in running}

        server.start()
        with server.client(token) as client:
            deadline = time.monotonic() + 300
            while client.get(f"/v1/runs/{run['id']}").json()["status"] == "running":
                assert time.monotonic() < deadline
                time.sleep(0.2)
            final = client.get(f"/v1/runs/{run['id']}").json()
            episodes = _episodes(client, run["id"])
            traces = client.get(f"/v1/runs/{run['id']}/traces").json()
    finally:
        server.stop()
    assert final["status"] == "completed"
    assert final["summary"]["total"] == 8 and final["summary"]["scored"] == 8
    assert len(episodes) == 8
    assert all(e["status"] in ("completed", "truncated") for e in episodes)
    for episode in episodes:
        if episode["id"] in before:  # finished before the kill: never played again
            assert episode == before[episode["id"]]
        kinds = [e["event_type"] for e in traces[episode["id"]]]
        assert kinds.count("episode_start") == 1 and kinds.count("episode_end") == 1
        assert kinds.count("step_result") == episode["steps"] >= 1
    engine = create_engine(database_url)
    with engine.connect() as conn:
        attempts = dict(conn.execute(select(models.Episode.id, models.Episode.attempts)).all())
    engine.dispose()
    assert all(attempts[eid] == 1 for eid in before)
    assert all(attempts[eid] == 2 for eid in in_flight)
