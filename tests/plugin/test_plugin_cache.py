"""Two xdist workers recording into one cassette folder at once, then a keyless replay."""

from __future__ import annotations

import json

import pytest
from fakes.ollama_server import FakeOllama
from plugin_support import copy_example, mesocosm

from pytest_mesocosm.agents.cassette import request_key

REPLIES = ["crane", "slate", "pilot", "mound", "zzzzz", "lucky", "trace"]


def test_two_workers_record_one_consistent_cassette_then_replay(
    pytester: pytest.Pytester,
) -> None:
    folder = copy_example(pytester, "wordle")
    with FakeOllama(REPLIES, latency=0.01) as fake:
        recorded = mesocosm(pytester, "-n", "2", "--mesocosm-episodes", "8",
                            "--mesocosm-parallel", "2", "--mesocosm-cache", "use",
                            "--mesocosm-model", "ollama/llama3.2",
                            "--mesocosm-api-base", fake.url)
        asked = {json.dumps(b["messages"], sort_keys=True) for b in fake.chat_bodies()}
    assert recorded.ret == pytest.ExitCode.OK, recorded.stdout.str()
    recorded.stdout.fnmatch_lines(["cache: * hits, * misses, * model calls; saved *"])

    cassettes = folder / "cassettes"
    files = sorted(cassettes.rglob("*.json"))
    assert not [p for p in cassettes.rglob("*") if p.name.startswith(".tmp-")]
    stored = set()
    for path in files:
        entry = json.loads(path.read_text())  # every file whole and readable
        assert path.stem == entry["key"] == request_key(entry["request"])
        stored.add(json.dumps(entry["request"]["messages"], sort_keys=True))
    assert stored == asked  # every request asked is recorded, once

    pytester.makeini("[pytest]\nmesocosm_cache = replay\n")  # the ini twin
    replayed = mesocosm(pytester, "-n", "2", "--mesocosm-episodes", "8",
                        "--mesocosm-model", "ollama/llama3.2",
                        "--mesocosm-api-base", "http://127.0.0.1:9")
    assert replayed.ret == pytest.ExitCode.OK, replayed.stdout.str()
    replayed.assert_outcomes(passed=8)
    replayed.stdout.fnmatch_lines(["cache: * hits, 0 misses, 0 model calls; saved *"])
