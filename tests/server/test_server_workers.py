"""Servers sharing one PostgreSQL database: an API-only server (``--workers 0``) hands a
new run to a worker server at once, by ``NOTIFY``, not at the worker's next poll (set to
an hour here). SQLite is one process's database, so this is PostgreSQL's alone."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from platform_kit import Platform, postgres_database, wordle_domain


@pytest.fixture
def postgres_url() -> Iterator[str]:
    with postgres_database() as url:
        yield url


def test_an_api_only_server_hands_a_run_to_a_worker_server(
    postgres_url: str, ollama: str, wordle_url: str, tmp_path: Path
) -> None:
    env = {"OLLAMA_HOST": ollama, "MESOCOSM_SERVER_POLL_SECONDS": "3600"}
    api = Platform(tmp_path / "server", postgres_url, env=env, flags=["--workers", "0"])
    api.add_users("alice")
    api.start()
    worker = Platform(api.data_dir, postgres_url, env=env).start()  # the same signing key
    try:
        time.sleep(1.0)  # the worker's claim at start has found nothing to play
        with api.client(api.login("alice")) as client:
            assert client.post("/v1/domains", json=wordle_domain("shared", wordle_url)
                               ).status_code == 201
            run = client.post("/v1/runs", json={
                "domain_id": "shared", "binding_vow_version": "1.0.0", "num_episodes": 2,
                "seed_set": [0, 1], "agent_config": {"model": "ollama/llama3.2"}}).json()
            assert "id" in run, run
            deadline = time.monotonic() + 60
            while (state := client.get(f"/v1/runs/{run['id']}").json())["status"] == "running":
                assert time.monotonic() < deadline, state
                time.sleep(0.1)
        assert state["status"] == "completed", state
    finally:
        worker.stop()
        api.stop()
