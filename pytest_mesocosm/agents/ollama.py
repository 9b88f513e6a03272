"""Ollama models (``ollama/...``, ``ollama_chat/...``), spoken to directly over /api/chat.

Why not through LiteLLM, which understands these ids too: the harness budget is < 3 ms
of CPU per step, and ``bench/litellm_agent_cost.py`` measures on this machine (2 CPUs)
0.15 ms per call for one pooled aiohttp POST to ``/api/chat`` and 0.2 ms per step for
this agent (prompt + call + parse), against 3.4-3.5 ms for ``litellm.acompletion`` to
the same server, 2.5 ms at best (model info registered so its two blocking ``/api/show``
look-ups per call are skipped; those go to ``OLLAMA_API_BASE``/localhost:11434 even when
another ``api_base`` is given), and 3.4 ms with its httpx transport. Ollama is
the default and the local, many-episodes case, so it gets the lean path; every other
provider goes through LiteLLM (:mod:`pytest_mesocosm.agents.litellm_client`). To send an
Ollama model through LiteLLM anyway, use Ollama's OpenAI-compatible endpoint:
``openai/llama3.2`` with ``api_base=http://localhost:11434/v1``.

Both ``ollama/`` and ``ollama_chat/`` use ``/api/chat`` (the model's own chat template,
which LiteLLM also recommends over ``/api/generate``). The server address is the
``api_base`` option, else ``OLLAMA_HOST`` (read the way the Ollama CLI reads it: the
scheme and port may be missing, ``0.0.0.0`` means this machine), else
``http://localhost:11434``.
"""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any, NoReturn
from urllib.parse import urlsplit

import aiohttp

from pytest_mesocosm.agents.transport import (
    Completion,
    Message,
    ModelRequest,
    TransientModelError,
    parse_retry_after,
)
from pytest_mesocosm.errors import AgentConfigError, ModelError

DEFAULT_OLLAMA_URL = "http://localhost:11434"
OLLAMA_PREFIXES = ("ollama/", "ollama_chat/")
_DEFAULT_PORT = 11434
_PATH_SUFFIXES = ("/api/chat", "/api/generate", "/api", "/v1")
_JSON = {"Content-Type": "application/json"}


def is_ollama_model(model: str) -> bool:
    return model.startswith(OLLAMA_PREFIXES)


def ollama_base_url(api_base: str | None = None) -> str:
    """Where Ollama answers: ``api_base``, else ``OLLAMA_HOST``, else localhost:11434."""
    raw = (api_base or os.environ.get("OLLAMA_HOST") or "").strip()
    if not raw:
        return DEFAULT_OLLAMA_URL
    source = "api_base" if api_base else "OLLAMA_HOST"
    default_port: int | None = None
    if "://" not in raw:
        raw, default_port = f"http://{raw}", _DEFAULT_PORT
    try:
        parts = urlsplit(raw)
        port = parts.port or default_port
    except ValueError as exc:
        raise AgentConfigError(
            f"{source}={raw!r} is not a valid Ollama address ({exc}); "
            "use host:port, e.g. 127.0.0.1:11434"
        ) from exc
    host = parts.hostname or "127.0.0.1"
    host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
    netloc = f"[{host}]" if ":" in host else host
    if port:
        netloc += f":{port}"
    path = parts.path.rstrip("/")
    for suffix in _PATH_SUFFIXES:
        if path.endswith(suffix):
            path = path[: -len(suffix)]
            break
    return f"{parts.scheme}://{netloc}{path}"


def _canonical(name: str) -> str:
    return name if ":" in name else f"{name}:latest"


class OllamaTransport:
    """Chats with one Ollama model over one pooled aiohttp session (made on first use)."""

    supports_schema = True  # Ollama's `format` takes a JSON Schema (Ollama >= 0.5)

    def __init__(self, model: str, *, api_base: str | None = None, timeout: float = 120.0):
        self.model = model.split("/", 1)[1]
        if not self.model:
            raise AgentConfigError(f"model {model!r} names no Ollama model; e.g. ollama/llama3.2")
        self.base_url = ollama_base_url(api_base)
        self.timeout = timeout
        self._chat_url = f"{self.base_url}/api/chat"
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _client(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._loop is not loop:
            # No pool cap: the run's own parallel limit bounds the calls in flight, and
            # aiohttp's default of 100 connections made episodes 101..128 queue for a socket.
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=0),
                timeout=aiohttp.ClientTimeout(total=self.timeout), raise_for_status=False,
            )
            self._loop = loop
        return self._session

    def _unreachable(self) -> str:
        return f"Ollama is not answering at {self.base_url}: start it with `ollama serve`"

    def _not_pulled(self) -> str:
        return f"model {self.model} is not pulled: run `ollama pull {self.model}`"

    async def complete(self, request: ModelRequest) -> Completion:
        if request.tool is not None:
            raise AgentConfigError(
                f"a forced tool call ({request.tool.name}) is not sent to Ollama models"
            )
        schema = request.schema
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [_ollama_message(m) for m in request.messages],
            "stream": False,
            "options": {"temperature": request.temperature, "num_predict": request.max_tokens},
        }
        if schema is not None:
            body["format"] = schema
        if request.think is not None:
            body["think"] = request.think
        try:
            async with self._client().post(
                self._chat_url, data=json.dumps(body), headers=_JSON
            ) as response:
                raw = await response.read()
                status, headers = response.status, response.headers
        except aiohttp.ClientConnectorError as exc:
            raise TransientModelError(self._unreachable()) from exc
        except asyncio.TimeoutError as exc:
            raise TransientModelError(
                f"Ollama at {self.base_url} did not answer within {self.timeout:g} s "
                "(raise the model timeout option, or use a smaller model)"
            ) from exc
        except aiohttp.ClientError as exc:
            raise TransientModelError(
                f"the connection to Ollama at {self.base_url} failed: {exc}"
            ) from exc
        if status != 200:
            self._raise_status(status, raw, headers.get("Retry-After"), schema is not None)
        try:
            data = json.loads(raw)
            message = data["message"]
        except (ValueError, KeyError, TypeError) as exc:
            raise TransientModelError(
                f"Ollama at {self.base_url} answered something that is not a chat reply: "
                f"{raw[:200]!r}"
            ) from exc
        return Completion(
            text=message.get("content") or "",
            prompt_tokens=int(data.get("prompt_eval_count") or 0),
            completion_tokens=int(data.get("eval_count") or 0),
            reasoning=message.get("thinking") or None,
        )

    def _raise_status(
        self, status: int, raw: bytes, retry_after: str | None, structured: bool
    ) -> NoReturn:
        try:
            detail = str(json.loads(raw).get("error") or "")
        except (ValueError, AttributeError):
            detail = raw[:200].decode(errors="replace")
        said = f"Ollama answered {status}: {detail}" if detail else f"Ollama answered {status}"
        if status == 404 and "model" in detail.lower():
            raise ModelError(self._not_pulled())
        if status == 404:
            raise ModelError(
                f"{self._chat_url} answered 404: is {self.base_url} an Ollama server?"
            )
        if status == 429 or status >= 500:
            raise TransientModelError(said, retry_after=parse_retry_after(retry_after))
        hint = (" - if it is about `format`, update Ollama (>= 0.5) or turn structured output off"
                if structured else "")
        raise ModelError(f"{said} (model {self.model} at {self.base_url}){hint}")

    async def preflight(self) -> None:
        """Ollama answers, and has the model: otherwise one clear error naming the fix."""
        try:
            async with self._client().get(
                f"{self.base_url}/api/tags", timeout=aiohttp.ClientTimeout(total=10)
            ) as response:
                raw = await response.read()
                status = response.status
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise ModelError(self._unreachable()) from exc
        if status != 200:
            raise ModelError(
                f"Ollama at {self.base_url} answered {status} to GET /api/tags: {raw[:200]!r}"
            )
        try:
            listed = json.loads(raw).get("models") or []
            pulled = {_canonical(str(m.get("name") or m.get("model"))) for m in listed}
        except (ValueError, AttributeError) as exc:
            raise ModelError(
                f"{self.base_url} answered GET /api/tags with something that is not Ollama's "
                "model list: is the address right?"
            ) from exc
        if _canonical(self.model) not in pulled:
            raise ModelError(self._not_pulled())

    async def aclose(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None


def _ollama_message(message: Message) -> Message:
    """OpenAI-style content parts (text + image_url) to Ollama's ``content`` + ``images``."""
    content = message.get("content")
    if not isinstance(content, list):
        return message
    texts = [p.get("text", "") for p in content if p.get("type") == "text"]
    images = [
        p["image_url"]["url"].split(",", 1)[-1] for p in content if p.get("type") == "image_url"
    ]
    out: Message = {"role": message["role"], "content": "\n".join(texts)}
    if images:
        out["images"] = images
    return out
