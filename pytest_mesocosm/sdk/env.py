"""What an environment author implements: ``BaseEnv``, ``StepResult`` and ``InvalidAction``.

The shape matches the hosted platform's SDK (``from src.env_sdk import BaseEnv, StepResult``),
so an ``env.py`` written for either runs under both; only the import line differs.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Any, ClassVar


class InvalidAction(Exception):
    """Raise from ``step()`` (or ``parse_action()``) when the action itself is unacceptable.

    The server answers **422** with the message as ``detail``; the harness shows the
    message to the model and asks again (within a budget), counting the invalid action.
    Say what was wrong and what is accepted: ``InvalidAction("'xyzzy' is not in the word
    list; guess a common 5-letter English word")``. Any other exception is an environment
    bug and answers 500.
    """


@dataclass
class StepResult:
    """What ``step()`` returns; every field goes onto the wire as is (after JSON encoding).

    - ``observation``: what the agent sees next. JSON-able values are sent as JSON
      (``bytes`` anywhere inside become base64 strings); a ``str`` is sent as text.
    - ``reward``: a finite float for this step (the episode reward is their sum). NaN or
      infinity is refused with a 500 naming the step.
    - ``terminated``: the episode reached a natural end (won, lost, solved).
    - ``truncated``: the episode was cut short by the env (its own step or time limit).
    - ``info``: extra facts for scoring and traces (``terminal_field`` metrics read the
      last step's info). Keys are sent as strings; values must be JSON-able.
    - ``system_prompt``: set to change the episode's system prompt from this step on;
      ``None`` keeps the current one.
    - ``content_type``: MIME type of ``observation``; ``None`` picks one from its type
      (``application/json``, ``text/plain`` for ``str``, ``application/octet-stream``
      for ``bytes``).
    """

    observation: Any
    reward: float = 0.0
    terminated: bool = False
    truncated: bool = False
    info: dict[str, Any] = field(default_factory=dict)
    system_prompt: str | None = None
    content_type: str | None = None


class BaseEnv(abc.ABC):
    """An environment an LLM agent plays, one instance per episode.

    The server builds one instance per ``episode_id`` with ``EnvClass()`` (so
    ``__init__`` takes no required arguments) and calls, in this order:

    ``reset(seed=None, **params) -> observation``
        Start a fresh episode. ``seed`` (an ``int`` or ``None``) must decide all
        randomness, so the same seed gives the same episode; ``params`` are the
        request's ``scenario_params``. Return the first observation, or
        ``{"data": observation, "content_type": ..., "system_prompt": ...}`` (a dict with
        ``"data"`` and no keys other than these three) to also set its content type or
        the episode's system prompt (the place to explain the rules and the action
        format to the model). Must not reveal hidden state (the answer).
        May be called again on the same instance: it must then start over completely.

    ``step(action) -> StepResult``
        Apply one action and report what happened (see :class:`StepResult`). ``action``
        is what ``parse_action`` returned. Raise :class:`InvalidAction` for an action
        the rules refuse (the step does not count and the state must not change); any
        other exception is a bug and answers 500. Stepping after ``terminated`` or
        ``truncated`` is undefined; the harness never does it.

    ``parse_action(action) -> action`` (optional)
        Turn the raw JSON action into what ``step`` expects, raising
        :class:`InvalidAction` when it cannot. The default returns it unchanged.

    ``render(mode="text")`` (optional)
        A view of the current state for people (a ``str`` for ``"text"``). The default
        raises ``NotImplementedError`` (answered as 501).

    ``close()`` (optional)
        Release what the episode holds. Called once when the episode is closed, reaped
        after being idle, or when the server shuts down; it must tolerate being called
        twice and must not raise for an episode that was never reset.

    Calls on one instance never overlap. ``step`` runs on the server's event loop, so
    it must be quick (well under a millisecond is typical); an env whose steps block
    (network, subprocesses, heavy compute) sets ``blocking = True`` so they run in a
    worker thread instead.

    Versions: 0.1 is the hosted platform SDK's contract plus backward-compatible
    extensions: :class:`InvalidAction` (422), ``parse_action``, ``blocking``, and 501
    for a ``render`` that is not implemented.
    """

    blocking: ClassVar[bool] = False

    @abc.abstractmethod
    def reset(self, seed: int | None = None, **params: Any) -> Any:
        """Start a new episode from ``seed`` and return its first observation."""

    @abc.abstractmethod
    def step(self, action: Any) -> StepResult:
        """Apply one action; raise :class:`InvalidAction` if the rules refuse it."""

    def parse_action(self, action: Any) -> Any:
        """Convert the wire action for ``step``; the default keeps it as it came."""
        return action

    def render(self, mode: str = "text") -> Any:
        """Show the current state to a person; optional."""
        raise NotImplementedError(f"{type(self).__name__} does not implement render()")

    def close(self) -> None:
        """Release the episode's resources; nothing to release by default."""
        return None
