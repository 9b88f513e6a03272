"""Env repos that misbehave, and one built from the hosted template, met by both front
ends: each episode's outcome, the exit code, the line the user reads, no harness
traceback, and what finished is on disk."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest
from faults_support import counter_repo, run_front_end

from pytest_mesocosm.engine.traces import read_trace


@pytest.mark.parametrize("front", ["cli", "plugin"])
def test_adapter_that_dies_is_reported_with_its_exit_code_and_log(
    tmp_path: Path, front: str
) -> None:
    # seed 1 (target 3) kills the adapter process at its second step
    repo = counter_repo(tmp_path / "counter", hook=(
        "if self.target == 3 and self.count == 1: "
        "print('counter motor burnt out', flush=True); import os; os._exit(3)"))
    run = run_front_end(front, repo, episodes=3)
    assert run.statuses() == ["completed", "env_error", "env_error"]
    died = run.results()["results"][1]["error"]
    assert died.startswith("the adapter process (adapter.py) exited with code 3; last lines of")
    assert "counter motor burnt out" in died
    assert "is the adapter running" not in run.out
    assert "exited with code 3" in run.out
    assert run.code == 1
    assert "seed-0.jsonl" in run.traces()  # the finished episode is kept
    run.assert_no_traceback()


@pytest.mark.parametrize("front", ["cli", "plugin"])
def test_env_rejecting_every_action_says_why_in_the_summary(tmp_path: Path, front: str) -> None:
    # the env echoes the action 10 000 times: the harness trims what it shows and sends
    repo = counter_repo(tmp_path / "counter", hook=(
        "raise InvalidAction('moves are north or south, not ' + repr(action) * 10000)"))
    run = run_front_end(front, repo, episodes=2)
    assert run.statuses() == ["invalid", "invalid"]
    assert "most frequent rejections (invalid actions):" in run.out
    line = next(x for x in run.out.splitlines() if x.strip().startswith("6x moves are north"))
    assert len(line) < 300 and "more characters)" in line
    assert run.code == 0  # a lost game, not an error: no threshold set, the gate passes
    trace = read_trace(next(run.runs.glob("*/traces/seed-0.jsonl")))
    fed_back = [e["reason"] for e in trace if e["event"] == "invalid_action"]
    assert len(fed_back) == 3 and all(len(r) < 1100 for r in fed_back)
    run.assert_no_traceback()


HOSTED_SDK = '''\
"""Stands in for the hosted platform's SDK: importable only by the env repo's interpreter."""
from pytest_mesocosm.sdk import BaseEnv, StepResult, serve  # noqa: F401
'''

HOSTED_ADAPTER = '''\
import argparse

from env import Env
from hosted_sdk import serve

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, required=True)  # the hosted template parses no more
args = parser.parse_args()
serve(Env, host="127.0.0.1", port=args.port, log_level="warning")
'''

HOSTED_TEST = '''\
from hosted_sdk import BaseEnv


def test_env_is_a_hosted_env():
    from env import Env
    assert issubclass(Env, BaseEnv)
'''


def hosted_template_repo(tmp_path: Path) -> tuple[Path, Path]:
    """A repo whose adapter, env and tests import ``hosted_sdk``, and an interpreter
    (a wrapper script, as a virtualenv's python would be) that can import it."""
    sdk = tmp_path / "sdk" / "hosted_sdk"
    sdk.mkdir(parents=True)
    (sdk / "__init__.py").write_text(HOSTED_SDK)
    repo = counter_repo(tmp_path / "repo")
    env = (repo / "env.py").read_text()
    (repo / "env.py").write_text(env.replace(
        "from pytest_mesocosm.sdk import BaseEnv, InvalidAction, StepResult",
        "from hosted_sdk import BaseEnv, StepResult"))
    (repo / "adapter.py").write_text(HOSTED_ADAPTER)
    (repo / "tests").mkdir()
    (repo / "tests" / "test_env.py").write_text(HOSTED_TEST)
    python = tmp_path / "env-python"
    python.write_text(f'#!/bin/sh\nPYTHONPATH="{sdk.parent}${{PYTHONPATH:+:$PYTHONPATH}}" '
                      f'exec "{sys.executable}" "$@"\n')
    python.chmod(python.stat().st_mode | stat.S_IXUSR)
    return repo, python


@pytest.mark.skipif(os.name != "posix", reason="the interpreter stand-in is a shell script")
@pytest.mark.parametrize("front", ["cli", "plugin"])
def test_hosted_template_repo_runs_under_its_own_interpreter(
    tmp_path: Path, front: str
) -> None:
    repo, python = hosted_template_repo(tmp_path)
    if front == "plugin":  # its tests import the hosted SDK: the error names the way out
        broken = run_front_end(front, repo, python=str(python), episodes=2)
        assert broken.code == 2 and not broken.runs.exists()
        assert ("to bench only the manifests, run: pytest --mesocosm --mesocosm-only"
                in broken.out)
        run = run_front_end(front, repo, "--mesocosm-only", python=str(python), episodes=2)
    else:
        run = run_front_end(front, repo, python=str(python), episodes=2)
    assert run.statuses() == ["completed", "completed"]
    assert run.code == 0
    assert "unrecognized arguments" not in run.out
    assert run.traces() == ["seed-0.jsonl", "seed-1.jsonl"]
    saved = run.results()
    assert saved["metrics"]["metrics"]["win_rate"]["value"] == 1.0
    assert json.loads((repo / "benchanything.json").read_text())["name"] == "Counter"
    run.assert_no_traceback()
