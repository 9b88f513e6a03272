"""How `pytest --mesocosm` scales with xdist processes and in-process parallel episodes.

Part 1 plays Wordle episodes through `pytest --mesocosm` (a real subprocess, real
adapters) against the loopback Ollama-protocol fake model, which adds ``--latency``
seconds to every call and answers valid words in a cycle. For each ``-n`` K and
``--mesocosm-parallel`` P it prints the wall time (whole process, start-up included) and
two ratios: against the ideal ``model calls x latency / (K x P)`` (how much of the time
the model is kept busy) and against the schedule bound (each episode's model calls x
latency, packed greedily in seed order on K x P slots: no scheduler that starts episodes
in seed order can beat it).

Part 2 measures the plugin's own cost per item with the ``script:`` solver (no model
latency): the slope of wall time over episode count for `pytest --mesocosm` minus the
same slope for ``run_bench`` called directly (both in fresh interpreters, so fixed
start-up costs cancel out).

    python bench/plugin_scaling.py                 # 200 episodes, as the issue asks
    python bench/plugin_scaling.py --episodes 40   # part 1 in a few minutes
    python bench/plugin_scaling.py --own-plugins-only   # without the dev extra's pytest plugins
"""

from __future__ import annotations

import argparse
import heapq
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WORDLE = ROOT / "examples" / "wordle"
FAKE_OLLAMA = ROOT / "tests" / "fakes" / "ollama_server.py"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def fake_ollama(latency: float, words: list[str]) -> Iterator[str]:
    """The fake model as its own process, so its CPU is not the harness's."""
    port = free_port()
    replies = [arg for word in words for arg in ("--reply", f"ACTION: {word}")]
    proc = subprocess.Popen(
        [sys.executable, str(FAKE_OLLAMA), "--port", str(port), "--latency", str(latency),
         *replies],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(url + "/api/tags", timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise SystemExit(f"the fake Ollama at {url} did not start") from None
                time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


UNRELATED_PLUGINS = ("hypothesispytest", "schemathesis", "benchmark", "anyio")  # dev extra


def pytest_run(repo: Path, args: list[str], report: Path) -> tuple[float, dict[str, Any]]:
    """Wall time of one `pytest --mesocosm` run and its JSON report."""
    command = [sys.executable, "-m", "pytest", "--mesocosm", "-q", "-p", "no:cacheprovider",
               "--mesocosm-report", str(report), *args]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=repo, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        tail = "\n".join(done.stdout.splitlines()[-30:])
        raise SystemExit(f"pytest failed ({done.returncode}):\n{tail}\n{done.stderr[-2000:]}")
    return wall, json.loads(report.read_text())


def schedule_bound(durations: list[float], slots: int) -> float:
    """The makespan of ``durations`` (in seed order) each started on the first free slot."""
    free = [0.0] * slots
    end = 0.0
    for duration in durations:
        start = heapq.heappop(free)
        end = max(end, start + duration)
        heapq.heappush(free, start + duration)
    return end


def xdist_args(processes: int) -> list[str]:
    return ["-p", "no:xdist"] if processes == 1 else ["-n", str(processes)]


def scaling(repo: Path, args: argparse.Namespace) -> None:
    words = (WORDLE / "words.txt").read_text().split()[:6]
    blocked = [arg for name in UNRELATED_PLUGINS for arg in ("-p", f"no:{name}")
               ] if args.own_plugins_only else []
    print(f"part 1: {args.episodes} Wordle episodes, fake model +{args.latency * 1000:.0f} ms "
          f"per call{', pytest plugins of the dev extra blocked' if blocked else ''}")
    print(f"{'-n':>3} {'parallel':>8} {'calls':>6} {'wall s':>8} {'ideal s':>8} {'effic.':>7} "
          f"{'bound s':>8} {'of bound':>8}")
    with fake_ollama(args.latency, words) as url:
        for processes in args.processes:
            for parallel in args.parallel:
                wall, report = pytest_run(repo, [
                    "--mesocosm-model", "ollama/llama3.2", "--mesocosm-api-base", url,
                    "--mesocosm-episodes", str(args.episodes),
                    "--mesocosm-parallel", str(parallel), *xdist_args(processes), *blocked,
                ], repo / f"report-n{processes}-p{parallel}.json")
                rows = sorted(report["results"], key=lambda r: (r["seed"], r["repeat"]))
                calls = sum(r["model_calls"] for r in rows)
                ideal = calls * args.latency / (processes * parallel)
                bound = schedule_bound([r["model_calls"] * args.latency for r in rows],
                                       processes * parallel)
                print(f"{processes:>3} {parallel:>8} {calls:>6} {wall:>8.2f} {ideal:>8.2f} "
                      f"{ideal / wall:>7.1%} {bound:>8.2f} {bound / wall:>8.1%}", flush=True)


RUN_BENCH = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from pytest_mesocosm.engine.session import run_bench
    from pytest_mesocosm.engine.config import AgentOptions, BenchConfig
    from pytest_mesocosm.manifest.models import load_manifest
    config = BenchConfig(agent=AgentOptions(model="script:solver.py:policy"),
                         episodes=int(sys.argv[1]), runs_dir=Path(sys.argv[2]))
    run_bench(load_manifest("benchanything.json"), config)
""")


def timed(command: list[str], repo: Path) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=repo, check=True, capture_output=True)
    return time.perf_counter() - start


def slope(points: list[tuple[int, float]]) -> float:
    (n1, t1), (n2, t2) = points
    return (t2 - t1) / (n2 - n1)


def overhead(repo: Path, args: argparse.Namespace) -> None:
    counts = args.overhead_counts
    print(f"\npart 2: plugin overhead per item, script:solver.py:policy, {counts[0]} vs "
          f"{counts[1]} episodes, best of {args.repeats}")
    plugin: list[tuple[int, float]] = []
    direct: list[tuple[int, float]] = []
    runs = repo / "runs"
    timed([sys.executable, "-c", RUN_BENCH, "1", str(runs)], repo)  # warm caches first
    for count in counts:
        plugin.append((count, min(timed([
            sys.executable, "-m", "pytest", "--mesocosm", "-q", "-p", "no:cacheprovider",
            "-p", "no:xdist", "--mesocosm-model", "script:solver.py:policy",
            "--mesocosm-episodes", str(count), "--mesocosm-trace-dir", str(runs)], repo)
            for _ in range(args.repeats))))
        direct.append((count, min(timed(
            [sys.executable, "-c", RUN_BENCH, str(count), str(runs)], repo)
            for _ in range(args.repeats))))
    for name, points in (("pytest --mesocosm", plugin), ("run_bench", direct)):
        times = ", ".join(f"{n} episodes {t:.2f} s" for n, t in points)
        print(f"  {name:<18} {times}; {slope(points) * 1000:.2f} ms per episode")
    print(f"  plugin overhead: {(slope(plugin) - slope(direct)) * 1000:.2f} ms per item")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--episodes", type=int, default=200, help="part 1 episodes per run")
    parser.add_argument("--overhead-counts", type=int, nargs=2, default=[20, 200],
                        help="part 2: the two episode counts the slope is taken between")
    parser.add_argument("--latency", type=float, default=0.2, help="seconds per model call")
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--parallel", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--repeats", type=int, default=3, help="part 2 runs per count")
    parser.add_argument("--skip-scaling", action="store_true")
    parser.add_argument("--skip-overhead", action="store_true")
    parser.add_argument("--own-plugins-only", action="store_true",
                        help="part 1: block the pytest plugins of unrelated packages (dev extra)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mesocosm-bench-") as tmp:
        repo = Path(tmp) / "wordle"
        shutil.copytree(WORDLE, repo, ignore=shutil.ignore_patterns("__pycache__"))
        if not args.skip_scaling:
            scaling(repo, args)
        if not args.skip_overhead:
            overhead(repo, args)


if __name__ == "__main__":
    main()
