"""A model server that hangs, fails, rate-limits or fails every other call, met by both
front ends: the episodes end as ``model_error`` (never a lost game), the user is told
why the run waits, and a model that is down stops the run from starting more episodes."""

from __future__ import annotations

from pathlib import Path

import pytest
from fakes.ollama_server import FakeOllama
from faults_support import counter_repo, run_front_end

MODEL = "ollama/llama3.2"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return counter_repo(tmp_path / "counter", max_wall_seconds=1.5)




@pytest.mark.parametrize("front", ["cli", "plugin"])
def test_hung_model_is_a_model_error_and_stops_new_episodes(repo: Path, front: str) -> None:
    with FakeOllama(["up"], hang=True) as server:
        run = run_front_end(front, repo, model=MODEL, api_base=server.url, episodes=4,
                            timeout=0.6, retries=5)
    assert run.statuses() == ["model_error"] * 4  # never "timeout", never scored as a loss
    errors = [r["error"] for r in run.results()["results"]]
    skipped = [e for e in errors if e.startswith("not started: the model failed 3 episodes")]
    assert (len(errors) - len(skipped), len(skipped)) == (3, 1), errors
    assert run.out.count("the remaining episodes are not started") == 1
    assert "no answer for 0.3 s yet (model timeout 0.6 s, 5 retries" in run.out
    assert run.code == (4 if front == "cli" else 1)  # run local: 4, every episode model_error
    assert len(run.traces()) == 3  # the episodes that started left their traces
    run.assert_no_traceback()


def test_rate_limit_longer_than_the_wall_limit_is_a_model_error(repo: Path) -> None:
    with FakeOllama(["up"], fail_first=10**6, fail_status=429, retry_after=30) as server:
        run = run_front_end("cli", repo, "--parallel", "2", model=MODEL,
                            api_base=server.url, episodes=2, timeout=5, retries=3)
    assert run.statuses() == ["model_error"] * 2
    assert "429: rate limited; attempt 2 of 4 in 30.0 s" in run.out
    assert "scored 0/2 episodes" in run.out
    assert run.code == 4  # every episode ended in model_error
    run.assert_no_traceback()


def test_model_answering_500_fails_fast_then_no_more_episodes_start(repo: Path) -> None:
    with FakeOllama(["up"], fail_first=10**6, fail_status=500) as server:
        run = run_front_end("plugin", repo, model=MODEL, api_base=server.url, episodes=5,
                            timeout=5, retries=1)
        calls = server.generation_calls
    assert run.statuses() == ["model_error"] * 5
    assert calls == 6  # 3 episodes x 2 attempts; the last two never asked the model
    assert "5 errors" in run.out
    assert run.out.count("the remaining episodes are not started") == 1
    assert "gate FAILED" in run.out and run.code == 1
    run.assert_no_traceback()


@pytest.mark.parametrize("front", ["cli", "plugin"])
def test_model_failing_every_other_call_is_retried_and_the_run_passes(
    repo: Path, front: str
) -> None:
    with FakeOllama(["up"], fail_every=2) as server:
        run = run_front_end(front, repo, model=MODEL, api_base=server.url, episodes=2,
                            timeout=5, retries=2)
    assert run.statuses() == ["completed", "completed"]
    assert "model call failed: Ollama answered 500: model runner crashed; attempt 2 of 3" \
        in run.out
    assert run.code == 0
    assert run.traces() == ["seed-0.jsonl", "seed-1.jsonl"]
    run.assert_no_traceback()
