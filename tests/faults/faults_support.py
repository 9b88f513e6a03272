"""The faults suite's harness: env repos that misbehave, and the two front ends run for real.

Every run is a subprocess - ``python -m mesocosm_cli.main run local`` or
``python -m pytest --mesocosm`` - against a real adapter process and, for LLM faults, the
loopback fake Ollama of ``tests/fakes``; a test reads what the user reads (exit code,
output) and what is left on disk (results.json, traces).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from support import closed_port_url, manifest, write_counter_repo

ROOT = Path(__file__).resolve().parents[2]
RUN_TIMEOUT = 90
FRONT_ENDS = ("cli", "plugin")


@dataclass
class Run:
    """One finished front-end run: exit code, output, and the run folder it left."""

    code: int
    out: str
    runs: Path

    def results(self) -> dict[str, Any]:
        found = sorted(self.runs.glob("*/results.json"))
        assert len(found) == 1, f"expected one results.json under {self.runs}: {found}"
        return json.loads(found[0].read_text())

    def statuses(self) -> list[str]:
        return [r["status"] for r in self.results()["results"]]

    def traces(self) -> list[str]:
        return sorted(p.name for p in self.runs.glob("*/traces/*.jsonl"))

    def assert_no_traceback(self) -> None:
        assert "Traceback" not in self.out, self.out


def _env() -> dict[str, str]:
    """The test's environment with this checkout first on the path (also for adapters)."""
    path = os.environ.get("PYTHONPATH", "")
    return {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{path}" if path else str(ROOT)}


def run_front_end(front: str, repo: Path, *args: str, model: str | None = None,
                  episodes: int = 3, api_base: str | None = None,
                  python: str | None = None, timeout: float | None = None,
                  retries: int | None = None, extra: tuple[str, ...] = ()) -> Run:
    """Bench ``repo`` (a folder with benchanything.json) with the CLI or the plugin."""
    runs = repo.parent / f"runs-{front}"
    model = model or f"script:{repo / 'policy.py'}:policy"
    if front == "cli":
        cmd = [sys.executable, "-m", "mesocosm_cli.main", "run", "local",
               "--manifest", str(repo), "--env-url", closed_port_url(), "--out", str(runs),
               "--model", model, "--episodes", str(episodes)]
        flag = {"api_base": "--api-base", "python": "--python", "timeout": "--model-timeout",
                "retries": "--model-retries"}
    else:
        cmd = [sys.executable, "-m", "pytest", "--mesocosm", "-p", "no:cacheprovider",
               "-p", "no:xdist", "--rootdir", str(repo), "--mesocosm-trace-dir", str(runs),
               "--mesocosm-model", model, "--mesocosm-episodes", str(episodes)]
        flag = {"api_base": "--mesocosm-api-base", "python": "--mesocosm-python",
                "timeout": "--mesocosm-model-timeout", "retries": "--mesocosm-model-retries"}
    given = {"api_base": api_base, "python": python, "timeout": timeout, "retries": retries}
    for key, value in given.items():
        if value is not None:
            cmd += [flag[key], str(value)]
    cmd += [*extra, *args]
    done = subprocess.run(cmd, cwd=repo, env=_env(), capture_output=True, text=True,
                          timeout=RUN_TIMEOUT)
    return Run(done.returncode, done.stdout + done.stderr, runs)


def counter_repo(folder: Path, hook: str = "pass", **episode: Any) -> Path:
    """The counter env of ``tests/support`` (seed s wins in 2 + s % 3 steps of "up")."""
    write_counter_repo(folder, hook, **episode)
    return folder


def rewrite_manifest(folder: Path, **episode: Any) -> None:
    (folder / "benchanything.json").write_text(json.dumps(manifest(**episode), indent=2))
