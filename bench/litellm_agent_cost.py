"""CPU per model call: raw HTTP vs the ways LiteLLM can be called vs the harness's agent.

The harness budget is < 3 ms of CPU per step. This bench starts the fake Ollama server
(``tests/fakes/ollama_server.py``) as its own process, so the server's CPU is not
counted, and runs each variant in a fresh process (LiteLLM settings are global) for
``--calls`` calls after a warm-up, ``--repeats`` times; it prints the median CPU ms per
call (``time.process_time``: every thread of the client process, so LiteLLM's logging
thread counts) and how many ``/api/show`` look-ups each call caused.

``OLLAMA_API_BASE`` points at the fake, as a local Ollama would be found, so LiteLLM's
per-call model-info look-ups cost what they cost against a real server.

    python bench/litellm_agent_cost.py            # all variants
    python bench/litellm_agent_cost.py --calls 100 --repeats 1 --only agent
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FAKE = ROOT / "tests" / "fakes" / "ollama_server.py"
REPLY = "The first guess should use common letters.\nACTION: crane"
SYSTEM = "You are playing Wordle. Guess the hidden 5-letter word in 6 tries. " * 4
OBSERVATION = {"last_guess": "slate", "feedback": "GYBBB", "guesses_remaining": 4}
MESSAGES = [
    {"role": "system", "content": SYSTEM},
    {"role": "user", "content": json.dumps(OBSERVATION)},
]

VARIANTS: dict[str, str] = {
    "raw": "one pooled aiohttp session, POST /api/chat (the floor)",
    "litellm-ollama": "litellm.acompletion ollama/ as is",
    "litellm-ollama_chat": "litellm.acompletion ollama_chat/ as is",
    "litellm-ollama_chat-registered": "ollama_chat/ with model info registered (no /api/show)",
    "litellm-ollama_chat-registered-shared": "+ our own shared aiohttp session",
    "litellm-ollama_chat-registered-quiet": "+ message logging and token counter off",
    "litellm-ollama_chat-registered-httpx": "+ httpx transport instead of aiohttp",
    "litellm-openai": "litellm openai/ against Ollama's /v1 (OpenAI SDK path)",
    "agent-ollama": "LLMAgent.act, ollama/ (prompt + call + parse), 6-step episodes",
    "agent-openai": "LLMAgent.act, openai/ via LiteLLM to /v1, 6-step episodes",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def show_calls(url: str) -> int:
    with urllib.request.urlopen(url + "/_fake/requests", timeout=5) as response:
        return int(json.load(response)["counts"].get("/api/show", 0))


# -- in the worker process ----------------------------------------------------------


def make_call(variant: str, url: str) -> tuple[Callable[[], Awaitable[Any]], Callable[[], Any]]:
    """(one call, cleanup) for ``variant``; imports happen here, outside the timing."""
    os.environ["OLLAMA_API_BASE"] = url
    if variant == "raw":
        return _raw_call(url)
    if variant.startswith("agent-"):
        return _agent_call(variant, url)
    return _litellm_call(variant, url)


def _raw_call(url: str) -> tuple[Callable[[], Awaitable[Any]], Callable[[], Any]]:
    import aiohttp

    holder: dict[str, aiohttp.ClientSession] = {}
    body = {"model": "llama3.2", "messages": MESSAGES, "stream": False,
            "options": {"temperature": 0.0, "num_predict": 64}}

    async def call() -> Any:
        if "s" not in holder:
            holder["s"] = aiohttp.ClientSession()
        async with holder["s"].post(url + "/api/chat", data=json.dumps(body),
                                    headers={"Content-Type": "application/json"}) as resp:
            return json.loads(await resp.read())

    return call, lambda: holder["s"].close()


def _litellm_call(variant: str, url: str) -> tuple[Callable[[], Awaitable[Any]], Callable[[], Any]]:
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm

    litellm.suppress_debug_info = True
    provider = "openai" if variant == "litellm-openai" else variant.split("-")[1]
    model = f"{provider}/llama3.2"
    kwargs: dict[str, Any] = {"model": model, "messages": MESSAGES, "temperature": 0.0,
                              "max_tokens": 64, "max_retries": 0}
    kwargs["api_base"] = url + "/v1" if provider == "openai" else url
    if provider == "openai":
        kwargs["api_key"] = "none"
    if "registered" in variant:
        litellm.register_model({model: {
            "litellm_provider": provider, "mode": "chat", "input_cost_per_token": 0.0,
            "output_cost_per_token": 0.0, "supports_response_schema": True,
        }})
    if variant.endswith("-quiet"):
        litellm.turn_off_message_logging = True
        litellm.disable_token_counter = True
    if variant.endswith("-httpx"):
        litellm.disable_aiohttp_transport = True
    holder: dict[str, Any] = {}

    async def call() -> Any:
        if variant.endswith("-shared") and "s" not in holder:
            import aiohttp

            holder["s"] = aiohttp.ClientSession()
            kwargs["shared_session"] = holder["s"]
        return await litellm.acompletion(**kwargs)

    async def cleanup() -> None:
        if "s" in holder:
            await holder["s"].close()

    return call, cleanup


def _agent_call(variant: str, url: str) -> tuple[Callable[[], Awaitable[Any]], Callable[[], Any]]:
    sys.path.insert(0, str(ROOT))
    from pytest_mesocosm.agents import AgentContext, TaskInfo, Turn, make_agent
    from pytest_mesocosm.engine.config import AgentOptions

    if variant == "agent-ollama":
        options = AgentOptions(model="ollama/llama3.2", api_base=url, max_tokens=64)
    else:
        options = AgentOptions(model="openai/llama3.2", api_base=url + "/v1", max_tokens=64)
    agent = make_agent(options)
    task = TaskInfo(name="Wordle", description="6 tries to guess a 5-letter word.",
                    action_space={"type": "text", "description": "A 5-letter lowercase word."})
    history: list[Turn] = []

    async def call() -> Any:
        if len(history) == 6:
            history.clear()
        ctx = AgentContext(task=task, episode_id="e", seed=0, step=len(history),
                           observation=OBSERVATION, history=history)
        reply = await agent.act(ctx)
        assert reply.action == "crane", reply
        history.append(Turn(observation=OBSERVATION, raw_text=reply.raw_text,
                            action=reply.action, reward=0.0))
        return reply

    return call, agent.aclose


async def measure(variant: str, url: str, calls: int) -> dict[str, float]:
    call, cleanup = make_call(variant, url)
    for _ in range(10):
        await call()
    shows = show_calls(url)
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(calls):
        await call()
    cpu_ms = (time.process_time() - cpu) * 1000 / calls
    wall_ms = (time.perf_counter() - wall) * 1000 / calls
    shows = show_calls(url) - shows
    done = cleanup()
    if asyncio.iscoroutine(done):
        await done
    return {"cpu_ms": cpu_ms, "wall_ms": wall_ms, "show_per_call": shows / calls}


# -- the driver ---------------------------------------------------------------------


def run_variant(variant: str, url: str, calls: int) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--worker", variant, "--url", url, "--calls", str(calls)],
        capture_output=True, text=True, check=False,
    )
    if out.returncode:
        raise SystemExit(f"{variant} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def start_fake() -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, str(FAKE), "--port", str(port), "--reply", REPLY, "--no-record"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/api/tags", timeout=1):
                return proc, url
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("the fake Ollama server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", default="", help="run the variants whose name contains this")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(asyncio.run(measure(args.worker, args.url, args.calls))))
        return
    proc, url = start_fake()
    try:
        print(f"{args.calls} calls x {args.repeats} runs per variant, median CPU ms per call "
              f"(client process only; {os.cpu_count()} CPUs)\n")
        print(f"{'variant':40s} {'cpu ms':>7s} {'wall ms':>8s} {'show/call':>9s}  runs")
        for variant, about in VARIANTS.items():
            if args.only not in variant:
                continue
            runs = [run_variant(variant, url, args.calls) for _ in range(args.repeats)]
            cpu = statistics.median(r["cpu_ms"] for r in runs)
            wall = statistics.median(r["wall_ms"] for r in runs)
            shows = statistics.median(r["show_per_call"] for r in runs)
            spread = ", ".join(f"{r['cpu_ms']:.2f}" for r in runs)
            print(f"{variant:40s} {cpu:7.2f} {wall:8.2f} {shows:9.1f}  {spread}")
            print(f"  {about}", flush=True)
    finally:
        proc.terminate()
        proc.wait(5)


if __name__ == "__main__":
    main()
