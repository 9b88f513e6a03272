"""What one ``/step`` round trip costs against a real adapter process, and which client to use.

Starts ``examples/wordle/adapter.py`` (our SDK) as ``python adapter.py --port N`` and drives
``/step`` with a lean load generator: threads, each with one stdlib ``http.client``
keep-alive connection and its own episode (reset again when the game ends; resets are
round trips too and count in calls/s, latencies are ``/step`` only). Scenarios:
sequential, 8 and 32 concurrent episodes; the same env stepped in-process is the lower
bound. ``--hosted`` adds the hosted-SDK-shaped adapter of ``tests/fakes`` (sync endpoints
with pydantic bodies) for comparison. Last, the client CPU per call (``time.process_time``
of this process, the server being another) of ``httpx.AsyncClient`` and
``aiohttp.ClientSession``, the two async clients the harness could use.

    python bench/adapter_roundtrip.py [--seconds 3] [--hosted]
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import platform
import runpy
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WORDLE = ROOT / "examples" / "wordle" / "adapter.py"
HOSTED = ROOT / "tests" / "fakes" / "hosted_adapter.py"
GUESSES = ["about", "crane", "slate", "tried", "heart", "pound", "mixed", "vigor"]
JSON_HEADERS = {"Content-Type": "application/json"}


@dataclass
class Game:
    """How to play one adapter's game forever: reset params and a cycle of actions."""

    name: str
    adapter: Path
    params: dict[str, Any]
    actions: list[Any]


WORDLE_GAME = Game("wordle (our SDK)", WORDLE, {"max_guesses": 10}, GUESSES)
HOSTED_GAME = Game("hosted-style (sync pydantic)", HOSTED, {}, list(range(0, 100, 7)))


@dataclass
class Stats:
    latencies: list[float] = field(default_factory=list)  # seconds, /step only
    calls: int = 0  # every round trip, resets included
    wall: float = 0.0
    server_cpu: float = 0.0  # adapter process CPU seconds during the run

    @property
    def rate(self) -> float:
        return self.calls / self.wall

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1e3


@dataclass
class Server:
    """A running adapter: where it listens and how to read its CPU time."""

    port: int
    pid: int

    def cpu(self) -> float:
        """User + system CPU seconds of the adapter process so far (Linux /proc)."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def adapter_process(adapter: Path) -> Iterator[Server]:
    """Run ``python adapter.py --port N`` in its folder until the block ends."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # stderr to a file, not a pipe: a chatty adapter must not block on a full pipe
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen([sys.executable, adapter.name, "--port", str(port),
                                 "--host", "127.0.0.1"], cwd=adapter.parent,
                                stdout=subprocess.DEVNULL, stderr=log)
        try:
            deadline = time.monotonic() + 30
            while True:
                if proc.poll() is not None:
                    log.seek(0)
                    raise SystemExit(f"{adapter} exited: {log.read().decode()[-2000:]}")
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise SystemExit(f"{adapter} did not answer /health in 30 s") from None
                    time.sleep(0.05)
            yield Server(port, proc.pid)
        finally:
            proc.terminate()
            proc.wait(10)


def post(conn: http.client.HTTPConnection, path: str, body: dict[str, Any]) -> dict[str, Any]:
    conn.request("POST", path, json.dumps(body), JSON_HEADERS)
    response = conn.getresponse()
    data = response.read()
    if response.status != 200:
        raise SystemExit(f"{path} answered {response.status}: {data[:300]!r}")
    return json.loads(data)


def drive(port: int, game: Game, episode_id: str, stop: Callable[[], bool],
          stats: Stats, lock: threading.Lock) -> None:
    """One client thread: keep one episode going and time every /step."""
    conn = http.client.HTTPConnection("127.0.0.1", port)
    reset = {"episode_id": episode_id, "seed": zlib.crc32(episode_id.encode()),
             "scenario_params": game.params}
    post(conn, "/reset", reset)
    latencies, calls, i = [], 1, 0
    while not stop():
        action = game.actions[i % len(game.actions)]
        i += 1
        start = time.perf_counter()
        result = post(conn, "/step", {"episode_id": episode_id, "action": action})
        latencies.append(time.perf_counter() - start)
        calls += 1
        if result["terminated"] or result["truncated"]:
            post(conn, "/reset", reset)
            calls += 1
    post(conn, "/close", {"episode_id": episode_id})
    conn.close()
    with lock:
        stats.latencies += latencies
        stats.calls += calls


def load(server: Server, game: Game, clients: int, seconds: float) -> Stats:
    """``clients`` threads for ``seconds`` after a short warm-up."""
    stats, lock = Stats(), threading.Lock()
    for phase, duration in (("warm", min(0.5, seconds)), ("run", seconds)):
        stats = Stats()
        deadline = time.perf_counter() + duration
        threads = [threading.Thread(target=drive, args=(
            server.port, game, f"{phase}-{clients}-{n}",
            lambda d=deadline: time.perf_counter() > d, stats, lock)) for n in range(clients)]
        start, cpu = time.perf_counter(), server.cpu()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        stats.wall = time.perf_counter() - start
        stats.server_cpu = server.cpu() - cpu
    return stats


def in_process(seconds: float, encode: bool) -> Stats:
    """The Wordle env stepped directly (optionally plus the SDK's JSON encoding)."""
    from pytest_mesocosm.sdk.wire import step_body

    env = runpy.run_path(str(WORDLE.with_name("env.py")))["WordleEnv"]()
    env.reset(seed=1, max_guesses=10)
    stats, i, steps = Stats(), 0, 0
    deadline = time.perf_counter() + seconds
    begin = time.perf_counter()
    while time.perf_counter() < deadline:
        action = WORDLE_GAME.actions[i % len(WORDLE_GAME.actions)]
        i += 1
        start = time.perf_counter()
        result = env.step(env.parse_action(action))
        steps += 1
        if encode:
            step_body(result, steps)
        stats.latencies.append(time.perf_counter() - start)
        if result.terminated:
            env.reset(seed=i, max_guesses=10)
            steps = 0
    stats.calls = len(stats.latencies)
    stats.wall = time.perf_counter() - begin
    return stats


async def async_client_cpu(kind: str, port: int, calls: int, tasks: int) -> tuple[float, float]:
    """Client CPU seconds per call and calls/s for ``tasks`` concurrent episodes."""
    url = f"http://127.0.0.1:{port}"
    if kind == "httpx":
        import httpx

        client: Any = httpx.AsyncClient(base_url=url, limits=httpx.Limits(
            max_connections=tasks, max_keepalive_connections=tasks))

        async def call(path: str, body: dict[str, Any]) -> dict[str, Any]:
            response = await client.post(path, json=body)
            return dict(response.json())
    else:
        import aiohttp

        client = aiohttp.ClientSession(url, connector=aiohttp.TCPConnector(limit=tasks))

        async def call(path: str, body: dict[str, Any]) -> dict[str, Any]:
            async with client.post(path, json=body) as response:
                return dict(await response.json())

    async def episode(n: int, count: int) -> None:
        eid = f"{kind}-{n}"
        reset = {"episode_id": eid, "seed": n, "scenario_params": WORDLE_GAME.params}
        await call("/reset", reset)
        for i in range(count):
            action = WORDLE_GAME.actions[i % len(WORDLE_GAME.actions)]
            result = await call("/step", {"episode_id": eid, "action": action})
            if result["terminated"]:
                await call("/reset", reset)
        await call("/close", {"episode_id": eid})

    await asyncio.gather(*(episode(n, 50) for n in range(tasks)))  # warm-up
    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(episode(n, calls // tasks) for n in range(tasks)))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    if kind == "httpx":
        await client.aclose()
    else:
        await client.close()
    return cpu / calls, calls / wall


def http_client_cpu(port: int, calls: int) -> tuple[float, float]:
    """The same figure for the stdlib client, one thread, sequential."""
    stats, lock = Stats(), threading.Lock()
    count = iter(range(calls))
    cpu, wall = time.process_time(), time.perf_counter()
    drive(port, WORDLE_GAME, "stdlib", lambda: next(count, None) is None, stats, lock)
    return (time.process_time() - cpu) / stats.calls, stats.calls / (time.perf_counter() - wall)


def row(name: str, stats: Stats, floor: float) -> str:
    server = f"{stats.server_cpu / stats.calls * 1e6:.0f}" if stats.server_cpu else "-"
    return (f"{name:<44}{stats.rate:>10,.0f}{stats.pct(0.5):>9.3f}{stats.pct(0.99):>9.3f}"
            f"{server:>12}{stats.pct(0.5) / floor:>11.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="per scenario (default 3)")
    parser.add_argument("--calls", type=int, default=4000, help="per client-CPU run")
    parser.add_argument("--hosted", action="store_true",
                        help="also drive tests/fakes/hosted_adapter.py (hosted SDK shape)")
    args = parser.parse_args()

    print(f"adapter /step round trips; {platform.python_implementation()} "
          f"{platform.python_version()}, {os.cpu_count()} CPUs, {args.seconds:g} s per row")
    print(f"{'scenario':<44}{'calls/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'server us':>12}"
          f"{'p50 ratio':>12}")
    bare = in_process(args.seconds, encode=False)
    floor = bare.pct(0.5)
    print(row("in-process env.step", bare, floor))
    print(row("in-process env.step + wire encode", in_process(args.seconds, True), floor))
    games = [WORDLE_GAME, HOSTED_GAME] if args.hosted else [WORDLE_GAME]
    for game in games:
        with adapter_process(game.adapter) as server:
            for clients in (1, 8, 32):
                label = "sequential" if clients == 1 else f"{clients} concurrent"
                print(row(f"{game.name}, {label}", load(server, game, clients, args.seconds),
                          floor))

    print("\nclient CPU per call against the Wordle adapter (this process only)")
    print(f"{'client':<38}{'CPU us/call':>12}{'calls/s':>10}")
    with adapter_process(WORDLE) as server:
        port = server.port
        cpu, rate = http_client_cpu(port, args.calls)
        print(f"{'http.client, 1 thread':<38}{cpu * 1e6:>12.0f}{rate:>10,.0f}")
        for kind in ("httpx", "aiohttp"):
            for tasks in (1, 8):
                cpu, rate = asyncio.run(async_client_cpu(kind, port, args.calls, tasks))
                name = f"{kind} {'AsyncClient' if kind == 'httpx' else 'ClientSession'}"
                print(f"{name + f', {tasks} task(s)':<38}{cpu * 1e6:>12.0f}{rate:>10,.0f}")
    print(f"\nserver us: adapter process CPU per call; p50 ratio: a row's median over the "
          f"in-process env.step median ({floor:.4f} ms)")


if __name__ == "__main__":
    main()
