"""The self-hosted platform's speed: episodes/s through the server against ``run local``,
and ``GET /v1/runs/{id}`` latency under many concurrent pollers.

Part 1: the same Wordle episodes, the same model (a loopback Ollama-protocol fake with a
fixed latency per call, its own process) and the same parallelism, played (a) by
``run_bench`` in this process and (b) by a ``mesocosm server`` process (SQLite) through
``POST /v1/runs``, timed from the POST to ``completed``. Prints both rates and their
ratio (target: the server at least 0.9 of run local).

Part 2: ``--pollers`` concurrent clients poll one finished run for ``--seconds``, first
plain (200 with the body), then with ``If-None-Match`` (304); prints p50/p99 and req/s.

    python bench/server_throughput.py [--episodes 20] [--parallel 10] [--latency 0.1]
                                      [--pollers 100] [--seconds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "server"))

from platform_kit import FAKE_OLLAMA, WORDLE, Platform, wordle_domain  # noqa: E402
from support import free_port  # noqa: E402

from pytest_mesocosm.adapter import AdapterProcess  # noqa: E402
from pytest_mesocosm.engine.config import AgentOptions, BenchConfig  # noqa: E402
from pytest_mesocosm.engine.session import run_bench  # noqa: E402
from pytest_mesocosm.manifest.models import load_manifest  # noqa: E402

MODEL = "ollama/llama3.2"


def start_fake_ollama(latency: float) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, str(FAKE_OLLAMA), "--port", str(port),
                             "--reply", "slate", "--latency", str(latency), "--no-record"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 15
    while True:
        try:
            httpx.get(f"{url}/api/tags", timeout=1)
            return proc, url
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def local_rate(env_url: str, episodes: int, parallel: int, runs_dir: Path) -> float:
    config = BenchConfig(agent=AgentOptions(model=MODEL, max_tokens=4096, prompt_style="hosted"),
                         episodes=episodes, parallel=parallel,
                         env_url=env_url, runs_dir=runs_dir)
    started = time.perf_counter()
    run = run_bench(load_manifest(WORDLE / "benchanything.json"), config)
    elapsed = time.perf_counter() - started
    assert len(run.results) == episodes
    return episodes / elapsed


def server_rate(platform: Platform, env_url: str, episodes: int, parallel: int) -> tuple[
        float, str, str]:
    token = platform.login("bench")
    with platform.client(token) as client:
        client.post("/v1/domains", json=wordle_domain("bench", env_url))
        started = time.perf_counter()
        run = client.post("/v1/runs", json={
            "domain_id": "bench", "binding_vow_version": "1.0.0",
            "agent_config": {"model": MODEL}, "num_episodes": episodes,
            "max_parallel": parallel, "visibility": "gallery_public"}).json()
        while client.get(f"/v1/runs/{run['id']}").json()["status"] == "running":
            time.sleep(0.02)
        elapsed = time.perf_counter() - started
    return episodes / elapsed, run["id"], token


async def poll(url: str, token: str, pollers: int, seconds: float, etag: bool
               ) -> tuple[list[float], int]:
    """Latencies of answered requests and the count of those that timed out (30 s)."""
    latencies: list[float] = []
    timeouts = 0
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=pollers, max_keepalive_connections=pollers)
    async with httpx.AsyncClient(headers=headers, limits=limits, timeout=30) as client:
        tag = (await client.get(url)).headers["ETag"]
        end = time.perf_counter() + seconds

        async def one() -> None:
            nonlocal timeouts
            extra = {"If-None-Match": tag} if etag else {}
            while time.perf_counter() < end:
                t0 = time.perf_counter()
                try:
                    answer = await client.get(url, headers=extra)
                except httpx.TimeoutException:
                    timeouts += 1
                    continue
                latencies.append(time.perf_counter() - t0)
                assert answer.status_code == (304 if etag else 200)

        await asyncio.gather(*(one() for _ in range(pollers)))
    return latencies, timeouts


def quantile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q * 100) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=20)
    parser.add_argument("--parallel", type=int, default=10)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--pollers", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()

    fake, ollama = start_fake_ollama(args.latency)
    os.environ["OLLAMA_HOST"] = ollama
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    folder = Path(tempfile.mkdtemp(prefix="server-bench-"))
    adapter = AdapterProcess(WORDLE / "adapter.py", log_path=folder / "adapter.log").start()
    platform = Platform(folder / "server", f"sqlite:///{folder / 'server.db'}",
                        env={"OLLAMA_HOST": ollama,
                             "MESOCOSM_SERVER_WORKERS": str(args.parallel)})
    try:
        platform.add_users("bench")
        platform.start()
        local = local_rate(adapter.url, args.episodes, args.parallel, folder / "runs")
        served, run_id, token = server_rate(platform, adapter.url, args.episodes,
                                            args.parallel)
        print(f"episodes={args.episodes} parallel={args.parallel} "
              f"model latency={args.latency}s")
        print(f"run local: {local:.2f} episodes/s")
        print(f"server:    {served:.2f} episodes/s  ratio {served / local:.2f} (target >= 0.9)")
        url = f"{platform.local}/v1/runs/{run_id}"
        for etag in (False, True):
            latencies, timeouts = asyncio.run(poll(url, token, args.pollers, args.seconds,
                                                   etag))
            label = "If-None-Match (304)" if etag else "plain (200)"
            print(f"GET /v1/runs/{{id}} {label:20s} {args.pollers} pollers: "
                  f"p50 {quantile(latencies, 0.5) * 1000:.1f} ms  "
                  f"p99 {quantile(latencies, 0.99) * 1000:.1f} ms  "
                  f"{len(latencies) / args.seconds:.0f} req/s  {timeouts} timed out")
    finally:
        platform.stop()
        adapter.stop()
        fake.terminate()


if __name__ == "__main__":
    main()
