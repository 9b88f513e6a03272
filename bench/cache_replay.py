"""The same Wordle run cold (every call to the model) and from the cassette, in one run.

A loopback Ollama-protocol server (its own process) stands in for the model and adds a
fixed latency per call, as a real one would. Run 1 records (``cache use`` on an empty
cassette folder: every answer is a model call), run 2 is ``cache use`` again (every
answer a hit), run 3 is ``cache replay`` with the server stopped (no model at all);
run 4, the floor, plays the same episodes with the ``script:`` solver (no model, no
cache: the adapter and the engine alone). Prints wall time, the calls the server
received, hits, and the cassette's size.

    python bench/cache_replay.py [--episodes 50] [--latency 0.2] [--parallel 8]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORDLE = ROOT / "examples" / "wordle"
sys.path.insert(0, str(ROOT / "tests"))

from support import free_port  # noqa: E402

from pytest_mesocosm.agents.cassette import cassette_stats  # noqa: E402
from pytest_mesocosm.engine.config import AgentOptions, BenchConfig  # noqa: E402
from pytest_mesocosm.engine.session import BenchRun, run_bench  # noqa: E402
from pytest_mesocosm.manifest.models import load_manifest  # noqa: E402

WORDS = ["crane", "slate", "fight", "about", "house", "world", "pilot", "mound"]


def calls_seen(api_base: str) -> int:
    with urllib.request.urlopen(f"{api_base}/_fake/requests", timeout=5) as answer:
        return int(json.load(answer)["counts"].get("/api/chat", 0))


def wait_for(api_base: str) -> None:
    for _ in range(100):
        try:
            calls_seen(api_base)
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"the fake Ollama server at {api_base} did not start")


def one_run(env: Path, runs: Path, api_base: str, mode: str, args: argparse.Namespace,
            model: str = "ollama/llama3.2") -> tuple[BenchRun, float]:
    config = BenchConfig(
        agent=AgentOptions(model=model, api_base=api_base, cache=mode),  # type: ignore[arg-type]
        episodes=args.episodes, parallel=args.parallel, parallel_override=True, runs_dir=runs,
    )
    started = time.perf_counter()
    run = run_bench(load_manifest(env), config)
    return run, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=50)
    parser.add_argument("--latency", type=float, default=0.2, help="seconds per model call")
    parser.add_argument("--parallel", type=int, default=8)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="mesocosm-cache-bench-"))
    env = work / "wordle"
    shutil.copytree(WORDLE, env, ignore=shutil.ignore_patterns("__pycache__", ".mesocosm"))
    port = free_port()
    api_base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "fakes" / "ollama_server.py"), "--port", str(port),
         "--latency", str(args.latency), "--no-record",
         *(arg for word in WORDS for arg in ("--reply", word))],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    print(f"{args.episodes} Wordle episodes, parallel {args.parallel}, ollama/llama3.2 on a "
          f"loopback server adding {args.latency * 1000:.0f} ms per call; wall time includes "
          "the adapter's start")
    print(f"{'run':<28} {'wall s':>7} {'model calls':>11} {'hits':>6} {'win_rate':>8}")
    try:
        wait_for(api_base)
        rows = []
        for label, mode in (("cold (cache use, empty)", "use"), ("cached (cache use)", "use")):
            before = calls_seen(api_base)
            run, wall = one_run(env, work / "runs", api_base, mode, args)
            rows.append((label, wall, calls_seen(api_base) - before, run))
    finally:
        server.terminate()
        server.wait(10)
    run, wall = one_run(env, work / "runs", api_base, "replay", args)
    rows.append(("replay (model stopped)", wall, 0, run))
    run, wall = one_run(env, work / "runs", api_base, "off", args, "script:solver.py:policy")
    rows.append(("floor: script: solver", wall, 0, run))
    for label, wall, calls, run in rows:
        hits = sum(r.cache_hits for r in run.results)
        rate = run.metrics.primary.value
        print(f"{label:<28} {wall:>7.2f} {calls:>11} {hits:>6} "
              f"{'-' if rate is None else f'{rate:.3f}':>8}")
    stats = cassette_stats(env / "cassettes")
    print(f"cassette: {stats.entries} files, {stats.bytes / 1024:.1f} KB "
          f"({stats.bytes / 1024 / args.episodes:.1f} KB per episode) in {stats.folder}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
