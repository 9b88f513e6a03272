"""Process start to first episode, for `pytest --mesocosm` and `mesocosm run local`.

Each front end is started as a fresh process playing one Wordle episode with the
``script:`` solver (no model to wait for, LiteLLM never imported); the figure is the
time from just before the process is spawned to the ``started_at`` stamp of the
episode's ``episode_start`` trace event (millisecond resolution), median of
``--repeats``. Printed beside it, measured in the same run: a bare interpreter
(``python -c pass``) and a bare ``pytest --version``, the floors no plugin can go under.
``pytest (own plugins only)`` blocks the pytest plugins of unrelated packages installed
beside this one (hypothesis, schemathesis, pytest-benchmark, anyio in the dev extra),
which every pytest process imports and assertion-rewrites before this plugin runs.

    python bench/startup.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORDLE = ROOT / "examples" / "wordle"
CLI = "from mesocosm_cli.main import cli; cli()"
UNRELATED_PLUGINS = ("hypothesispytest", "schemathesis", "benchmark", "anyio")
MODEL = "script:solver.py:policy"


def first_start(command: list[str], repo: Path, traces: Path) -> float:
    """Seconds from spawning ``command`` to its first episode's start."""
    shutil.rmtree(traces, ignore_errors=True)
    spawned = time.time()
    done = subprocess.run(command, cwd=repo, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{command[:4]} failed ({done.returncode}):\n{done.stdout[-1500:]}\n"
                         f"{done.stderr[-1500:]}")
    stamps = []
    for trace in traces.rglob("*.jsonl"):
        first = json.loads(trace.read_text().splitlines()[0])
        stamps.append(datetime.fromisoformat(first["started_at"].replace("Z", "+00:00")))
    return min(stamps).timestamp() - spawned


def whole(command: list[str], repo: Path) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=repo, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    blocked = [arg for name in UNRELATED_PLUGINS for arg in ("-p", f"no:{name}")]
    with tempfile.TemporaryDirectory(prefix="mesocosm-bench-") as tmp:
        repo = Path(tmp) / "wordle"
        shutil.copytree(WORDLE, repo, ignore=shutil.ignore_patterns("__pycache__"))
        traces = Path(tmp) / "runs"
        pytest = [sys.executable, "-m", "pytest", "--mesocosm", "-q", "-p", "no:cacheprovider",
                  "-p", "no:xdist", "--mesocosm-model", MODEL, "--mesocosm-episodes", "1",
                  "--mesocosm-trace-dir", str(traces)]
        local = [sys.executable, "-c", CLI, "run", "local", "--quiet", "--model", MODEL,
                 "--episodes", "1", "--env-url", "http://127.0.0.1:9", "--out", str(traces)]
        floors = {
            "python -c pass (whole process)": [sys.executable, "-c", "pass"],
            "pytest --version (whole process)": [sys.executable, "-m", "pytest", "--version"],
        }
        fronts = {
            "pytest --mesocosm": pytest,
            "pytest (own plugins only)": [*pytest, *blocked],
            "mesocosm run local": local,
        }
        print(f"process start -> first episode starts, median of {args.repeats} "
              "(target < 1 s)")
        for label, command in floors.items():
            median = statistics.median(whole(command, repo) for _ in range(args.repeats))
            print(f"  {label:<34}{median:6.2f} s")
        for label, command in fronts.items():
            median = statistics.median(
                first_start(command, repo, traces) for _ in range(args.repeats))
            print(f"  {label:<34}{median:6.2f} s", flush=True)


if __name__ == "__main__":
    main()
