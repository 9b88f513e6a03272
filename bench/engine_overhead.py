"""What the engine costs per step, and how well it keeps a slow model busy.

Part 1, scripted: N Wordle episodes with the ``script:`` solver through ``run_bench``;
prints episodes/s, steps/s and the harness CPU per step. The env's own step time is
spent in the adapter process, so this process's CPU is the harness's alone.

Part 2, model-bound: the same episodes played by the LLM agent against a loopback
Ollama-protocol server (its own process) that adds a fixed latency per call; prints the
parallel efficiency (ideal = model calls x latency / parallel, over measured wall time)
at several parallel levels and the harness CPU per step, with a breakdown (LiteLLM and
the agent, the adapter client, traces, the rest) from a profile taken with a CPU clock.

Also prints how long a fresh process takes to start its first episode with a ``script:``
agent (LiteLLM must not be imported for it).

    python bench/engine_overhead.py [--episodes 200] [--latency 0.2] [--parallel 1 8 32 128]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORDLE = ROOT / "examples" / "wordle"
sys.path.insert(0, str(ROOT / "tests"))

from support import free_port  # noqa: E402

from pytest_mesocosm.engine.config import AgentOptions, BenchConfig  # noqa: E402
from pytest_mesocosm.engine.session import (  # noqa: E402
    BenchRun,
    BenchSession,
    plan_episodes,
    run_bench,
)
from pytest_mesocosm.manifest.models import load_manifest  # noqa: E402

WORDS = ["crane", "slate", "fight", "about", "house", "world"]  # valid guesses, cycled


def bench_once(model: str, episodes: int, parallel: int, runs_dir: Path, **agent_kw) -> tuple[
    BenchRun, float, float
]:
    """Run ``episodes`` Wordle episodes; return the run, wall seconds and CPU seconds."""
    config = BenchConfig(
        agent=AgentOptions(model=model, **agent_kw),
        episodes=episodes,
        parallel=parallel,
        runs_dir=runs_dir,
    )
    manifest = load_manifest(WORDLE)
    wall, cpu = time.perf_counter(), time.process_time()
    run = run_bench(manifest, config)
    return run, time.perf_counter() - wall, time.process_time() - cpu


def steps_and_calls(run: BenchRun) -> tuple[int, int]:
    return sum(r.steps for r in run.results), sum(r.model_calls for r in run.results)


def scripted(episodes: int, runs_dir: Path) -> None:
    """The solver's own search is CPU too; a fixed-guess policy isolates the harness."""
    print(f"\n== script: agent, {episodes} episodes, parallel 8 ==")
    print(f"{'policy':<14}{'episodes/s':>11}{'steps/s':>9}{'CPU ms/step':>13}{'win rate':>10}")
    for name in ("policy", "weak_policy"):
        model = f"script:{WORDLE / 'solver.py'}:{name}"
        bench_once(model, 5, 1, runs_dir)  # warm the adapter's and our imports
        run, wall, cpu = bench_once(model, episodes, 8, runs_dir)
        steps, _ = steps_and_calls(run)
        print(f"{name:<14}{episodes / wall:>11.1f}{steps / wall:>9.1f}"
              f"{cpu / steps * 1000:>13.3f}{run.metrics.metrics['win_rate'].value:>10.3f}")
    print("weak_policy guesses a fixed word, so its CPU per step is the harness's own "
          "(target < 1 ms); policy adds the solver's search.")


def first_episode_latency(runs_dir: Path) -> None:
    """Seconds from interpreter start to the first finished episode, and whether LiteLLM loaded."""
    script = textwrap.dedent(f"""
        import sys, time
        from pytest_mesocosm.engine.session import run_bench
        from pytest_mesocosm.engine.config import AgentOptions, BenchConfig
        from pytest_mesocosm.manifest.models import load_manifest
        model = "script:{WORDLE / 'solver.py'}:policy"
        config = BenchConfig(agent=AgentOptions(model=model), episodes=1,
                             runs_dir={str(runs_dir)!r})
        run_bench(load_manifest({str(WORDLE)!r}), config)
        print("litellm" in sys.modules)
    """)
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True).stdout.strip()
    print("\n== start-up ==")
    print(f"process start -> first episode done  {time.perf_counter() - start:6.2f} s"
          f"   (target: first episode starts < 1.5 s)")
    print(f"litellm imported for a script: run   {out}")


def profile_breakdown(profile: cProfile.Profile, calls: int) -> None:
    """CPU per model call by part, from a profile taken with a CPU clock."""
    stats = pstats.Stats(profile)
    parts = {
        "agent (prompt, model call, parsing)": ("agents/llm.py", "act"),
        "adapter client": ("adapter_client.py", ("reset", "step", "close")),
        "traces": ("traces.py", "write"),
    }
    total = sum(row[2] for row in stats.stats.values())  # type: ignore[attr-defined]
    print(f"  profiled CPU per call {total / calls * 1000:8.3f} ms (profiler overhead included)")
    accounted = 0.0
    for label, (file_part, names) in parts.items():
        wanted = (names,) if isinstance(names, str) else names
        cumulative = sum(
            row[3] for (filename, _, func), row in stats.stats.items()  # type: ignore[attr-defined]
            if filename.endswith(file_part) and func in wanted
        )
        accounted += cumulative
        print(f"  {label:38s}{cumulative / total * 100:6.1f} %")
    print(f"  {'the rest':38s}{(1 - accounted / total) * 100:6.1f} %")


async def timed_session_run(
    model: str, episodes: int, parallel: int, runs_dir: Path, api_base: str
) -> tuple[list, float, float]:
    """Run episodes on a live session; time only the episodes, not adapter start-up."""
    config = BenchConfig(
        agent=AgentOptions(model=model, api_base=api_base), episodes=episodes,
        parallel=parallel, runs_dir=runs_dir,
    )
    async with BenchSession(load_manifest(WORDLE), config) as session:
        wall, cpu = time.perf_counter(), time.process_time()
        results = await session.run(plan_episodes(config))
        return results, time.perf_counter() - wall, time.process_time() - cpu


def model_bound(episodes: int, latency: float, levels: list[int], runs_dir: Path) -> None:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "fakes" / "ollama_server.py"), "--port", str(port),
         "--latency", str(latency), "--no-record",
         *(arg for word in WORDS for arg in ("--reply", word))],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    api_base = f"http://127.0.0.1:{port}"
    model = "ollama/llama3.2"
    try:
        _wait_for(api_base)
        print(f"\n== LLM agent ({model}) vs a loopback Ollama server adding "
              f"{latency * 1000:.0f} ms per call ==")
        print("episodes = max(--episodes, 8 x parallel) so the last wave's tail does not "
              "dominate; adapter start-up is not timed")
        print(f"{'parallel':>8} {'episodes':>8} {'wall s':>8} {'calls':>6} {'ideal s':>8} "
              f"{'efficiency':>10} {'CPU ms/call':>12}")
        for parallel in levels:
            count = max(episodes, 8 * parallel)
            results, wall, cpu = asyncio.run(
                timed_session_run(model, count, parallel, runs_dir, api_base)
            )
            calls = sum(r.model_calls for r in results)
            ideal = calls * latency / parallel
            print(f"{parallel:>8} {count:>8} {wall:>8.2f} {calls:>6} {ideal:>8.2f} "
                  f"{ideal / wall:>10.3f} {cpu / calls * 1000:>12.3f}")
        print("CPU per call by part (parallel 32, profiled with a CPU clock):")
        profile = cProfile.Profile(time.process_time)
        profile.enable()
        results, _, _ = asyncio.run(
            timed_session_run(model, max(episodes, 256), 32, runs_dir, api_base)
        )
        profile.disable()
        profile_breakdown(profile, sum(r.model_calls for r in results))
    finally:
        server.terminate()
        server.wait(5)


def _wait_for(url: str) -> None:
    import urllib.request

    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url + "/api/tags", timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"the fake Ollama server did not start at {url}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--parallel", type=int, nargs="+", default=[1, 8, 32, 128])
    parser.add_argument("--skip-model", action="store_true", help="only the scripted part")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        runs_dir = Path(tmp)
        first_episode_latency(runs_dir)
        scripted(args.episodes, runs_dir)
        if not args.skip_model:
            model_bound(args.episodes, args.latency, args.parallel, runs_dir)


if __name__ == "__main__":
    main()
