"""Export of a real run folder (traces written by TraceWriter) to the hosted replay format."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from pytest_mesocosm.engine.config import AgentOptions, BenchConfig
from pytest_mesocosm.engine.export import export_run, replay_schema, validate_export, write_export
from pytest_mesocosm.engine.outcomes import EpisodeResult, EpisodeStatus
from pytest_mesocosm.engine.traces import RunFolder, TraceError, TraceWriter
from pytest_mesocosm.scoring.metrics import score_run

SCORING = {"primary_metric": "win_rate", "metrics": [
    {"name": "win_rate", "type": "terminal_field", "field": "won", "aggregation": "pass_rate"},
    {"name": "mean_reward", "type": "episode_reward", "aggregation": "mean"},
]}
MANIFEST = {"id": "wordle", "name": "Wordle", "binding_vow": {"version": "1.0.0"}}
SECRET_PROMPT = "You play Wordle. Secret house rules."


def _play(folder: RunFolder, seed: int, guesses: list[str], secret: str,
          status: EpisodeStatus, repeat: int = 0) -> EpisodeResult:
    """Write a trace the way the episode loop does, and return the episode's result."""
    result = EpisodeResult(f"ep-{seed}-{repeat}", seed, status, repeat=repeat)
    path = folder.trace_path(result.label)
    with TraceWriter(path) as trace:
        trace.write("episode_start", episode_id=result.episode_id, seed=seed, repeat=repeat,
                    model="script:solver", domain="wordle")
        trace.write("observation", step=0, data={"guesses_remaining": 6},
                    content_type="application/json", system_prompt=SECRET_PROMPT)
        for step, guess in enumerate(guesses, start=1):
            trace.write("model_call", step=step, messages=[
                {"role": "system", "content": SECRET_PROMPT},
                {"role": "user", "content": f"step {step}"},
            ], raw_text=f"<think>try {guess}</think>{guess}", reasoning=f"try {guess}",
                prompt_tokens=10, completion_tokens=2, cost=0.0, latency=0.001)
            if guess == "xx":
                trace.write("invalid_action", step=step, action=guess, raw_text=guess,
                            reason="not a 5-letter word")
                continue
            won = guess == secret
            done = won or step == 6
            observation = {"last_guess": guess, "guesses_remaining": 6 - step}
            trace.write("action", step=step, action=guess)
            trace.write("step_result", step=step, action=guess,
                        observation={"data": observation, "content_type": "application/json"},
                        reward=1.0 if won else 0.0, terminated=done, truncated=False,
                        info={"won": "1.0" if won else "0.0"})
            trace.write("observation", step=step, data=observation,
                        content_type="application/json")
            result.steps, result.total_reward = step, (1.0 if won else 0.0)
            result.rewards.append(result.total_reward)
            result.last_info = {"won": "1.0" if won else "0.0"}
        result.invalid_actions = guesses.count("xx")
        trace.write("episode_end", status=status.value, reason=None, error=None,
                    total_reward=result.total_reward, steps=result.steps,
                    invalid_actions=result.invalid_actions, prompt_tokens=10,
                    completion_tokens=2, cost=0.0, wall_seconds=0.01,
                    terminal_info=result.last_info)
    return result


def _run(tmp_path: Path, *, complete: bool = True) -> RunFolder:
    folder = RunFolder.create(tmp_path / "runs", "20261121-064502-3f2a")
    results = [
        _play(folder, 0, ["crane", "slate"], "slate", EpisodeStatus.COMPLETED),
        _play(folder, 1, ["crane", "xx", "xx", "xx"], "slate", EpisodeStatus.INVALID),
        _play(folder, 1, ["slate"], "slate", EpisodeStatus.COMPLETED, repeat=1),
        EpisodeResult("ep-2-0", 2, EpisodeStatus.ENV_ERROR, error="500 from /reset"),
    ]
    config = BenchConfig(seeds=[0, 1, 2], agent=AgentOptions(model="script:solver",
                                                             system_prompt=SECRET_PROMPT))
    folder.write_results(config, results, score_run(SCORING, results),
                         extra={"manifest": MANIFEST}, complete=complete)
    return folder


def test_replay_schema_is_a_valid_2020_12_schema() -> None:
    schema = replay_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_export_matches_the_hosted_replay_format(tmp_path: Path) -> None:
    folder = _run(tmp_path)
    data = export_run(folder.path)
    validate_export(data)
    assert (data["schema_version"], data["visibility"]) == ("1", "private")
    assert (data["domain_id"], data["domain_name"], data["binding_vow_version"]) == (
        "wordle", "Wordle", "1.0.0")

    run = data["run"]
    assert (run["id"], run["status"]) == ("20261121-064502-3f2a", "completed")
    assert run["completed_at"] is not None
    assert run["scores"] == {"win_rate": pytest.approx(2 / 3), "mean_reward": pytest.approx(2 / 3)}
    assert run["config"]["agent_config"]["model"] == "script:solver"
    assert run["config"]["seed_set"] == [0, 1, 2]
    assert run["mesocosm"]["metrics"]["outcomes"]["env_error"] == 1

    statuses = [(e["id"], e["status"], e["mesocosm"]["status"]) for e in data["episodes"]]
    assert statuses == [
        ("ep-0-0", "completed", "completed"), ("ep-1-0", "failed", "invalid"),
        ("ep-1-1", "completed", "completed"), ("ep-2-0", "failed", "env_error"),
    ]
    first = data["episodes"][0]
    assert (first["steps"], first["total_reward"], first["terminal_info"]) == (
        2, 1.0, {"won": "1.0"})
    assert first["started_at"] <= first["ended_at"]
    assert data["episodes"][3]["mesocosm"]["error"] == "500 from /reset"

    turns = data["replay"]["ep-0-0"]
    assert [(t["step"], t["action"], t["reward"], t["terminated"]) for t in turns] == [
        (1, "crane", 0.0, False), (2, "slate", 1.0, True)]
    assert turns[0]["observation"] == {"guesses_remaining": 6}
    assert turns[1]["observation"] == {"last_guess": "crane", "guesses_remaining": 5}
    assert [t["reasoning"] for t in turns] == ["try crane", "try slate"]
    assert {t["model"] for t in turns} == {"script:solver"}
    assert first["started_at"] <= turns[0]["timestamp"] <= turns[1]["timestamp"]
    # invalid attempts stay in the trace, they are not turns
    assert len(data["replay"]["ep-1-0"]) == 1
    assert sum(e["event"] == "invalid_action" for e in data["traces"]["ep-1-0"]) == 3
    assert data["traces"]["ep-2-0"] == [] and data["replay"]["ep-2-0"] == []
    assert data["episodes"][3]["started_at"] is None


def test_export_without_reasoning_strips_it_everywhere(tmp_path: Path) -> None:
    folder = _run(tmp_path)
    data = export_run(folder.path, include_reasoning=False)
    validate_export(data)
    text = json.dumps(data)
    assert SECRET_PROMPT not in text
    assert "<think>" not in text and "try crane" not in text
    assert '"reasoning": "' not in text
    assert all(t["reasoning"] is None for turns in data["replay"].values() for t in turns)
    calls = [e for e in data["traces"]["ep-0-0"] if e["event"] == "model_call"]
    assert calls[0]["messages"] == [{"role": "user", "content": "step 1"}]
    assert calls[0]["raw_text"] == "crane"
    assert "system_prompt" not in data["run"]["config"]["agent_config"]
    # what is not private survives
    assert data["replay"]["ep-0-0"][1]["action"] == "slate"


def test_export_of_an_interrupted_run_and_a_manifest_override(tmp_path: Path) -> None:
    folder = _run(tmp_path, complete=False)
    data = export_run(folder.path / "results.json",
                      manifest={"name": "My Wordle!", "binding_vow": {"version": "2.0.0"}})
    validate_export(data)
    assert (data["run"]["status"], data["run"]["completed_at"]) == ("cancelled", None)
    assert (data["domain_id"], data["domain_name"], data["binding_vow_version"]) == (
        "my-wordle", "My Wordle!", "2.0.0")


def test_export_reads_a_flat_manifest_summary_and_the_interrupted_flag(tmp_path: Path) -> None:
    folder = RunFolder.create(tmp_path, "r")
    result = _play(folder, 0, ["slate"], "slate", EpisodeStatus.COMPLETED)
    folder.write_results({"agent": {"model": "m"}}, [result], None, extra={
        "manifest": {"name": "Wordle", "domain_id": "wordle-dev", "binding_vow_version": "1.2.0"},
        "interrupted": True,
    })
    data = export_run(folder.path)
    validate_export(data)
    assert (data["domain_id"], data["domain_name"], data["binding_vow_version"]) == (
        "wordle-dev", "Wordle", "1.2.0")
    assert (data["run"]["status"], data["run"]["scores"]) == ("cancelled", {})


def test_write_export_writes_valid_json(tmp_path: Path) -> None:
    folder = _run(tmp_path)
    out = write_export(folder.path, tmp_path / "showcase" / "replay.json")
    data = json.loads(out.read_text())
    validate_export(data)
    expected = export_run(folder.path)
    data.pop("exported_at"), expected.pop("exported_at")
    assert data == expected


def test_validate_export_names_the_broken_place(tmp_path: Path) -> None:
    data = export_run(_run(tmp_path).path)
    broken = copy.deepcopy(data)
    broken["episodes"][1]["status"] = "invalid"
    with pytest.raises(TraceError) as info:
        validate_export(broken)
    assert str(info.value) == (
        "replay export breaks the schema at episodes/1/status: 'invalid' is not one of "
        "['pending', 'running', 'completed', 'truncated', 'failed', 'timeout', 'cancelled']")
    missing: dict[str, Any] = {k: v for k, v in data.items() if k != "replay"}
    with pytest.raises(TraceError, match=r"at \(top level\): 'replay' is a required property"):
        validate_export(missing)


def test_export_of_a_folder_without_results(tmp_path: Path) -> None:
    folder = RunFolder.create(tmp_path, "r")
    with pytest.raises(TraceError, match=r"results\.json not found; give a run folder"):
        export_run(folder.path)
