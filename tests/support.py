"""Test support: free loopback ports and small, real env repos written into a folder."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def closed_port_url() -> str:
    """A loopback URL where nothing listens (the port was free a moment ago)."""
    return f"http://127.0.0.1:{free_port()}"


ADAPTER = """\
import argparse

from env import Env
from pytest_mesocosm.sdk import serve

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    serve(Env, host=args.host, port=args.port, log_level="warning")
"""

COUNTER_ENV = """\
from pytest_mesocosm.sdk import BaseEnv, InvalidAction, StepResult


class Env(BaseEnv):
    \"\"\"Count up to a seeded target; actions are "up". Misbehaves on request.\"\"\"

    blocking = {blocking}

    def reset(self, seed=None, **params):
        self.seed = seed
        self.target = {target}
        self.count = 0
        return {"count": 0, "target": self.target}

    def step(self, action):
        {hook}
        self.count += 1
        done = self.count >= self.target
        return StepResult(
            observation={"count": self.count, "target": self.target},
            reward=1.0 if done else 0.0,
            terminated=done,
            info={"won": "1.0" if done else "0.0"},
        )
"""

POLICY = """\
def policy(observation, context=None):
    return "up"
"""


def manifest(**episode: Any) -> dict[str, Any]:
    return {
        "adapter": "adapter.py",
        "name": "Counter",
        "binding_vow": {
            "version": "1.0.0",
            "observation_space": {"type": "json"},
            "action_space": {"type": "text", "description": "Say up."},
            "reward": {"type": "binary", "range": {"low": 0.0, "high": 1.0}},
            "episode": {"max_steps": 10, "deterministic_reset": True, "supports_seed": True,
                        **episode},
        },
        "scoring": {
            "primary_metric": "win_rate",
            "higher_is_better": True,
            "metrics": [{"name": "win_rate", "type": "terminal_field", "field": "won",
                         "aggregation": "pass_rate"}],
        },
    }


def write_counter_repo(
    folder: Path, hook: str = "pass", *, blocking: bool = False, target: str | None = None,
    **episode: Any,
) -> Path:
    """A counter env whose ``step`` runs ``hook`` (one line of Python) first.

    ``self.count`` is the number of steps already taken when the hook runs, ``self.seed``
    the episode's seed. ``target`` (a Python expression) is how many steps win; by default
    ``2 + seed % 3``. ``blocking`` marks the env as one whose steps block, so the SDK runs
    them in a thread. ``episode`` adds keys to the vow's episode block.
    """
    folder.mkdir(parents=True, exist_ok=True)
    env_code = (COUNTER_ENV.replace("{hook}", hook).replace("{blocking}", str(blocking))
                .replace("{target}", target or "2 + (seed or 0) % 3"))
    (folder / "env.py").write_text(env_code)
    (folder / "adapter.py").write_text(ADAPTER)
    (folder / "policy.py").write_text(POLICY)
    path = folder / "benchanything.json"
    path.write_text(json.dumps(manifest(**episode), indent=2))
    return path


def crash_at_step_3(*seeds: int) -> str:
    """A ``write_counter_repo`` hook: the env raises at step 3 of these seeds."""
    return (f"if self.count == 2 and self.seed in {set(seeds)!r}: "
            "raise RuntimeError(f'counter jammed at step 3 (seed {self.seed})')")


def write_policy(
    folder: Path, body: str, name: str = "custom_policy.py", *, is_async: bool = False
) -> str:
    """Write ``def policy(observation, context): <body>`` and return its ``script:`` string.

    ``is_async`` writes ``async def``, for policies that wait without blocking the loop.
    """
    header = "async def" if is_async else "def"
    body = textwrap.indent(textwrap.dedent(body), "    ")
    code = f"import asyncio\n\n\n{header} policy(observation, context):\n{body}"
    (folder / name).write_text(code)
    return f"script:{folder / name}:policy"


FAKE_OLLAMA = Path(__file__).resolve().parent / "fakes" / "ollama_server.py"


def cli(*args: str, cwd: Path, env: dict[str, str] | None = None,
        timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``mesocosm ARGS`` as a real process (``python -m mesocosm_cli.main``)."""
    return subprocess.run(
        [sys.executable, "-m", "mesocosm_cli.main", *args], cwd=cwd,
        env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=timeout,
    )


def wait_for_port(port: int, timeout: float = 30.0) -> None:
    """Block until something listens on the loopback ``port``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


def no_harness_traceback(text: str) -> bool:
    """True when ``text`` holds no Python traceback and no asyncio/aiohttp leftovers."""
    return not any(marker in text for marker in (
        "Traceback (most recent call last)", "Task exception was never retrieved",
        "Unclosed client session", "Unclosed connector", "Task was destroyed",
    ))


def run_pytest(*args: str, cwd: Path, env: dict[str, str] | None = None,
               timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """``pytest ARGS`` as a real process in ``cwd``, with no cache written."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args], cwd=cwd,
        env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=timeout,
    )


SLOW_SOLVER = """
import time
from solver import policy as solve

def policy(observation, context=None):
    time.sleep(0.05)
    return solve(observation)
"""
_RUN_SPECIFIC = {"wall_seconds", "episode_id", "trace_path"}  # differ between any two runs


def comparable_results(run_dir: Path) -> dict[str, Any]:
    """A run folder's results.json without what differs between any two runs of the same
    episodes: ids, times, paths, the runs folder, and how a resumed run got there."""
    data = json.loads((run_dir / "results.json").read_text())
    for key in ("run_id", "created_at", "updated_at", "resumed"):
        data.pop(key, None)
    data["config"].pop("runs_dir")
    data["results"] = [{k: v for k, v in r.items() if k not in _RUN_SPECIFIC}
                       for r in data["results"]]
    for key in ("total_wall_seconds", "mean_wall_seconds"):
        data["metrics"]["extras"].pop(key)
    return data
