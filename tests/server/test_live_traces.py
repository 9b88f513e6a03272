"""The live trace feed in one process: hosted events one at a time equal the whole-list
result (on the engine's real traces), and the hub that hands them to sockets.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from support import write_counter_repo, write_policy

from mesocosm_server.live import LiveTraces
from mesocosm_server.traces import HostedStream, hosted_events
from pytest_mesocosm.engine.config import AgentOptions, BenchConfig, EpisodeLimits
from pytest_mesocosm.engine.session import run_bench
from pytest_mesocosm.engine.traces import read_trace
from pytest_mesocosm.manifest.models import load_manifest


def _engine_traces(tmp_path: Path, body: str, limits: EpisodeLimits) -> list[list[dict[str, Any]]]:
    """Real traces: the counter env, which rejects any action but "up", played by a
    policy written with ``body``."""
    repo = write_counter_repo(
        tmp_path / "repo", hook="if action != 'up': raise InvalidAction('say up')")
    config = BenchConfig(agent=AgentOptions(model=write_policy(repo.parent, body), retries=0),
                         limits=limits, runs_dir=tmp_path / "runs", seeds=[0, 1, 2])
    run = run_bench(load_manifest(repo), config)
    return [read_trace(Path(str(r.trace_path))) for r in run.results]


@pytest.mark.parametrize(("body", "limits", "ends"), [
    ("return 'up'", EpisodeLimits(), {"completed"}),
    ("return 'up' if context.feedback else 'down'", EpisodeLimits(), {"completed"}),
    ("return 'down'", EpisodeLimits(), {"invalid"}),
    ("return 'up'", EpisodeLimits(max_steps=1), {"truncated"}),
])
def test_events_one_at_a_time_are_the_whole_list_result(
    tmp_path: Path, body: str, limits: EpisodeLimits, ends: set[str]
) -> None:
    traces = _engine_traces(tmp_path, body, limits)
    assert {t[-1]["status"] for t in traces} == ends
    for events in traces:
        whole = hosted_events("e1", events)
        stream = HostedStream("e1")
        shown: list[dict[str, Any]] = []
        for count, event in enumerate(events, 1):
            shown += stream.add(event)
            assert shown == whole[:len(shown)]  # never an event out of its final place
            if event["event"] == "step_result":
                assert shown == hosted_events("e1", events[:count])  # its step is out
        assert shown == whole


def test_a_steps_events_come_out_when_it_ends(tmp_path: Path) -> None:
    learner = "return 'up' if context.feedback else 'down'"
    events = _engine_traces(tmp_path, learner, EpisodeLimits())[0]
    stream = HostedStream("e1")
    out = [[e["event_type"] for e in stream.add(event)] for event in events]
    assert out == [
        [], [],  # episode_start, observation: step 0 goes on until the first model call
        ["episode_start", "observation"],  # the first model call: step 1 began
        [], [], [], [],  # action (rejected), invalid_action, model_call, action
        ["model_call", "model_call", "action", "invalid_action", "action", "step_result"],
        [], [], [], [], [],
        ["model_call", "model_call", "action", "invalid_action", "action", "step_result"],
        ["episode_end"],
    ]


def _event(step: int) -> dict[str, Any]:
    return {"event": "step_result", "t": 0.1 * step, "step": step, "reward": 1.0}


def test_the_hub_gives_the_events_so_far_then_new_ones_then_the_end() -> None:
    hub = LiveTraces()
    assert hub.subscribe("e1") is None  # not played here
    hub.open("e1")
    hub.publish("e1", {"event": "episode_start", "t": 0.0,
                       "started_at": "2026-01-01T00:00:00Z"})
    hub.publish("e1", _event(1))
    early = hub.subscribe("e1")
    assert early is not None and early.qsize() == 2  # step 0 and step 1
    leaving = hub.subscribe("e1")
    assert leaving is not None
    hub.unsubscribe("e1", leaving)
    hub.publish("e1", _event(2))
    hub.publish("other", _event(1))  # an episode without a feed: dropped
    hub.close("e1")
    got = [early.get_nowait() for _ in range(early.qsize())]
    assert [e and (e["event_type"], e["step"]) for e in got] == [
        ("episode_start", 0), ("step_result", 1), ("step_result", 2), None]
    assert got[0] and got[0]["timestamp"] == "2026-01-01T00:00:00"
    assert leaving.qsize() == 2  # nothing after it left
    assert hub.subscribe("e1") is None  # nothing kept once the play is over
