"""The model-call cache: one home for every transport (direct Ollama and LiteLLM).

It sits in the LLM agent between the prompt profile and the transport, so the same
request gives the same answer whichever way the model is reached. Modes:

``off``
    every call goes to the model (the default: a bench's numbers should be fresh
    samples - at a temperature above 0 a cache turns N samples into one, and repeats
    into copies - and nothing is written into the repo unasked).
``use``
    read a recorded answer; call and record what is missing. For iterating on an env:
    a changed reward rule is measured against the same model answers, so a change in
    the number is the env's, not the model's noise, and unchanged calls are free.
``replay``
    read only: a request with no recorded answer fails its episode with one line
    naming the seed, the step and what changed against the nearest recorded request.
    For CI and forks without a model key: the model is never asked, nor checked.
``refresh``
    call, and overwrite what is recorded.

Under pytest-xdist (or Ray) the workers share the folder: the first answer recorded for
a request is the one every episode goes on with, so the cassette replays each path.
Under ``refresh`` that holds for workers started before the first answer is written
(an entry is replaced only when it is older than the worker's start).

Storage is :mod:`~pytest_mesocosm.agents.cassette`. Why not LiteLLM's cache: it covers
LiteLLM's providers only (not the direct Ollama path) and keys by its own rules; and
a disk-cache library stores pickles in SQLite, which a repo cannot review or merge.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from pytest_mesocosm.agents.base import AgentContext
from pytest_mesocosm.agents.cassette import (
    Cassette,
    nearest_difference,
    request_key,
    request_record,
)
from pytest_mesocosm.agents.transport import Completion, ModelRequest
from pytest_mesocosm.errors import AgentConfigError, ModelError

CACHE_MODES = ("off", "use", "replay", "refresh")


class CassetteMiss(ModelError):
    """Replay found no recorded answer for a request; the message says what changed."""


class ModelCache:
    """Answers from the cassette folder, or from ``call`` (recorded), by ``mode``."""

    def __init__(self, mode: str, folder: Path, model: str):
        if mode not in CACHE_MODES or mode == "off":
            raise AgentConfigError(f"cache={mode!r}: use {', '.join(CACHE_MODES)}")
        self.mode = mode
        self.model = model
        self.cassette = Cassette(folder)
        self.started = time.time()  # refresh replaces entries written before this

    @property
    def replaying(self) -> bool:
        return self.mode == "replay"

    async def complete(
        self, request: ModelRequest, ctx: AgentContext,
        call: Callable[[], Awaitable[Completion]],
    ) -> tuple[Completion, bool]:
        """(the answer, whether it came from the cassette)."""
        record = request_record(self.model, request)
        path = self.cassette.path_for(self.model, request_key(record))
        if self.mode != "refresh":
            entry = await asyncio.to_thread(self.cassette.read, path)
            if entry is not None:
                await asyncio.to_thread(self.cassette.touch, path)
                return entry.completion(), True
            if self.replaying:
                raise CassetteMiss(await asyncio.to_thread(self._miss, record, ctx))
        completion = await call()
        kept = await asyncio.to_thread(
            self.cassette.write, path, record, completion,
            replace_before=self.started if self.mode == "refresh" else None,
        )
        return (completion if kept is None else kept.completion()), False

    def _miss(self, record: dict[str, object], ctx: AgentContext) -> str:
        entries = self.cassette.entries(self.model)
        return (
            f"cache replay: no recorded answer at seed {ctx.seed}, step {ctx.step + 1} "
            f"in {self.cassette.folder}: {nearest_difference(record, entries)}; "
            "record it again with cache mode use or refresh"
        )

    def preflight(self) -> None:
        """In replay, the model is never asked: only check that something is recorded."""
        if self.replaying and not self.cassette.has_entries(self.model):
            raise ModelError(
                f"cache replay: nothing recorded for model {self.model} in "
                f"{self.cassette.folder}; record a run with cache mode use first"
            )
