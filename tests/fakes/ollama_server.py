"""A loopback stand-in for an Ollama server: the one fake the tests use for the LLM.

It speaks the parts of the Ollama HTTP API the harness (and LiteLLM) touch -
``POST /api/chat``, ``POST /api/generate``, ``GET /api/tags``, ``POST /api/show`` and
Ollama's OpenAI-compatible ``POST /v1/chat/completions`` - on a real port, so agents are
tested through real HTTP. Replies come from a list (cycled) or a callable given the
request's messages; latency, failures (500, or 429 with ``Retry-After``; the first N
calls, or every Nth), a model that hangs and the pulled models are configurable, and
every request body is recorded for assertions.

In tests::

    with FakeOllama(replies=["ACTION: crane"]) as fake:
        ...  # point the agent at fake.url; inspect fake.requests

As a process (benches, end-to-end tests)::

    python tests/fakes/ollama_server.py --port 11500 --latency 0.2 --reply crane --reply slate

aiohttp.web rather than FastAPI: the server's own CPU must stay small next to the
client's, which the benches measure.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

ReplyFn = Callable[[list[dict[str, Any]]], str]
GENERATION_PATHS = ("/api/chat", "/api/generate", "/v1/chat/completions")


@dataclass
class RecordedRequest:
    """One request the fake received: method, path, parsed JSON body (or None), headers."""

    method: str
    path: str
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


def count_tokens(text: str) -> int:
    """Roughly what a BPE tokenizer gives for English: one token per ~4 characters."""
    return max(1, (len(text) + 3) // 4) if text else 0


def _canonical(name: str) -> str:
    return name if ":" in name else f"{name}:latest"


def _now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime())


class FakeOllama:
    """A real aiohttp server on 127.0.0.1 that answers like Ollama; see the module docstring.

    ``replies``: strings cycled per generation call, or a callable ``(messages) -> str``.
    ``fail_first``: the first N generation calls answer ``fail_status`` (500 or 429); a 429
    carries ``Retry-After: retry_after`` when that is set. ``fail_every``: also every Nth
    generation call fails that way (2: every other call). ``hang``: generation calls never
    answer (until the server stops). ``models``: what ``/api/tags`` lists; a generation
    call for another model answers 404 as Ollama does.
    """

    def __init__(
        self,
        replies: Iterable[str] | ReplyFn = ("ACTION: crane",),
        *,
        latency: float = 0.0,
        fail_first: int = 0,
        fail_status: int = 500,
        retry_after: float | None = None,
        fail_every: int = 0,
        hang: bool = False,
        models: Iterable[str] = ("llama3.2",),
        host: str = "127.0.0.1",
        port: int = 0,
        record: bool = True,
    ) -> None:
        if callable(replies):
            self._reply_fn: ReplyFn = replies
        else:
            cycle = itertools.cycle(list(replies))
            self._reply_fn = lambda _messages: next(cycle)
        self.latency = latency
        self.fail_first = fail_first
        self.fail_status = fail_status
        self.retry_after = retry_after
        self.fail_every = fail_every
        self.hang = hang
        self._released: asyncio.Event | None = None  # set on stop: hung calls end
        self.models = [_canonical(m) for m in models]
        self.host = host
        self.port = port
        self.record = record
        self.requests: list[RecordedRequest] = []
        self.counts: dict[str, int] = {}  # requests per path, kept even when not recording
        self.generation_calls = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def chat_bodies(self) -> list[dict[str, Any]]:
        """The bodies of the generation calls received, oldest first."""
        return [r.body for r in self.requests if r.path in GENERATION_PATHS]

    # -- the app ---------------------------------------------------------------------

    def make_app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/", self._root)
        app.router.add_get("/api/version", self._version)
        app.router.add_get("/api/tags", self._tags)
        app.router.add_post("/api/show", self._show)
        app.router.add_post("/api/chat", self._chat)
        app.router.add_post("/api/generate", self._generate)
        app.router.add_post("/v1/chat/completions", self._openai_chat)
        app.router.add_get("/_fake/requests", self._report)
        return app

    async def _report(self, request: web.Request) -> web.Response:
        """Not Ollama's: what this fake received, for benches and subprocess tests."""
        return web.json_response({
            "counts": self.counts,
            "requests": [{"method": r.method, "path": r.path, "body": r.body}
                         for r in self.requests],
        })

    async def _read(self, request: web.Request) -> Any:
        self.counts[request.path] = self.counts.get(request.path, 0) + 1
        raw = await request.read()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        if self.record:
            self.requests.append(
                RecordedRequest(request.method, request.path, body, dict(request.headers))
            )
        return body

    async def _root(self, request: web.Request) -> web.Response:
        return web.Response(text="Ollama is running")

    async def _version(self, request: web.Request) -> web.Response:
        return web.json_response({"version": "0.6.0"})

    async def _tags(self, request: web.Request) -> web.Response:
        await self._read(request)
        return web.json_response({"models": [self._tag(m) for m in self.models]})

    def _tag(self, name: str) -> dict[str, Any]:
        return {
            "name": name, "model": name, "modified_at": _now_iso(), "size": 2019393189,
            "digest": "a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72",
            "details": {"format": "gguf", "family": "llama", "parameter_size": "3.2B",
                        "quantization_level": "Q4_K_M"},
        }

    async def _show(self, request: web.Request) -> web.Response:
        body = await self._read(request) or {}
        name = body.get("model") or body.get("name") or ""
        if _canonical(name) not in self.models:
            return web.json_response({"error": f"model '{name}' not found"}, status=404)
        return web.json_response({
            "modelfile": f"FROM {name}", "parameters": "stop \"<|eot_id|>\"",
            "template": "{{ .System }} {{ .Prompt }}",
            "details": self._tag(_canonical(name))["details"],
            "model_info": {"general.architecture": "llama", "llama.context_length": 131072},
            "capabilities": ["completion", "tools"],
        })

    async def _generation(
        self, request: web.Request
    ) -> tuple[Any, str, web.Response | None]:
        """Read a generation request: its body, model, and the failure to answer if due."""
        body = await self._read(request)
        model = body.get("model", "") if isinstance(body, dict) else ""
        return body, model, await self._gate(body, model)

    async def _gate(self, body: Any, model: str) -> web.Response | None:
        """Count a generation call; answer the scripted failure or a 404 when due."""
        self.generation_calls += 1
        if self.hang:
            self._released = self._released or asyncio.Event()
            await self._released.wait()
            return web.json_response({"error": "server stopping"}, status=503)
        if self.latency:
            await asyncio.sleep(self.latency)
        every = self.fail_every and self.generation_calls % self.fail_every == 0
        if self.generation_calls <= self.fail_first or every:
            headers = {}
            if self.fail_status == 429 and self.retry_after is not None:
                headers["Retry-After"] = f"{self.retry_after:g}"
            error = "rate limited" if self.fail_status == 429 else "model runner crashed"
            return web.json_response({"error": error}, status=self.fail_status, headers=headers)
        if not isinstance(body, dict):
            return web.json_response({"error": "invalid JSON body"}, status=400)
        if _canonical(model) not in self.models:
            error = f'model "{model}" not found, try pulling it first'
            return web.json_response({"error": error}, status=404)
        return None

    def _usage(self, messages: list[dict[str, Any]], text: str) -> tuple[int, int]:
        prompt = sum(count_tokens(str(m.get("content") or "")) + 4 for m in messages)
        return prompt, count_tokens(text)

    def _stats(self, messages: list[dict[str, Any]], text: str) -> dict[str, Any]:
        prompt_tokens, eval_tokens = self._usage(messages, text)
        return {
            "done": True, "done_reason": "stop", "total_duration": 250_000_000,
            "load_duration": 10_000_000, "prompt_eval_count": prompt_tokens,
            "prompt_eval_duration": 40_000_000, "eval_count": eval_tokens,
            "eval_duration": 200_000_000,
        }

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        body, model, failed = await self._generation(request)
        if failed is not None:
            return failed
        messages = list(body.get("messages") or [])
        text = self._reply_fn(messages)
        head = {"model": model, "created_at": _now_iso()}
        if not body.get("stream", True):
            return web.json_response({
                **head, "message": {"role": "assistant", "content": text},
                **self._stats(messages, text),
            })
        chunks = [{**head, "message": {"role": "assistant", "content": piece}, "done": False}
                  for piece in _pieces(text)]
        final = {**head, "message": {"role": "assistant", "content": ""},
                 **self._stats(messages, text)}
        return await _ndjson(request, [*chunks, final])

    async def _generate(self, request: web.Request) -> web.StreamResponse:
        body, model, failed = await self._generation(request)
        if failed is not None:
            return failed
        messages = [{"role": "user", "content": body.get("prompt") or ""}]
        if body.get("system"):
            messages.insert(0, {"role": "system", "content": body["system"]})
        text = self._reply_fn(messages)
        head = {"model": model, "created_at": _now_iso()}
        if not body.get("stream", True):
            return web.json_response({
                **head, "response": text, "context": [1, 2, 3], **self._stats(messages, text),
            })
        chunks = [{**head, "response": piece, "done": False} for piece in _pieces(text)]
        final = {**head, "response": "", "context": [1, 2, 3], **self._stats(messages, text)}
        return await _ndjson(request, [*chunks, final])

    async def _openai_chat(self, request: web.Request) -> web.StreamResponse:
        body, model, failed = await self._generation(request)
        if failed is not None:
            return failed
        messages = list(body.get("messages") or [])
        text = self._reply_fn(messages)
        prompt_tokens, completion_tokens = self._usage(messages, text)
        head = {"id": f"chatcmpl-{self.generation_calls}", "created": int(time.time()),
                "model": model, "system_fingerprint": "fp_ollama"}
        usage = {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                 "total_tokens": prompt_tokens + completion_tokens}
        if not body.get("stream", False):
            return web.json_response({
                **head, "object": "chat.completion",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                             "finish_reason": "stop"}],
                "usage": usage,
            })
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        events = [{**head, "object": "chat.completion.chunk",
                   "choices": [{"index": 0, "delta": {"role": "assistant", "content": piece},
                                "finish_reason": None}]} for piece in _pieces(text)]
        events.append({**head, "object": "chat.completion.chunk",
                       "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
                       "usage": usage})
        for event in events:
            await response.write(f"data: {json.dumps(event)}\n\n".encode())
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response

    # -- running it in a thread ------------------------------------------------------

    def start(self) -> FakeOllama:
        """Serve on a real loopback port from a daemon thread; return when it accepts."""
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        ready = threading.Event()
        self._loop = asyncio.new_event_loop()

        async def serve() -> None:
            self._runner = web.AppRunner(self.make_app(), access_log=None)
            await self._runner.setup()
            await web.SockSite(self._runner, sock).start()
            ready.set()

        def run() -> None:
            assert self._loop is not None
            asyncio.set_event_loop(self._loop)
            self._loop.run_until_complete(serve())
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, name="fake-ollama", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("fake Ollama server did not start in 10 s")
        return self

    def stop(self) -> None:
        """Shut the server down and join its thread; safe to call twice."""
        if self._loop is None or self._thread is None:
            return
        loop, runner = self._loop, self._runner
        if self._released is not None:
            loop.call_soon_threadsafe(self._released.set)
        if runner is not None:
            asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        self._thread.join(10)
        loop.close()
        self._loop = self._thread = self._runner = None

    def __enter__(self) -> FakeOllama:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _pieces(text: str) -> list[str]:
    """Split a reply into word-sized stream chunks, as a model emits them."""
    words = text.split(" ")
    return [w if i == len(words) - 1 else w + " " for i, w in enumerate(words)] or [""]


async def _ndjson(request: web.Request, lines: list[dict[str, Any]]) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "application/x-ndjson"})
    await response.prepare(request)
    for line in lines:
        await response.write(json.dumps(line).encode() + b"\n")
    await response.write_eof()
    return response


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A fake Ollama server on loopback.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=11434)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added per call")
    parser.add_argument("--reply", action="append", help="a reply (repeat to cycle several)")
    parser.add_argument("--model", action="append", help="a pulled model (repeatable)")
    parser.add_argument("--fail-first", type=int, default=0)
    parser.add_argument("--fail-status", type=int, default=500, choices=(500, 429))
    parser.add_argument("--retry-after", type=float, default=None)
    parser.add_argument("--fail-every", type=int, default=0, help="every Nth call fails too")
    parser.add_argument("--hang", action="store_true", help="generation calls never answer")
    parser.add_argument("--no-record", action="store_true", help="keep no request log")
    args = parser.parse_args(argv)
    fake = FakeOllama(
        args.reply or ["ACTION: crane"], latency=args.latency, fail_first=args.fail_first,
        fail_status=args.fail_status, retry_after=args.retry_after,
        fail_every=args.fail_every, hang=args.hang, models=args.model or ["llama3.2"],
        host=args.host, port=args.port,
        record=not args.no_record,
    )
    print(f"fake Ollama listening on http://{args.host}:{args.port}", flush=True)
    web.run_app(fake.make_app(), host=args.host, port=args.port, access_log=None,
                print=None)


if __name__ == "__main__":
    main()
