"""Prompt profiles: how one step becomes a model request, and the reply an action.

Two profiles, named by ``AgentOptions.prompt_style``:

- ``hosted`` (the default): the hosted platform's own prompt, message for message -
  one system and one user message per step, its free-text parser, structured output
  only where it uses it (:mod:`~pytest_mesocosm.agents.hosted`). Local numbers are then
  the numbers the platform shows.
- ``chat``: this project's multi-turn profile - the episode as one chat, ``ACTION:``
  lines, the parser of :mod:`~pytest_mesocosm.agents.parsing`
  (:mod:`~pytest_mesocosm.agents.prompts`).

In both, an answer the env refuses (``InvalidAction``, 422) is re-asked with the reason,
within the invalid-action budget, and counted: the hosted platform would fail the
episode there, which is the one place the ``hosted`` profile is ours.
"""

from __future__ import annotations

from typing import Protocol

from pytest_mesocosm.agents.base import AgentContext
from pytest_mesocosm.agents.parsing import ParsedAction
from pytest_mesocosm.agents.transport import Completion, ModelRequest
from pytest_mesocosm.engine.config import AgentOptions
from pytest_mesocosm.errors import AgentConfigError

PROMPT_STYLES = ("hosted", "chat")


class PromptProfile(Protocol):
    """Builds each step's request and reads the action out of the answer."""

    def request(self, ctx: AgentContext) -> ModelRequest: ...

    def read(self, completion: Completion, ctx: AgentContext) -> ParsedAction: ...


def model_id(options: AgentOptions) -> str:
    """The id the transport calls; the hosted runner rewrites ``google/gemini-*``."""
    model = options.model.strip()
    if options.prompt_style == "hosted" and model.startswith("google/gemini-"):
        return "gemini/" + model[len("google/"):]
    return model


def make_profile(options: AgentOptions, model: str, *, supports_schema: bool) -> PromptProfile:
    """The profile ``options.prompt_style`` names, for ``model`` on its transport."""
    if options.prompt_style == "hosted":
        from pytest_mesocosm.agents.hosted import HostedProfile

        return HostedProfile(options, model)
    if options.prompt_style == "chat":
        from pytest_mesocosm.agents.prompts import ChatProfile

        return ChatProfile(options, supports_schema)
    raise AgentConfigError(
        f"prompt_style={options.prompt_style!r}: use {' or '.join(PROMPT_STYLES)}"
    )
