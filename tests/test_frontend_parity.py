"""Both front ends end a run with the same judge(): the same seeds with the Wordle script
solver through ``mesocosm run local`` and through ``pytest --mesocosm`` (both as real
subprocesses) write the same results.json, field by field, gate included."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from support import EXAMPLES, closed_port_url

TIMING_EXTRAS = {"total_wall_seconds", "mean_wall_seconds"}
PER_EPISODE = {"episode_id", "trace_path", "wall_seconds"}  # ids and timings differ
PER_RUN = {"run_id", "created_at", "updated_at"}
FRONT_END_CONFIG = {"runs_dir", "env_url", "start_if_absent"}  # where each looked for things


def comparable(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    for key in PER_RUN:
        data.pop(key)
    for row in data["results"]:
        for key in PER_EPISODE:
            row.pop(key)
    for key in TIMING_EXTRAS:
        data["metrics"]["extras"].pop(key)
    for key in FRONT_END_CONFIG:
        data["config"].pop(key)
    return data


def only_results(folder: Path) -> Path:
    (found,) = folder.rglob("results.json")
    return found


def test_run_local_and_the_plugin_write_the_same_results(tmp_path: Path) -> None:
    repo = tmp_path / "wordle"
    shutil.copytree(EXAMPLES / "wordle", repo, ignore=shutil.ignore_patterns("__pycache__"))
    env = {**os.environ, "MESOCOSM_ENV_URL": closed_port_url()}
    common_threshold = "mean_steps<=2.5"  # the solver needs 2.75: both gates must fail
    cli = subprocess.run(
        [sys.executable, "-m", "mesocosm_cli.main", "run", "local", "--model",
         "script:solver.py:policy", "--seeds", "0", "1", "2", "3", "--threshold",
         common_threshold, "--out", str(tmp_path / "cli"), "--quiet"],
        cwd=repo, env=env, capture_output=True, text=True, timeout=120,
    )
    plugin = subprocess.run(
        [sys.executable, "-m", "pytest", "--mesocosm", "-p", "no:xdist", "-p", "no:cacheprovider",
         "--mesocosm-model", "script:solver.py:policy", "--mesocosm-seeds", "0-3",
         "--mesocosm-threshold", common_threshold, "--mesocosm-trace-dir",
         str(tmp_path / "plugin"), "-q"],
        cwd=repo, env=env, capture_output=True, text=True, timeout=120,
    )
    assert "Traceback" not in cli.stderr + plugin.stderr
    from_cli, from_plugin = (comparable(only_results(tmp_path / name))
                             for name in ("cli", "plugin"))
    assert [r["seed"] for r in from_cli["results"]] == [0, 1, 2, 3]
    assert from_cli["gate"]["checks"], "the gate must have checked the threshold"
    assert from_cli.keys() == from_plugin.keys()
    for key in from_cli:
        assert from_cli[key] == from_plugin[key], key
    failed = not from_cli["gate"]["passed"]
    assert (cli.returncode, plugin.returncode) == ((1, 1) if failed else (0, 0)), (
        cli.stdout + cli.stderr + plugin.stdout)
