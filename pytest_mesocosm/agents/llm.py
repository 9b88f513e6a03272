"""The LLM agent: prompt profile -> model (with retries) -> parsed action, for any model id.

One agent serves every concurrent episode of a run: it keeps no episode state, only the
transport's pooled connection and its prompt profile
(:mod:`~pytest_mesocosm.agents.profile`: ``hosted`` or ``chat``). ``ollama/`` and
``ollama_chat/`` ids go straight to Ollama's /api/chat; every other id goes through
LiteLLM - see :mod:`pytest_mesocosm.agents.ollama` for the measured reason.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from pytest_mesocosm.agents.base import AgentContext, AgentReply
from pytest_mesocosm.agents.cache import CACHE_MODES, ModelCache
from pytest_mesocosm.agents.cassette import CASSETTE_DIR
from pytest_mesocosm.agents.ollama import OllamaTransport, is_ollama_model
from pytest_mesocosm.agents.profile import PROMPT_STYLES, make_profile, model_id
from pytest_mesocosm.agents.transport import (
    Completion,
    RetryPolicy,
    Transport,
    call_with_retries,
)
from pytest_mesocosm.agents.waiting import WaitNotices
from pytest_mesocosm.engine.config import AgentOptions
from pytest_mesocosm.errors import AgentConfigError


class LLMAgent:
    """Plays with a language model named by a LiteLLM model id (``options.model``).

    ``retry`` overrides the backoff (its ``retries`` always comes from ``options``);
    ``completion_kwargs`` go to every ``litellm.acompletion`` call as they are (e.g.
    ``api_key``, ``extra_headers``, or LiteLLM's ``mock_response`` in tests).
    ``cache_dir`` is the cassette folder when ``options.cache`` is not ``off`` (default:
    ``cassettes/`` in the working directory; :func:`make_agent` puts it by the manifest).
    """

    def __init__(
        self,
        options: AgentOptions,
        *,
        retry: RetryPolicy | None = None,
        completion_kwargs: Mapping[str, Any] | None = None,
        cache_dir: Path | None = None,
    ):
        _check_options(options)
        self.options = options
        self.name = options.model
        self.retry = replace(retry or RetryPolicy(), retries=options.retries)
        self.model = model = model_id(options)
        self.transport: Transport
        if is_ollama_model(model):
            if completion_kwargs:
                raise AgentConfigError(
                    f"completion_kwargs apply to LiteLLM models only, not {model}"
                )
            self.transport = OllamaTransport(
                model, api_base=options.api_base, timeout=options.timeout
            )
        else:
            from pytest_mesocosm.agents.litellm_client import LiteLLMTransport

            self.transport = LiteLLMTransport(
                model, api_base=options.api_base, timeout=options.timeout,
                extra=completion_kwargs,
            )
        self.profile = make_profile(options, model, supports_schema=self.transport.supports_schema)
        self.cache = None if options.cache == "off" else ModelCache(
            options.cache, options.cache_dir or cache_dir or Path(CASSETTE_DIR), model
        )
        self._notices = WaitNotices(options.model)

    async def act(self, ctx: AgentContext) -> AgentReply:
        request = self.profile.request(ctx)
        started = time.perf_counter()

        def call() -> Awaitable[Completion]:
            attempts = call_with_retries(lambda: self.transport.complete(request), self.retry,
                                         self._notices.say)
            return self._notices.watch(attempts, self.options.timeout, self.retry.retries)

        cached: bool | None = None
        if self.cache is None:
            completion = await call()
        else:
            completion, cached = await self.cache.complete(request, ctx, call)
        latency = time.perf_counter() - started
        parsed = self.profile.read(completion, ctx)
        reasoning = "\n\n".join(p for p in (completion.reasoning, parsed.reasoning) if p)
        return AgentReply(
            action=parsed.action,
            raw_text=completion.text,
            parse_error=parsed.error,
            reasoning=reasoning or None,
            messages=request.messages,
            prompt_tokens=completion.prompt_tokens,
            completion_tokens=completion.completion_tokens,
            cost=completion.cost,
            latency=latency,
            cached=cached,
        )

    async def preflight(self) -> None:
        if self.cache is not None and self.cache.replaying:
            self.cache.preflight()  # the model is never asked: no server, no key needed
            return
        await self.transport.preflight()

    async def aclose(self) -> None:
        await self.transport.aclose()


def _check_options(options: AgentOptions) -> None:
    """Option values a user can get wrong, each reported in one line naming the option."""
    if options.structured_output not in ("auto", "on", "off"):
        raise AgentConfigError(
            f"structured_output={options.structured_output!r}: use auto, on or off"
        )
    if options.history is not None and options.history < 0:
        raise AgentConfigError(
            f"history={options.history}: use a number of steps >= 0, or none for the whole episode"
        )
    if options.max_tokens < 1:
        raise AgentConfigError(f"max_tokens={options.max_tokens}: use a positive number")
    if options.timeout <= 0:
        raise AgentConfigError(f"timeout={options.timeout}: use a positive number of seconds")
    if options.retries < 0:
        raise AgentConfigError(f"retries={options.retries}: use 0 or more")
    if not 0 <= options.temperature <= 2:
        raise AgentConfigError(f"temperature={options.temperature}: use a value from 0 to 2")
    if options.cache not in CACHE_MODES:
        raise AgentConfigError(f"cache={options.cache!r}: use {', '.join(CACHE_MODES)}")
    if options.prompt_style not in PROMPT_STYLES:
        raise AgentConfigError(
            f"prompt_style={options.prompt_style!r}: use {' or '.join(PROMPT_STYLES)}"
        )
    if options.prompt_style == "hosted" and options.history is not None:
        raise AgentConfigError(
            f"history={options.history}: the hosted prompt style is stateless (one turn a "
            "step); use prompt style chat to send earlier turns"
        )
