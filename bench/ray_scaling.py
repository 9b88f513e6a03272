"""How episodes scale from one process to `-n 2` to a two-node Ray cluster on this machine.

Part 1, a CPU-heavy env: every ``step`` burns ``--burn`` ms of CPU in the adapter
process (a physics sim, a compiler), the script agent answers at once, same seeds
everywhere. Episodes per second while playing (first episode start to last episode end,
read from the traces, so start-up costs are left out; total wall time is shown too):
``run local`` in-process with one adapter, ``pytest --mesocosm -n 2`` (two adapters),
and ``run local --executor ray`` on a two-node local cluster (``ray start --head`` and
``ray start --address``, one CPU each: two actors, two adapters), as ratios to the first.

Part 2, a model-bound run: Wordle against the loopback Ollama-protocol fake with a
``--latency`` (200 ms) per call, on the same cluster with ``IN_FLIGHT`` episodes at once
spread over the two actors, and in-process with one adapter as the baseline. Efficiency =
ideal time (model calls x latency / in flight) over the actual playing time.

    python bench/ray_scaling.py                               # as the issue asks
    python bench/ray_scaling.py --episodes 40 --in-flight 64  # a quick look on a busy box
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "executors"), str(ROOT / "bench")]

from cluster import LocalRayCluster  # noqa: E402  (the tests' two-node cluster)
from plugin_scaling import fake_ollama  # noqa: E402  (the fake model as its own process)
from support import write_counter_repo  # noqa: E402

WORDLE = ROOT / "examples" / "wordle"
WORDS = ["crane", "slate", "pious", "audio", "lemon", "tried"]


def burn_repo(folder: Path, burn_ms: float, steps: int) -> Path:
    """The counter env with ``steps`` steps per episode, each burning ``burn_ms`` of CPU."""
    hook = (f"_end = time.thread_time() + {burn_ms / 1000!r}\n"
            "        while time.thread_time() < _end: pass")
    write_counter_repo(folder, hook=hook, target=str(steps))
    env = folder / "env.py"
    env.write_text("import time\n" + env.read_text())
    return folder


def playing_span(out: Path) -> tuple[int, float]:
    """Episodes in the run folder(s) under ``out`` and the seconds from first start to last end."""
    starts, ends = [], []
    for trace in out.glob("**/traces/*.jsonl"):
        events = [json.loads(line) for line in trace.read_text().splitlines() if line.strip()]
        begun = datetime.fromisoformat(events[0]["started_at"].replace("Z", "+00:00"))
        starts.append(begun.timestamp())
        ends.append(begun.timestamp() + events[-1]["t"])
    if not starts:
        raise SystemExit(f"no traces under {out}")
    return len(starts), max(ends) - min(starts)


def timed(command: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command[2:6])} failed:\n{done.stdout[-3000:]}"
                         f"{done.stderr[-3000:]}")
    return wall


def run_local(repo: Path, out: Path, env: dict[str, str], *args: str) -> float:
    return timed([sys.executable, "-m", "mesocosm_cli.main", "run", "local", "--quiet",
                  "--out", str(out), *args], repo, env)


def part_one(args: argparse.Namespace, cluster: LocalRayCluster, work: Path) -> None:
    repo = burn_repo(work / "burn", args.burn, args.steps)
    env = {**os.environ, **cluster.env}
    common = ["--model", "script:policy.py:policy", "--episodes", str(args.episodes)]
    rows = []
    out = work / "p1-asyncio"
    wall = run_local(repo, out, env, *common, "--parallel", "4")
    rows.append(("in-process, 1 adapter", wall, *playing_span(out)))
    out = work / "p1-xdist"
    wall = timed([sys.executable, "-m", "pytest", "--mesocosm", "--mesocosm-only", "-q",
                  "-p", "no:cacheprovider", "-n", "2", "--mesocosm-model",
                  "script:policy.py:policy", "--mesocosm-episodes", str(args.episodes),
                  "--mesocosm-parallel", "4", f"--mesocosm-trace-dir={out}"], repo, env)
    rows.append(("pytest -n 2, 2 adapters", wall, *playing_span(out)))
    out = work / "p1-ray"
    wall = run_local(repo, out, env, *common, "--parallel", "4", "--executor", "ray",
                     "--ray-address", cluster.address)
    rows.append(("Ray, 2 nodes x 1 actor", wall, *playing_span(out)))
    ideal = 1000 / (args.burn * args.steps)
    print(f"\nPart 1: env step burns {args.burn:g} ms CPU, {args.steps} steps/episode, "
          f"{args.episodes} episodes (one adapter's ceiling: {ideal:.1f} episodes/s)")
    print(f"{'executor':<26} {'episodes':>8} {'playing s':>9} {'eps/s':>7} {'ratio':>6} "
          f"{'wall s':>7}")
    base = rows[0][2] / rows[0][3]
    for name, wall, count, span in rows:
        rate = count / span
        print(f"{name:<26} {count:>8} {span:>9.2f} {rate:>7.2f} {rate / base:>5.2f}x "
              f"{wall:>7.1f}")


def part_two(args: argparse.Namespace, cluster: LocalRayCluster, work: Path) -> None:
    print(f"\nPart 2: Wordle, fake model with {args.latency * 1000:.0f} ms per call; Ray on the "
          "two-node cluster (2 actors), in-process (one adapter) as the baseline")
    print(f"{'in flight':>9} {'executor':>9} {'episodes':>8} {'calls':>6} {'ideal s':>8} "
          f"{'playing s':>9} {'efficiency':>10}")
    with fake_ollama(args.latency, WORDS) as url:
        env = {**os.environ, **cluster.env, "OLLAMA_HOST": url}
        for in_flight in args.in_flight:
            for executor in ("asyncio", "ray"):
                out = work / f"p2-{in_flight}-{executor}"
                where = ["--ray-address", cluster.address] if executor == "ray" else []
                run_local(WORDLE, out, env, "--model", "ollama/llama3.2", "--episodes",
                          str(in_flight * args.waves), "--parallel", str(in_flight),
                          "--executor", executor, *where, "--model-timeout", "60")
                count, span = playing_span(out)
                results = json.loads(next(out.glob("*/results.json")).read_text())["results"]
                calls = sum(r["model_calls"] for r in results)
                ideal = calls * args.latency / in_flight
                print(f"{in_flight:>9} {executor:>9} {count:>8} {calls:>6} {ideal:>8.2f} "
                      f"{span:>9.2f} {ideal / span:>10.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--episodes", type=int, default=120, help="part 1 episodes")
    parser.add_argument("--burn", type=float, default=20.0, help="CPU ms per env step")
    parser.add_argument("--steps", type=int, default=5, help="steps per episode (part 1)")
    parser.add_argument("--latency", type=float, default=0.2, help="model seconds per call")
    parser.add_argument("--in-flight", type=int, nargs="+", default=[512, 1024],
                        help="episodes in flight across the actors (part 2)")
    parser.add_argument("--waves", type=int, default=2,
                        help="part 2 plays in-flight x waves episodes")
    parser.add_argument("--skip", choices=["1", "2"], help="leave a part out")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} "
          f"{os.getloadavg()[2]:.2f} on {os.cpu_count()} CPUs")
    cluster = LocalRayCluster().start()
    try:
        with tempfile.TemporaryDirectory(prefix="ray-scaling-") as tmp:
            if args.skip != "1":
                part_one(args, cluster, Path(tmp))
            if args.skip != "2":
                part_two(args, cluster, Path(tmp))
    finally:
        cluster.stop()
    print(f"load average after {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
