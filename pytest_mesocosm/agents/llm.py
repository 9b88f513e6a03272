"""The LLM agent: prompt -> model (with retries) -> parsed action, for any model id.

One agent serves every concurrent episode of a run: it keeps no episode state, only the
transport's pooled connection and a small cache of system messages (built once per
task and env system prompt, not once per step). ``ollama/`` and ``ollama_chat/`` ids go
straight to Ollama's /api/chat; every other id goes through LiteLLM - see
:mod:`pytest_mesocosm.agents.ollama` for the measured reason.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from pytest_mesocosm.agents.base import AgentContext, AgentReply, TaskInfo
from pytest_mesocosm.agents.ollama import OllamaTransport, is_ollama_model
from pytest_mesocosm.agents.parsing import parse_action
from pytest_mesocosm.agents.prompts import build_messages, system_prompt
from pytest_mesocosm.agents.structured import STRUCTURED_TYPES, response_schema
from pytest_mesocosm.agents.transport import RetryPolicy, Transport, call_with_retries
from pytest_mesocosm.agents.waiting import WaitNotices
from pytest_mesocosm.engine.config import AgentOptions
from pytest_mesocosm.errors import AgentConfigError

_SYSTEM_CACHE_SIZE = 64


class LLMAgent:
    """Plays with a language model named by a LiteLLM model id (``options.model``).

    ``retry`` overrides the backoff (its ``retries`` always comes from ``options``);
    ``completion_kwargs`` go to every ``litellm.acompletion`` call as they are (e.g.
    ``api_key``, ``extra_headers``, or LiteLLM's ``mock_response`` in tests).
    """

    def __init__(
        self,
        options: AgentOptions,
        *,
        retry: RetryPolicy | None = None,
        completion_kwargs: Mapping[str, Any] | None = None,
    ):
        _check_options(options)
        self.options = options
        self.name = options.model
        self.retry = replace(retry or RetryPolicy(), retries=options.retries)
        self.transport: Transport
        if is_ollama_model(options.model):
            if completion_kwargs:
                raise AgentConfigError(
                    f"completion_kwargs apply to LiteLLM models only, not {options.model}"
                )
            self.transport = OllamaTransport(
                options.model, api_base=options.api_base, timeout=options.timeout
            )
        else:
            from pytest_mesocosm.agents.litellm_client import LiteLLMTransport

            self.transport = LiteLLMTransport(
                options.model, api_base=options.api_base, timeout=options.timeout,
                extra=completion_kwargs,
            )
        self._systems: dict[tuple[int, str | None], tuple[TaskInfo, str, Any]] = {}
        self._notices = WaitNotices(options.model)

    def _prepared(self, ctx: AgentContext) -> tuple[str, Any]:
        """(system message, response schema or None) for this task and env prompt."""
        key = (id(ctx.task), ctx.env_system_prompt)
        cached = self._systems.get(key)
        if cached is not None and cached[0] is ctx.task:
            return cached[1], cached[2]
        schema = self._schema(ctx.task.action_space)
        system = system_prompt(ctx.task, ctx.env_system_prompt, structured=schema is not None)
        if len(self._systems) >= _SYSTEM_CACHE_SIZE:
            self._systems.clear()
        self._systems[key] = (ctx.task, system, schema)  # holding the task pins its id
        return system, schema

    def _schema(self, action_space: dict[str, Any]) -> dict[str, Any] | None:
        mode = self.options.structured_output
        if mode == "off" or action_space.get("type") not in STRUCTURED_TYPES:
            return None
        if mode == "auto" and not self.transport.supports_schema:
            return None
        return response_schema(action_space)

    async def act(self, ctx: AgentContext) -> AgentReply:
        system, schema = self._prepared(ctx)
        messages = build_messages(ctx, system, self.options.history)
        options = self.options
        started = time.perf_counter()
        call = call_with_retries(
            lambda: self.transport.complete(
                messages, schema=schema, temperature=options.temperature,
                max_tokens=options.max_tokens,
            ),
            self.retry,
            self._notices.say,
        )
        completion = await self._notices.watch(call, options.timeout, self.retry.retries)
        latency = time.perf_counter() - started
        parsed = parse_action(completion.text, ctx.task.action_space)
        reasoning = "\n\n".join(p for p in (completion.reasoning, parsed.reasoning) if p)
        return AgentReply(
            action=parsed.action,
            raw_text=completion.text,
            parse_error=parsed.error,
            reasoning=reasoning or None,
            messages=messages,
            prompt_tokens=completion.prompt_tokens,
            completion_tokens=completion.completion_tokens,
            cost=completion.cost,
            latency=latency,
        )

    async def preflight(self) -> None:
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
