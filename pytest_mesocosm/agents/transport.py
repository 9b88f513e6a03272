"""How the LLM agent reaches a model, and how a failed call is retried.

A transport sends one :class:`ModelRequest` (built by a prompt profile) and returns a
:class:`Completion`; it raises
:class:`TransientModelError` for failures worth another try (connection refused or
reset, timeouts, 5xx, 429) and :class:`~pytest_mesocosm.errors.ModelError` for the rest
(model not pulled, key rejected, bad request). :func:`call_with_retries` owns the retry
budget, so every transport retries the same way: exponential backoff with jitter, or
the server's ``Retry-After`` when a rate limit names one.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any, Protocol, TypeVar

from pytest_mesocosm.errors import ModelError

T = TypeVar("T")
Message = dict[str, Any]


@dataclass(frozen=True)
class ToolChoice:
    """A function the model is forced to call; its parameters are the request's schema."""

    name: str
    description: str


@dataclass(frozen=True)
class ModelRequest:
    """Everything one model call sends, the same for every transport.

    ``schema`` constrains the answer: as a response format, or as the parameters of
    ``tool`` when one is forced. ``think`` switches a model's thinking on or off where
    the server has such a switch (Ollama); ``None`` leaves the model's default.
    """

    messages: list[Message]
    temperature: float
    max_tokens: int
    schema: dict[str, Any] | None = None
    tool: ToolChoice | None = None
    think: bool | None = None


@dataclass
class Completion:
    """One model answer and what it cost."""

    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0
    reasoning: str | None = None  # a separate thinking channel, when the provider has one
    tool_arguments: str | None = None  # the forced tool call's arguments (JSON text)


class Transport(Protocol):
    """One way of calling a model; see the module docstring for the error contract."""

    supports_schema: bool  # whether "auto" structured output is sent

    async def complete(self, request: ModelRequest) -> Completion: ...

    async def preflight(self) -> None: ...

    async def aclose(self) -> None: ...


class TransientModelError(ModelError):
    """A model call failed in a way worth retrying; ``retry_after`` is the server's wish.

    Never escapes the agent: after the last attempt it becomes a plain ModelError.
    """

    def __init__(self, message: str, *, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class RetryPolicy:
    """``retries`` extra attempts; delays double from ``base`` up to ``cap`` seconds.

    Jitter keeps parallel episodes from retrying in lockstep against a struggling
    server; a ``Retry-After`` is honoured as given, up to ``max_retry_after``.
    """

    retries: int = 3
    base: float = 0.5
    cap: float = 10.0
    max_retry_after: float = 60.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_retry_after)
        return min(self.cap, self.base * 2.0**attempt) * random.uniform(0.5, 1.0)


async def call_with_retries(
    call: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    on_retry: Callable[[str], None] | None = None,
) -> T:
    """Run ``call`` until it succeeds, fails for good, or the retry budget is spent.

    ``on_retry`` hears one line per failed attempt that will be retried, so a user
    watching a run knows why it is waiting.
    """
    attempt = 0
    while True:
        try:
            return await call()
        except TransientModelError as exc:
            if attempt >= policy.retries:
                tries = f"{attempt + 1} attempt" + ("s" if attempt else "")
                raise ModelError(f"{exc} (gave up after {tries})") from exc
            delay = policy.delay(attempt, exc.retry_after)
            if on_retry is not None:
                on_retry(f"model call failed: {exc}; attempt {attempt + 2} of "
                         f"{policy.retries + 1} in {delay:.1f} s")
            await asyncio.sleep(delay)
            attempt += 1


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return max((moment - datetime.now(timezone.utc)).total_seconds(), 0.0)
