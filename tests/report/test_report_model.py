"""The report's data, read from real runs: the rows, charts, verdict and replay turns."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from report_support import HOSTILE
from support import write_counter_repo, write_policy

from pytest_mesocosm.engine.config import AgentOptions, BenchConfig
from pytest_mesocosm.engine.export import export_run
from pytest_mesocosm.engine.session import run_bench
from pytest_mesocosm.engine.traces import RESULTS_FILE, TraceError, read_results, read_trace
from pytest_mesocosm.manifest.models import load_manifest
from pytest_mesocosm.report.model import run_view
from pytest_mesocosm.report.source import load_source
from pytest_mesocosm.scoring.gate import evaluate_gate, parse_thresholds
from pytest_mesocosm.scoring.metrics import RunMetrics


def _view(path: Path, baseline: Path | None = None) -> dict[str, Any]:
    before = load_source(baseline) if baseline is not None else None
    return run_view(load_source(path), 0, before)


def _by_label(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["label"]: row for row in view["episodes"]}


def _trace(run: Path, label: str) -> list[dict[str, Any]]:
    return read_trace(run / "traces" / f"{label.replace('=', '-')}.jsonl")


def test_rows_outcomes_and_metrics_come_from_results_json(wordle_run: Path) -> None:
    view = _view(wordle_run)
    stored = read_results(wordle_run)
    assert [(r["seed"], r["status"], r["total_reward"], r["steps"]) for r in stored["results"]] \
        == [(e["seed"], e["status"], e["reward"], e["steps"]) for e in view["episodes"]]
    rows = _by_label(view)
    assert rows["seed=1"]["tokens"] == 10 * rows["seed=1"]["steps"]
    assert rows["seed=4"]["status"] == "invalid" and rows["seed=4"]["invalid"] == 3
    assert "is not a 5-letter word" in rows["seed=4"]["error"]
    counts = {o["status"]: o["count"] for o in view["outcomes"]}
    assert counts == {"completed": 5, "truncated": 0, "timeout": 0, "invalid": 1,
                      "env_error": 0, "model_error": 0}
    assert sum(o["share"] for o in view["outcomes"]) == pytest.approx(100)

    (metric,) = view["metrics"]
    summary = stored["metrics"]["metrics"]["win_rate"]
    assert (metric["name"], metric["primary"], metric["value"], metric["n"]) == (
        "win_rate", True, pytest.approx(5 / 6), 6)
    assert (metric["lower"], metric["upper"]) == (summary["lower"], summary["upper"])
    assert metric["scale"] == [0.0, 1.0]
    assert 0 < metric["x"]["lower"] < metric["x"]["value"] < metric["x"]["upper"] <= 100
    assert view["verdict"] == {"passed": True, "reasons": [], "recorded": True}  # judge()'s
    assert ("agent.model", stored["config"]["agent"]["model"]) in view["config"]


def test_replay_turns_follow_the_trace(wordle_run: Path) -> None:
    replays = {r["label"]: r for r in _view(wordle_run)["replays"].values()}
    for label, replay in replays.items():
        events = _trace(wordle_run, label)
        played = [e["action"] for e in events if e["event"] == "step_result"]
        assert [t["action"] for t in replay["turns"] if t["accepted"]] == played
        first_obs = next(e for e in events if e["event"] == "observation")
        assert replay["turns"][0]["observation"] == {
            "kind": "json", "data": first_obs["data"], "mime": "application/json"}
        results = [e for e in events if e["event"] == "step_result"]
        for turn, later in zip(replay["turns"][1:], results, strict=False):
            assert turn["observation"]["data"] == later["observation"]  # what the model saw
        end = events[-1]
        assert replay["end"]["status"] == end["status"]
        assert replay["end"]["total_reward"] == end["total_reward"]

    rejected = replays["seed=2"]["turns"][0]["attempts"]
    assert [(a["action"], a["rejected"]) for a in rejected] == [
        ("zzzzz", "'zzzzz' is not in the word list; guess a common English word"),
        (replays["seed=2"]["turns"][0]["action"], None),
    ]
    thinking = replays["seed=1"]["turns"][0]["attempts"][0]
    assert thinking["reasoning"].startswith("try <i>")
    assert thinking["raw"].startswith("<b>thinking</b> ACTION: ")

    failed = replays["seed=4"]
    (open_turn,) = failed["turns"]
    assert not open_turn["accepted"]
    assert [a["action"] for a in open_turn["attempts"]] == [HOSTILE] * 3
    assert all("is not a 5-letter word" in a["rejected"] for a in open_turn["attempts"])
    assert failed["end"]["status"] == "invalid"
    assert failed["end"]["error"].startswith("invalid action at step 1: ")


def test_an_export_gives_the_same_view_as_its_run_folder(
    wordle_run: Path, tmp_path: Path
) -> None:
    path = tmp_path / "export.json"
    path.write_text(json.dumps(export_run(wordle_run)))
    local, exported = _view(wordle_run), _view(path)
    assert exported["kind"] == "export" and local["kind"] == "run folder"
    for key in ("episodes", "outcomes", "metrics", "verdict", "config", "replays", "run_id",
                "name", "model", "complete", "scored"):
        assert exported[key] == local[key], key


def test_a_platform_export_without_our_trace_events_replays_its_turns(
    wordle_run: Path, tmp_path: Path
) -> None:
    data = export_run(wordle_run)
    data["traces"] = {eid: [] for eid in data["traces"]}
    data["run"].pop("mesocosm")
    for episode in data["episodes"]:
        episode.pop("mesocosm")
    path = tmp_path / "platform.json"
    path.write_text(json.dumps(data))

    view = _view(path)
    statuses = {e["label"]: e["status"] for e in view["episodes"]}
    assert statuses["seed=4"] == "failed" and statuses["seed=0"] == "completed"
    assert [m["name"] for m in view["metrics"]] == ["win_rate"]
    assert view["metrics"][0]["value"] == pytest.approx(5 / 6)
    assert view["metrics"][0]["lower"] is None
    local = {r["label"]: r for r in _view(wordle_run)["replays"].values()}
    for replay in view["replays"].values():
        ours = local[replay["label"]]
        assert [t["action"] for t in replay["turns"]] == [
            t["action"] for t in ours["turns"] if t["accepted"]]
        assert [t["observation"] for t in replay["turns"]] == [
            t["observation"] for t in ours["turns"] if t["accepted"]]


def test_a_recorded_gate_is_the_verdict_with_its_threshold_marks(
    wordle_run: Path, tmp_path: Path
) -> None:
    copy_dir = tmp_path / "run"
    copy_dir.mkdir()
    data = read_results(wordle_run)
    gate = evaluate_gate(RunMetrics.from_dict(data["metrics"]),
                         parse_thresholds(["win_rate>=0.9"]))
    data = copy.deepcopy(data) | {"gate": gate.to_dict()}
    (copy_dir / RESULTS_FILE).write_text(json.dumps(data))

    view = _view(copy_dir)
    assert view["verdict"] == {"passed": False, "recorded": True,
                               "reasons": ["win_rate>=0.9 missed: win_rate is 0.8333"]}
    (mark,) = view["metrics"][0]["thresholds"]
    assert mark == {"text": "win_rate>=0.9", "passed": False, "x": 90.0}


def test_baseline_gives_per_seed_differences_and_the_engines_comparison(
    wordle_run: Path, baseline_run: Path
) -> None:
    comparison = _view(wordle_run, baseline_run)["comparison"]
    pairs = {p["label"]: p for p in comparison["pairs"]}
    assert sorted(pairs) == [f"seed={s}" for s in range(6)]
    assert pairs["seed=4"] == {"label": "seed=4", "status_before": "completed",
                               "status_now": "invalid", "reward_before": 1.0,
                               "reward_now": 0.0, "delta": -1.0}
    assert pairs["seed=0"]["delta"] == 0.0
    (delta,) = comparison["deltas"]
    assert delta["name"] == "win_rate" and delta["before"] == 1.0 and delta["worse"]
    assert [(c["label"], c["status_now"]) for c in comparison["worse"]] == [("seed=4", "invalid")]
    assert comparison["better"] == []
    assert comparison["only_before"] == ["seed=6"] and comparison["only_now"] == []


def test_env_error_ends_with_the_envs_own_message(tmp_path: Path) -> None:
    repo = write_counter_repo(
        tmp_path / "repo", "if self.count == 1: raise RuntimeError('the board cracked')"
    )
    config = BenchConfig(agent=AgentOptions(model=write_policy(repo.parent, "return 'up'")),
                         seeds=[0], runs_dir=tmp_path / "runs")
    run = run_bench(load_manifest(repo), config)

    (replay,) = _view(run.run_dir)["replays"].values()
    assert replay["end"]["status"] == "env_error"
    assert "the board cracked" in replay["end"]["error"]
    assert [t["accepted"] for t in replay["turns"]] == [True, False]
    assert replay["turns"][1]["attempts"][0]["action"] == "up"


@pytest.mark.parametrize(("content", "message"), [
    ('{"hello": 1}', "is neither a run folder, a results.json nor a run export"),
    ("not json", "cannot read"),
])
def test_a_file_that_is_no_run_is_refused_in_one_line(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "x.json"
    path.write_text(content)
    with pytest.raises(TraceError, match=message) as info:
        load_source(path)
    assert "\n" not in str(info.value)
