"""Guest limits are settings: sessions per client address, runs per UTC day."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from platform_kit import Platform, wordle_domain


@pytest.fixture(scope="module")
def strict(database_url: str, ollama: str, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[Platform]:
    server = Platform(tmp_path_factory.mktemp("strict"), database_url, env={
        "OLLAMA_HOST": ollama, "MESOCOSM_SERVER_GUEST_SESSIONS_PER_CLIENT_PER_HOUR": "2",
        "MESOCOSM_SERVER_GUEST_RUNS_PER_DAY": "1",
        "MESOCOSM_SERVER_RUN_SUBMISSION_COOLDOWN_SECONDS": "120"})
    server.add_users("alice")
    server.start()
    yield server
    server.stop()


def test_guest_daily_limit_and_member_cooldown(strict: Platform, wordle_url: str) -> None:
    alice = strict.login("alice")
    with strict.client(alice) as client:
        assert client.post("/v1/domains", json=wordle_domain("limits", wordle_url)
                           ).status_code == 201
    body = {"domain_id": "limits", "binding_vow_version": "1.0.0",
            "agent_config": {"model": "script:none.py:f"}, "num_episodes": 1}
    with strict.client(strict.login("alice")) as client:
        assert client.post("/v1/runs", json=body).status_code == 202
        again = client.post("/v1/runs", json=body)
    assert again.status_code == 429
    assert again.json()["detail"].startswith("Please wait ")
    assert again.json()["detail"].endswith(
        " seconds before starting another bench run. This cooldown protects shared "
        "inference capacity.")
    assert 1 <= int(again.headers["Retry-After"]) <= 120
    with strict.client(strict.guest()) as client:
        assert client.post("/v1/runs", json=body).status_code == 202
        over = client.post("/v1/runs", json=body)
    assert (over.status_code, over.json()) == (
        429, {"detail": "Guest run limit reached (1 runs per day). Sign in to continue."})
    assert "Retry-After" not in over.headers


def test_guest_sessions_per_client_are_limited(strict: Platform) -> None:
    assert httpx.post(f"{strict.bench}/v1/auth/guest").status_code == 200  # the 2nd
    third = httpx.post(f"{strict.bench}/v1/auth/guest")
    assert third.status_code == 429
    assert third.headers["Retry-After"] == "3600"
