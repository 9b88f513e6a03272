"""Helpers for the plugin's tests: env repos written into pytester's folder, run for real.

Every run is ``pytest --mesocosm`` in a subprocess (adapters are real processes on
loopback ports, the model is the ``script:`` agent, a closed port or the fake Ollama),
so what is tested is what a user runs.
"""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path
from typing import Any

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
RUN_TIMEOUT = 180  # seconds for one `pytest --mesocosm` subprocess


def copy_example(pytester: pytest.Pytester, name: str) -> Path:
    """Copy ``examples/<name>`` into the test's folder; return the copy."""
    target = pytester.path / name
    shutil.copytree(EXAMPLES / name, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def edit_manifest(folder: Path, **changes: Any) -> None:
    """Set top-level keys of a copied benchanything.json."""
    path = folder / "benchanything.json"
    data = json.loads(path.read_text())
    data.update(changes)
    path.write_text(json.dumps(data, indent=2))


def mesocosm(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """``pytest --mesocosm ARGS`` in a subprocess, in pytester's folder."""
    return pytester.runpytest_subprocess("--mesocosm", *args, timeout=RUN_TIMEOUT)


CRASH_ENV = '''\
from pytest_mesocosm.sdk import BaseEnv, StepResult


class Env(BaseEnv):
    """Counts the agent's steps; crashes at step 3 of the seeds listed in CRASH_SEEDS."""

    CRASH_SEEDS = {crash_seeds!r}

    def reset(self, seed=None, **params):
        self.seed, self.count = seed, 0
        return {{"count": 0, "goal": 4}}

    def step(self, action):
        self.count += 1
        if self.count == 3 and self.seed in self.CRASH_SEEDS:
            raise RuntimeError(f"counter jammed at step 3 (seed {{self.seed}})")
        done = self.count >= 4
        return StepResult(observation={{"count": self.count, "goal": 4}},
                          reward=1.0 if done else 0.0, terminated=done, info={{"won": done}})
'''

ADAPTER = '''\
import argparse

from env import Env
from pytest_mesocosm.sdk import serve

parser = argparse.ArgumentParser()
parser.add_argument("--host", default="127.0.0.1")
parser.add_argument("--port", type=int, default=8765)
args = parser.parse_args()
serve(Env, host=args.host, port=args.port)
'''

POLICY = '''\
def up(observation, context=None):
    return "up"
'''


def write_counter_repo(pytester: pytest.Pytester, crash_seeds: tuple[int, ...] = ()) -> Path:
    """A tiny env repo (``counter/``) whose step raises at step 3 for ``crash_seeds``."""
    folder = pytester.path / "counter"
    folder.mkdir()
    (folder / "env.py").write_text(CRASH_ENV.format(crash_seeds=set(crash_seeds)))
    (folder / "adapter.py").write_text(ADAPTER)
    (folder / "policy.py").write_text(POLICY)
    manifest = {
        "adapter": "adapter.py",
        "name": "Counter",
        "binding_vow": {
            "version": "1.0.0",
            "observation_space": {"type": "json"},
            "action_space": {"type": "text"},
            "reward": {"type": "binary", "range": {"low": 0.0, "high": 1.0}},
            "episode": {"max_steps": 10},
        },
        "scoring": {
            "primary_metric": "win_rate",
            "metrics": [{"name": "win_rate", "type": "terminal_field", "field": "won",
                         "aggregation": "pass_rate"}],
        },
    }
    (folder / "benchanything.json").write_text(json.dumps(manifest, indent=2))
    return folder


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip()
