"""The episode loop against real adapter processes: every outcome provoked for real."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from support import closed_port_url, write_counter_repo, write_policy

from pytest_mesocosm.adapter import AdapterClient
from pytest_mesocosm.agents import make_agent
from pytest_mesocosm.agents.base import TaskInfo
from pytest_mesocosm.engine.config import AgentOptions, BenchConfig, EpisodeLimits
from pytest_mesocosm.engine.episode import EpisodeSpec, run_episode
from pytest_mesocosm.engine.outcomes import EpisodeStatus
from pytest_mesocosm.engine.session import run_bench
from pytest_mesocosm.engine.traces import read_trace
from pytest_mesocosm.errors import ModelError
from pytest_mesocosm.manifest.models import load_manifest


def bench(tmp_path: Path, manifest_path: Path, model: str, **config_kw):
    limits = config_kw.pop("limits", EpisodeLimits())
    config = BenchConfig(
        agent=AgentOptions(model=model, retries=0, timeout=5.0),
        limits=limits,
        runs_dir=tmp_path / "runs",
        **config_kw,
    )
    return run_bench(load_manifest(manifest_path), config)


def test_completed_episodes_are_scored_and_traced(tmp_path: Path) -> None:
    repo = write_counter_repo(tmp_path / "repo")
    run = bench(tmp_path, repo, f"script:{repo.parent / 'policy.py'}:policy", seeds=[0, 1, 2])

    assert [r.status for r in run.results] == [EpisodeStatus.COMPLETED] * 3
    assert [r.steps for r in run.results] == [2, 3, 4]  # target = 2 + seed % 3
    assert run.metrics.metrics["win_rate"].value == 1.0
    events = [e["event"] for e in read_trace(Path(run.results[0].trace_path))]
    assert events == [
        "episode_start", "observation",
        "model_call", "action", "step_result",
        "model_call", "action", "step_result",
        "episode_end",
    ]
    saved = json.loads(run.results_path.read_text())
    assert [r["seed"] for r in saved["results"]] == [0, 1, 2]


def test_env_crash_at_step_3_is_env_error_and_other_episodes_go_on(tmp_path: Path) -> None:
    repo = write_counter_repo(
        tmp_path / "repo",
        hook="if self.count == 2: raise RuntimeError('board exploded')",
    )
    run = bench(tmp_path, repo, f"script:{repo.parent / 'policy.py'}:policy", seeds=[0, 1, 2])

    statuses = [r.status for r in run.results]
    # seed 0 finishes in 2 steps; seeds 1 and 2 reach step 3 and crash
    assert statuses == [EpisodeStatus.COMPLETED, EpisodeStatus.ENV_ERROR, EpisodeStatus.ENV_ERROR]
    assert "board exploded" in run.results[1].error
    assert run.metrics.scored == 1
    assert run.metrics.outcomes["env_error"] == 2


def test_env_that_never_terminates_is_truncated_at_max_steps(tmp_path: Path) -> None:
    repo = write_counter_repo(tmp_path / "repo", hook="self.count = -100", max_steps=4)
    run = bench(tmp_path, repo, f"script:{repo.parent / 'policy.py'}:policy", seeds=[0])

    result = run.results[0]
    assert (result.status, result.reason, result.steps) == (
        EpisodeStatus.TRUNCATED, "step_limit", 4
    )


def test_slow_env_hits_max_wall_seconds(tmp_path: Path) -> None:
    repo = write_counter_repo(
        tmp_path / "repo", hook="import time; time.sleep(0.4)", blocking=True,
        max_wall_seconds=1.0,
    )
    policy = write_policy(repo.parent, "return 'up'")
    run = bench(tmp_path, repo, policy, seeds=[2])  # target 4 steps x 0.4 s > 1 s

    result = run.results[0]
    assert result.status == EpisodeStatus.TIMEOUT
    assert result.reason == "max_wall_seconds"
    assert result.wall_seconds < 2.5


def test_rejected_actions_are_retried_then_the_episode_is_invalid(tmp_path: Path) -> None:
    repo = write_counter_repo(
        tmp_path / "repo",
        hook="if action != 'up': raise InvalidAction(f'say up, not {action!r}')",
    )
    stubborn = write_policy(repo.parent, "return 'down'")
    learner = write_policy(
        repo.parent, "return 'up' if context.feedback else 'down'", name="learner.py"
    )

    stuck = bench(tmp_path, repo, stubborn, seeds=[0]).results[0]
    assert stuck.status == EpisodeStatus.INVALID
    assert stuck.invalid_actions == 3  # the first answer and two retries
    assert "say up, not 'down'" in stuck.error

    learned = bench(tmp_path, repo, learner, seeds=[0]).results[0]
    assert learned.status == EpisodeStatus.COMPLETED
    assert learned.invalid_actions == 2  # one rejection per step, then corrected
    events = read_trace(Path(learned.trace_path))
    rejected = [e for e in events if e["event"] == "invalid_action"]
    assert rejected[0]["reason"] == "say up, not 'down'"


def test_policy_that_raises_is_a_model_error(tmp_path: Path) -> None:
    repo = write_counter_repo(tmp_path / "repo")
    broken = write_policy(repo.parent, "raise ValueError('policy bug')")
    result = bench(tmp_path, repo, broken, seeds=[0]).results[0]
    assert result.status == EpisodeStatus.MODEL_ERROR
    assert "policy bug" in result.error


def test_same_seeds_give_the_same_traces_and_metrics(tmp_path: Path) -> None:
    repo = write_counter_repo(tmp_path / "repo")
    policy = f"script:{repo.parent / 'policy.py'}:policy"
    first = bench(tmp_path / "a", repo, policy, seeds=[3, 4, 5], parallel=3)
    second = bench(tmp_path / "b", repo, policy, seeds=[3, 4, 5], parallel=1)

    def steps(run):
        return [
            [(e["event"], e.get("action"), e.get("reward")) for e in read_trace(Path(r.trace_path))]
            for r in run.results
        ]

    assert steps(first) == steps(second)
    assert first.metrics.to_dict()["metrics"] == second.metrics.to_dict()["metrics"]


def test_unreachable_model_fails_the_preflight_with_one_clear_error(tmp_path: Path) -> None:
    repo = write_counter_repo(tmp_path / "repo")
    config = BenchConfig(
        agent=AgentOptions(model="ollama/llama3.2", api_base=closed_port_url(), retries=0),
        seeds=[0],
        runs_dir=tmp_path / "runs",
    )
    with pytest.raises(ModelError, match="ollama serve"):
        run_bench(load_manifest(repo), config)


def test_unreachable_model_mid_run_is_a_model_error_and_close_still_runs(
    tmp_path: Path, start_adapter
) -> None:
    repo = write_counter_repo(tmp_path / "repo")
    url = start_adapter(repo.parent / "adapter.py")
    agent = make_agent(AgentOptions(model="ollama/llama3.2", api_base=closed_port_url(),
                                    retries=1, timeout=2.0))
    spec = EpisodeSpec(episode_id="ep-1", seed=0)

    async def play():
        async with AdapterClient(url) as client:
            result = await run_episode(spec, client=client, agent=agent,
                                       task=TaskInfo(name="Counter"))
            health = await client.health()
        await agent.aclose()
        return result, health

    result, health = asyncio.run(play())
    assert result.status == EpisodeStatus.MODEL_ERROR
    assert result.steps == 0
    assert health["episodes"] == 0  # /close ran although the model never answered
