"""Who plays an episode: :func:`make_agent` turns ``options.model`` into an :class:`Agent`.

The model string selects the agent:

- a LiteLLM model id (``ollama/llama3.2``, the default; ``ollama_chat/...``;
  ``openai/gpt-4o-mini``; ``openai/<name>`` with ``api_base`` for vLLM or llama.cpp
  servers; ``gemini/...``, ``anthropic/...`` with their usual key variables):
  :class:`~pytest_mesocosm.agents.llm.LLMAgent`;
- ``script:path/to/policy.py:function``: a Python function plays
  (:mod:`~pytest_mesocosm.agents.script`);
- ``replay:path/to/trace.jsonl``: the actions of a recorded episode
  (:mod:`~pytest_mesocosm.agents.replay`).

Paths are relative to the working directory, else to ``base_dir`` (the manifest's
folder), where recorded model calls live too (``cassettes/``, see
:mod:`~pytest_mesocosm.agents.cache`). Importing this package is cheap: LiteLLM and
aiohttp are imported only when an LLM model is made, so a ``script:`` run starts at once.
"""

from __future__ import annotations

import re
from pathlib import Path

from pytest_mesocosm.agents.base import (
    Agent,
    AgentContext,
    AgentReply,
    TaskInfo,
    TechniqueUse,
    Turn,
)
from pytest_mesocosm.engine.config import AgentOptions
from pytest_mesocosm.errors import AgentConfigError

__all__ = ["Agent", "AgentContext", "AgentReply", "TaskInfo", "TechniqueUse", "Turn",
           "make_agent"]

FORMS = (
    "a LiteLLM model id (e.g. ollama/llama3.2, openai/gpt-4o-mini), "
    "script:path/to/policy.py:function or replay:path/to/trace.jsonl"
)
# "word:..." with no "/" before the colon: a prefix form, not a LiteLLM id.
_PREFIX_FORM = re.compile(r"^[A-Za-z][\w-]*:")


def make_agent(options: AgentOptions, *, base_dir: Path | None = None) -> Agent:
    """The agent ``options.model`` names; ``AgentConfigError`` (one line) when it is wrong."""
    model = options.model.strip()
    if model.startswith("script:"):
        from pytest_mesocosm.agents.script import ScriptAgent

        file, sep, function = model[len("script:"):].rpartition(":")
        if not sep or not file or not function or "/" in function or "\\" in function:
            raise AgentConfigError(
                f"model {model!r}: name the function too, as script:path/to/policy.py:function"
            )
        return ScriptAgent(_find(file, base_dir, model), function)
    if model.startswith("replay:"):
        from pytest_mesocosm.agents.replay import ReplayAgent

        file = model[len("replay:"):]
        if not file:
            raise AgentConfigError(
                f"model {model!r}: name the trace, as replay:path/to/trace.jsonl"
            )
        return ReplayAgent(_find(file, base_dir, model))
    if not model:
        raise AgentConfigError(f"the model is empty: use {FORMS}")
    if _PREFIX_FORM.match(model):
        raise AgentConfigError(
            f"model {model!r} is not a form pytest-mesocosm knows: use {FORMS} "
            f"(for an Ollama model, write ollama/{model})"
        )
    from pytest_mesocosm.agents.cassette import CASSETTE_DIR
    from pytest_mesocosm.agents.llm import LLMAgent

    cache_dir = options.cache_dir or (base_dir or Path.cwd()) / CASSETTE_DIR
    return LLMAgent(options, cache_dir=cache_dir)


def _find(raw: str, base_dir: Path | None, model: str) -> Path:
    """``raw`` relative to the working directory, else to ``base_dir``."""
    path = Path(raw).expanduser()
    if path.is_absolute():
        candidates = [path]
    else:
        candidates = [Path.cwd() / path] + ([base_dir / path] if base_dir is not None else [])
    for candidate in candidates:
        if candidate.is_file():
            return candidate.resolve()
    looked = " or ".join(str(c.parent) for c in candidates)
    raise AgentConfigError(f"model {model!r}: file {raw} not found (looked in {looked})")
