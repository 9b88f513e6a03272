"""A run end to end: the Wordle adapter, a domain at its URL, the fake Ollama, POST
/v1/runs, poll to completed; scores equal to the engine's for the same seeds; traces,
export, ETag and redaction on the finished run.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from platform_kit import WORDLE, Platform, seed_for, wordle_domain

from pytest_mesocosm import load_manifest
from pytest_mesocosm.engine.config import AgentOptions, BenchConfig
from pytest_mesocosm.engine.session import run_bench

REDACTED = "[redacted: not visible on public gallery]"


def wait_finished(client: httpx.Client, run_id: str, timeout: float = 300) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        run: dict[str, Any] = client.get(f"/v1/runs/{run_id}").json()
        if run["status"] not in ("pending", "running"):
            return run
        assert time.monotonic() < deadline, run
        time.sleep(0.2)


@pytest.fixture(scope="module")
def finished(platform: Platform, wordle_url: str) -> dict[str, Any]:
    alice = platform.login("alice")
    seeds = [seed_for("crane"), 0, 1, 2]
    with platform.client(alice) as client:
        assert client.post("/v1/domains", json=wordle_domain("wordle", wordle_url)
                           ).status_code == 201
        answer = client.post("/v1/runs", json={
            "domain_id": "wordle", "binding_vow_version": "1.0.0",
            "agent_config": {"model": "ollama/llama3.2", "system_prompt": "Be brief."},
            "seed_set": seeds, "num_episodes": 4, "max_parallel": 2})
        assert answer.status_code == 202, answer.text
        created = answer.json()
        assert created["status"] == "running"
        # stored with its episodes before 202 answered
        assert len(client.get(f"/v1/runs/{created['id']}/episodes").json()) == 4
        run = wait_finished(client, created["id"])
    return {"run": run, "seeds": seeds, "token": alice}


def test_run_completes_with_hosted_scores_and_the_honest_summary(
    finished: dict[str, Any], platform: Platform
) -> None:
    run = finished["run"]
    assert run["status"] == "completed"
    assert run["scores"] == {"win_rate": 0.25}  # "crane" wins on one seed of four
    summary = run["summary"]
    assert (summary["scored"], summary["total"]) == (4, 4)
    assert summary["outcomes"]["completed"] + summary["outcomes"]["truncated"] == 4
    low, high = summary["metrics"]["win_rate"]["interval"]
    assert low < 0.25 < high
    assert run["completed_at"] and "+" not in run["created_at"]


def test_scores_equal_what_the_engine_computes_for_the_same_seeds(
    finished: dict[str, Any], ollama: str, wordle_url: str, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OLLAMA_HOST", ollama)
    config = BenchConfig(
        agent=AgentOptions(model="ollama/llama3.2", max_tokens=4096, history=0,
                           system_prompt="Be brief."),
        seeds=finished["seeds"], env_url=wordle_url, runs_dir=tmp_path, parallel=2)
    local = run_bench(load_manifest(WORDLE / "benchanything.json"), config)
    assert local.metrics.metrics["win_rate"].value == finished["run"]["scores"]["win_rate"]
    assert local.metrics.outcomes == finished["run"]["summary"]["outcomes"]


def test_episodes_ran_once_each_with_their_traces(finished: dict[str, Any],
                                                  platform: Platform) -> None:
    run_id = finished["run"]["id"]
    with platform.client(finished["token"]) as client:
        episodes = client.get(f"/v1/runs/{run_id}/episodes").json()
        traces = client.get(f"/v1/runs/{run_id}/traces").json()
    assert sorted(e["seed"] for e in episodes) == sorted(finished["seeds"])
    won = [e for e in episodes if float(e["terminal_info"]["won"]) > 0]
    assert len(won) == 1 and won[0]["steps"] == 1 and won[0]["total_reward"] == 1.0
    for episode in episodes:
        events = traces[episode["id"]]
        kinds = [e["event_type"] for e in events]
        assert kinds.count("episode_start") == 1 and kinds[-1] == "episode_end"
        assert kinds.count("step_result") == episode["steps"]
        assert "total_tokens" in episode["terminal_info"]


def test_etag_and_304(finished: dict[str, Any], platform: Platform) -> None:
    with platform.client(finished["token"]) as client:
        first = client.get(f"/v1/runs/{finished['run']['id']}")
        tag = first.headers["ETag"]
        assert tag.startswith('W/"')
        again = client.get(f"/v1/runs/{finished['run']['id']}", headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.content == b""


def test_owner_export_has_reasoning_and_prompts(finished: dict[str, Any],
                                                platform: Platform) -> None:
    with platform.client(finished["token"]) as client:
        export = client.get(f"/v1/runs/{finished['run']['id']}/export").json()
    assert export["schema_version"] == "1" and export["domain_name"] == "Wordle"
    assert export["run"]["requester_id"]
    assert export["run"]["config"]["agent_config"]["system_prompt"] == "Be brief."
    calls = [e for events in export["traces"].values() for e in events
             if e["event_type"] == "model_call"]
    assert calls and calls[0]["payload"]["text"] == "crane"
    assert all(len(turns) >= 1 for turns in export["replay"].values())


@pytest.mark.parametrize("who", ["anonymous", "guest", "bob"])
def test_non_owners_see_redacted_runs_on_every_route(
    finished: dict[str, Any], platform: Platform, who: str
) -> None:
    token = None if who == "anonymous" else platform.guest() if who == "guest" else (
        platform.login(who))
    run_id = finished["run"]["id"]
    with platform.client(token) as client:
        run = client.get(f"/v1/runs/{run_id}").json()
        traces = client.get(f"/v1/runs/{run_id}/traces").json()
        export = client.get(f"/v1/runs/{run_id}/export").json()
    for document in (run, export["run"]):
        assert document["config"]["agent_config"]["system_prompt"] == REDACTED
        assert document.get("requester_id") is None
    for events in (*traces.values(), *export["traces"].values()):
        for event in events:
            for key in ("text", "raw_text", "messages", "reasoning", "system_prompt"):
                assert event["payload"].get(key) in (None, REDACTED)
    assert "crane" not in str([e["payload"].get("messages") for t in traces.values()
                               for e in t])


def test_leaderboard_and_gallery_show_the_public_run(finished: dict[str, Any],
                                                     platform: Platform) -> None:
    board = httpx.get(f"{platform.bench}/v1/leaderboards/wordle").json()
    assert board[0]["run_id"] == finished["run"]["id"]
    assert board[0]["primary_score"] == 0.25 and board[0]["num_episodes"] == 4
    both = httpx.get(f"{platform.bench}/v1/leaderboards",
                     params={"domain_ids": "wordle,none"}).json()
    assert both["leaderboards"]["none"] == [] and len(both["leaderboards"]["wordle"]) == 1
    gallery = httpx.get(f"{platform.bench}/v1/gallery/runs").json()
    assert gallery[0]["run_id"] == finished["run"]["id"]
    assert gallery[0]["actor_label"] == "Member"
    assert httpx.get(f"{platform.bench}/v1/leaderboards/nope").status_code == 404
