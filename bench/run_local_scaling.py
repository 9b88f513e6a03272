"""How close `mesocosm run local --parallel P` comes to the schedule bound, whole process.

Plays Wordle episodes through the real CLI (a fresh interpreter, the manifest's adapter
started for the run) against the loopback Ollama-protocol fake model, which adds
``--latency`` seconds to every call. The schedule bound is each episode's model calls x
latency, packed greedily in seed order on P slots: what a harness with no cost of its
own, start-up included, would take. Prints wall time, the bound and their ratio.

    python bench/run_local_scaling.py                       # 200 episodes at 32 and 128
    python bench/run_local_scaling.py --parallel 128 --repeats 3
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from plugin_scaling import WORDLE, fake_ollama, schedule_bound

CLI = "from mesocosm_cli.main import cli; cli()"


def run_local(repo: Path, url: str, episodes: int, parallel: int) -> tuple[float, list[dict]]:
    """Wall time of one `run local` and its results, in seed order."""
    out = Path(tempfile.mkdtemp(dir=repo, prefix="runs-"))
    command = [sys.executable, "-c", CLI, "run", "local", "--quiet", "--model", "ollama/llama3.2",
               "--api-base", url, "--episodes", str(episodes), "--parallel", str(parallel),
               "--env-url", "http://127.0.0.1:9", "--out", str(out)]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=repo, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"run local failed ({done.returncode}):\n{done.stdout[-2000:]}\n"
                         f"{done.stderr[-2000:]}")
    results = json.loads(next(out.glob("*/results.json")).read_text())["results"]
    return wall, sorted(results, key=lambda r: (r["seed"], r["repeat"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--episodes", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.2, help="seconds per model call")
    parser.add_argument("--parallel", type=int, nargs="+", default=[32, 128])
    parser.add_argument("--repeats", type=int, default=1, help="runs per level (best kept)")
    args = parser.parse_args()
    words = (WORDLE / "words.txt").read_text().split()[:6]
    print(f"{args.episodes} Wordle episodes, `run local`, fake model +"
          f"{args.latency * 1000:.0f} ms per call, best of {args.repeats}")
    print(f"{'parallel':>8} {'calls':>6} {'wall s':>8} {'bound s':>8} {'of bound':>8}")
    with tempfile.TemporaryDirectory(prefix="mesocosm-bench-") as tmp, \
            fake_ollama(args.latency, words) as url:
        repo = Path(tmp) / "wordle"
        shutil.copytree(WORDLE, repo, ignore=shutil.ignore_patterns("__pycache__"))
        for parallel in args.parallel:
            runs = [run_local(repo, url, args.episodes, parallel) for _ in range(args.repeats)]
            wall, rows = min(runs, key=lambda run: run[0])
            bound = schedule_bound([r["model_calls"] * args.latency for r in rows], parallel)
            calls = sum(r["model_calls"] for r in rows)
            print(f"{parallel:>8} {calls:>6} {wall:>8.2f} {bound:>8.2f} {bound / wall:>8.1%}",
                  flush=True)


if __name__ == "__main__":
    main()
