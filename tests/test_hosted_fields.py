"""Manifest fields as the hosted platform writes them: ``schema_ref`` drives structured
output and reply checks as ``schema`` does; intervals stay inside the reward's range."""

from __future__ import annotations

import json
from pathlib import Path

from fakes.ollama_server import FakeOllama
from support import write_counter_repo

from pytest_mesocosm.engine.config import AgentOptions, BenchConfig
from pytest_mesocosm.engine.outcomes import EpisodeResult, EpisodeStatus
from pytest_mesocosm.engine.session import run_bench
from pytest_mesocosm.manifest.models import load_manifest
from pytest_mesocosm.scoring.metrics import metric_bounds, score_run

MOVE = {"type": "object", "properties": {"move": {"enum": ["up"]}}, "required": ["move"],
        "additionalProperties": False}


def test_schema_ref_is_the_schema_for_structured_output_and_reply_checks(
    tmp_path: Path
) -> None:
    path = write_counter_repo(tmp_path / "repo")
    data = json.loads(path.read_text())
    data["binding_vow"]["action_space"] = {"type": "json", "schema_ref": json.dumps(MOVE)}
    path.write_text(json.dumps(data))
    replies = ['{"move": "down"}', '{"move": "up"}']  # the first breaks the schema
    with FakeOllama(replies) as fake:
        # the chat profile sends Ollama the schema (the hosted one only for some providers)
        config = BenchConfig(agent=AgentOptions(model="ollama/llama3.2", api_base=fake.url,
                                                retries=0, prompt_style="chat"),
                             seeds=[0], runs_dir=tmp_path / "runs")
        run = run_bench(load_manifest(path), config)
        bodies = fake.chat_bodies()
    assert bodies[0]["format"] == MOVE
    result = run.results[0]
    assert result.status is EpisodeStatus.COMPLETED and result.steps == 2
    assert result.invalid_actions == 2  # each "down" was refused before reaching the env
    assert all("down" in reason for reason in result.rejections)


def test_intervals_stay_inside_the_rewards_possible_range(tmp_path: Path) -> None:
    path = write_counter_repo(tmp_path / "repo")
    data = json.loads(path.read_text())
    data["scoring"]["metrics"].append({"name": "reward", "type": "episode_reward",
                                       "aggregation": "mean"})
    path.write_text(json.dumps(data))
    manifest = load_manifest(path)  # binary reward in [0, 1]
    results = [EpisodeResult(episode_id=f"e{i}", seed=i, status=EpisodeStatus.COMPLETED,
                             total_reward=0.0 if i == 0 else 1.0) for i in range(20)]
    loose = score_run(manifest.scoring, results).metrics["reward"]
    assert loose.upper is not None and loose.upper > 1.0  # mean + 1.96 SE overshoots
    clipped = score_run(manifest.scoring, results, metric_bounds(manifest)).metrics["reward"]
    assert clipped.value == 0.95
    assert clipped.lower == loose.lower and clipped.upper == 1.0
