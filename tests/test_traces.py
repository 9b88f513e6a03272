"""Trace files and run folders, on real files (and a real crashing process)."""

from __future__ import annotations

import base64
import enum
import json
import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from pytest_mesocosm.engine.config import BenchConfig
from pytest_mesocosm.engine.outcomes import EpisodeResult, EpisodeStatus
from pytest_mesocosm.engine.traces import (
    RESULTS_SCHEMA,
    RunFolder,
    TraceError,
    TraceWriter,
    read_results,
    read_trace,
)
from pytest_mesocosm.scoring.metrics import RunMetrics, score_run

SCORING = {"primary_metric": "reward", "metrics": [
    {"name": "reward", "type": "episode_reward", "aggregation": "mean"}]}


class Color(enum.Enum):
    RED = "red"


@dataclass
class Point:
    x: float
    y: float


def test_trace_round_trip_with_odd_values(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "seed-3.jsonl"
    with TraceWriter(path) as trace:
        trace.write("episode_start", episode_id="e1", seed=3, repeat=0, model="m", domain="d")
        trace.write("observation", step=0, data={"board": b"\x00\xff"}, content_type="image/png")
        trace.write("step_result", step=1, reward=float("nan"), info={
            "inf": float("inf"), "neg": -float("inf"), 2: "int key", (1, 2): "tuple key",
            "color": Color.RED, "point": Point(1.0, float("nan")), "path": Path("/x"),
            "tags": ("a", "b"),
        })
        trace.write("episode_end", status="completed", total_reward=1.0)
    events = read_trace(path)
    assert [e["event"] for e in events] == [
        "episode_start", "observation", "step_result", "episode_end"]
    times = [e["t"] for e in events]
    assert times == sorted(times) and times[0] >= 0
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", events[0]["started_at"])
    assert "started_at" not in events[1]
    assert base64.b64decode(events[1]["data"]["board"]) == b"\x00\xff"
    assert events[2]["reward"] == "nan"
    assert events[2]["info"] == {
        "inf": "inf", "neg": "-inf", "2": "int key", "(1, 2)": "tuple key", "color": "red",
        "point": {"x": 1.0, "y": "nan"}, "path": "/x", "tags": ["a", "b"],
    }
    # every line is strict JSON (no NaN literals)
    for line in path.read_text().splitlines():
        json.loads(line, parse_constant=lambda c: pytest.fail(f"non-JSON constant {c}"))


def test_every_event_is_on_disk_before_the_writer_closes(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    trace = TraceWriter(path)
    trace.write("episode_start", episode_id="e")
    trace.write("action", step=1, action="crane")
    assert [e["event"] for e in read_trace(path)] == ["episode_start", "action"]
    trace.close()
    trace.close()  # twice is fine
    with pytest.raises(TraceError, match="is closed; cannot write event 'action'"):
        trace.write("action", step=2)


def test_a_crashed_process_loses_nothing_written(tmp_path: Path) -> None:
    path = tmp_path / "crash.jsonl"
    script = textwrap.dedent(f"""
        import os
        from pytest_mesocosm.engine.traces import TraceWriter
        trace = TraceWriter({str(path)!r})
        for step in range(5):
            trace.write("action", step=step, action="x" * 100)
        os._exit(3)  # no close, no atexit, no buffers flushed by the interpreter
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True)
    assert proc.returncode == 3, proc.stderr
    assert [e["step"] for e in read_trace(path)] == [0, 1, 2, 3, 4]


def test_torn_last_line_is_dropped_but_a_bad_middle_line_raises(tmp_path: Path) -> None:
    path = tmp_path / "torn.jsonl"
    with TraceWriter(path) as trace:
        trace.write("episode_start", episode_id="e")
        trace.write("action", step=1, action="crane")
    with open(path, "a") as handle:
        handle.write('{"event": "step_result", "step": 1, "rew')
    assert [e["event"] for e in read_trace(path)] == ["episode_start", "action"]

    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"event": "a"}\nnot json\n{"event": "b"}\n')
    with pytest.raises(TraceError) as info:
        read_trace(bad)
    assert str(info.value) == f"trace {bad} line 2 is not JSON: Expecting value"
    with pytest.raises(TraceError, match=r"cannot read trace .*nope\.jsonl"):
        read_trace(tmp_path / "nope.jsonl")


def test_run_folder_ids_are_sortable_and_unique(tmp_path: Path) -> None:
    folders = [RunFolder.create(tmp_path / "runs") for _ in range(30)]
    ids = [f.run_id for f in folders]
    assert len(set(ids)) == 30
    for rid in ids:
        assert re.fullmatch(r"\d{8}-\d{6}-[0-9a-f]{4}", rid)
    assert [i[:15] for i in ids] == sorted(i[:15] for i in ids)
    assert all(f.traces_dir.is_dir() and f.path.parent == tmp_path / "runs" for f in folders)

    named = RunFolder.create(tmp_path / "runs", "nightly")
    assert named.path == tmp_path / "runs" / "nightly"
    with pytest.raises(TraceError) as info:
        RunFolder.create(tmp_path / "runs", "nightly")
    assert str(info.value) == (
        f"run folder {tmp_path / 'runs' / 'nightly'} already exists; pick another run id")


@pytest.mark.parametrize(
    ("label", "name"),
    [("seed=3", "seed-3.jsonl"), ("seed=3-r2", "seed-3-r2.jsonl"),
     ("4f1c-uuid_id.x", "4f1c-uuid_id.x.jsonl"), ("a/b\\c d", "a-b-c-d.jsonl"),
     ("..", "episode.jsonl")],
)
def test_trace_paths(tmp_path: Path, label: str, name: str) -> None:
    folder = RunFolder.create(tmp_path, "r")
    assert folder.trace_path(label) == tmp_path / "r" / "traces" / name


def _results() -> list[EpisodeResult]:
    return [
        EpisodeResult("e0", 0, EpisodeStatus.COMPLETED, total_reward=1.0, rewards=[0.0, 1.0],
                      steps=2, last_info={"won": "1.0"}, trace_path="traces/seed-0.jsonl"),
        EpisodeResult("e1", 1, EpisodeStatus.TRUNCATED, repeat=1, reason="step_limit",
                      steps=6, last_info={"nan": float("nan")}),
        EpisodeResult("e2", 2, EpisodeStatus.ENV_ERROR, error="500 from /step: boom"),
    ]


def test_results_json_round_trip(tmp_path: Path) -> None:
    folder = RunFolder.create(tmp_path, "r1")
    results = _results()
    metrics = score_run(SCORING, results)
    manifest = {"id": "wordle", "name": "Wordle", "binding_vow": {"version": "1.0.0"}}
    path = folder.write_results(BenchConfig(episodes=3), results, metrics,
                                extra={"manifest": manifest, "schema": "ignored"})
    assert path == folder.results_path
    assert sorted(p.name for p in folder.path.iterdir()) == ["results.json", "traces"]
    data = json.loads(path.read_text())
    assert data["schema"] == RESULTS_SCHEMA  # extra keys never override ours
    assert (data["run_id"], data["complete"], data["manifest"]) == ("r1", True, manifest)
    assert data["config"]["episodes"] == 3 and data["config"]["runs_dir"] == ".mesocosm/runs"
    loaded = [EpisodeResult.from_dict(r) for r in data["results"]]
    assert loaded[0] == results[0] and loaded[2] == results[2]
    assert loaded[1].last_info == {"nan": "nan"}
    assert RunMetrics.from_dict(data["metrics"]) == metrics

    again = RunFolder.open(folder.path)
    assert (again.run_id, again.created_at) == ("r1", data["created_at"])
    assert RunFolder.open(path).path == folder.path


def test_results_json_for_an_interrupted_run(tmp_path: Path) -> None:
    folder = RunFolder.create(tmp_path, "partial")
    folder.write_results({"episodes": 10}, _results()[:1], None, complete=False)
    data = read_results(folder.path)
    assert (data["complete"], data["metrics"], len(data["results"])) == (False, None, 1)
    folder.write_results({"episodes": 10}, _results(), {"already": "a dict"})
    data = read_results(folder.path)
    assert (data["complete"], data["metrics"], len(data["results"])) == (
        True, {"already": "a dict"}, 3)


def test_results_json_is_replaced_atomically(tmp_path: Path) -> None:
    folder = RunFolder.create(tmp_path, "r")
    folder.write_results({"n": 1}, _results(), None)
    before = folder.results_path.read_bytes()

    class Unprintable:
        def __str__(self) -> str:
            raise RuntimeError("cannot show myself")

    with pytest.raises(RuntimeError, match="cannot show myself"):
        folder.write_results({"n": 2}, _results(), None, extra={"odd": Unprintable()})
    assert folder.results_path.read_bytes() == before  # the old file survives intact
    assert sorted(p.name for p in folder.path.iterdir()) == ["results.json", "traces"]


def test_opening_a_folder_without_results(tmp_path: Path) -> None:
    folder = RunFolder.create(tmp_path, "empty")
    with pytest.raises(TraceError) as info:
        RunFolder.open(folder.path)
    assert str(info.value) == (
        f"{folder.results_path} not found; give a run folder (.mesocosm/runs/<run_id>) "
        "or its results.json")
    folder.results_path.write_text("{not json")
    with pytest.raises(TraceError, match=r"^cannot read .*results\.json: Expecting"):
        RunFolder.open(folder.path)
