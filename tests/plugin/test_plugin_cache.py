"""Two xdist workers recording into one cassette folder at once, then a keyless replay."""

from __future__ import annotations

import importlib.util
import json
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml
from fakes.ollama_server import FakeOllama
from plugin_support import RUN_TIMEOUT, copy_example, mesocosm

from pytest_mesocosm.agents.cassette import request_key

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "wordle"
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


def solver_replies(messages: list[dict[str, Any]]) -> str:
    """A model that plays like the Wordle solver (so the recorded answers win games)."""
    spec = importlib.util.spec_from_file_location("wordle_solver", EXAMPLE / "solver.py")
    assert spec is not None and spec.loader is not None
    solver = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(solver)
    observation = json.loads(messages[-1]["content"].split("\n", 1)[1])
    return str(solver.policy(observation))


def test_the_ci_example_gates_on_a_committed_cassette_without_a_key(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Record with the workflow's model (here the fake's OpenAI endpoint), then run the
    workflow's replay step as written, with no key and no model server."""
    workflow = yaml.safe_load((ROOT / "examples" / "ci" / "mesocosm.yml").read_text())
    job = workflow["jobs"]["model-replay"]
    assert "env" not in job and "secrets" not in json.dumps(job)
    (step,) = [s for s in job["steps"] if "--mesocosm-cache replay" in s.get("run", "")]
    argv = shlex.split(step["run"])
    assert argv[:4] == ["python", "-m", "pytest", "--mesocosm"]
    flags = argv[3:]  # from --mesocosm on
    model = flags[flags.index("--mesocosm-model") + 1]
    episodes = flags[flags.index("--mesocosm-episodes") + 1]

    copy_example(pytester, "wordle")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with FakeOllama(solver_replies, models=[model.split("/", 1)[1]]) as fake:
        recorded = mesocosm(pytester, "-n", "2", "--mesocosm-model", model,
                            "--mesocosm-episodes", episodes, "--mesocosm-cache", "use",
                            "--mesocosm-api-base", f"{fake.url}/v1", "wordle")
    assert recorded.ret == pytest.ExitCode.OK, recorded.stdout.str()

    replayed = pytester.runpytest_subprocess(*flags, "wordle", timeout=RUN_TIMEOUT)
    assert replayed.ret == pytest.ExitCode.OK, replayed.stdout.str()
    replayed.stdout.fnmatch_lines(["cache: * hits, 0 misses, 0 model calls; saved *",
                                   "gate: PASSED"])
