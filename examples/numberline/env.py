"""Numberline: find a hidden number with higher/lower hints; graded by how close you get.

A graded-reward example: with 101 possible numbers and 5 guesses even perfect play
cannot always hit the number, so the score (in [0, 1]) rewards getting close, and a
benchmark compares players by their ``mean`` score rather than a pass rate.
"""

from __future__ import annotations

import random
from typing import Any

from pytest_mesocosm.sdk import BaseEnv, InvalidAction, StepResult

SPAN = 100  # the number lies in [low, low + SPAN]
MAX_GUESSES = 5
FULL_CREDIT_WITHIN = 10  # the score falls linearly to 0 at this distance


def score(distance: int) -> float:
    """1.0 for the number itself, falling by 0.1 per unit of distance, never below 0."""
    return max(0.0, 1.0 - distance / FULL_CREDIT_WITHIN)



def shown(value: Any, limit: int = 40) -> str:
    """A rejected action as quoted back in a 422: bounded, whatever the client sent."""
    try:
        text = repr(value)
    except ValueError:  # an integer too long to print
        return f"a {type(value).__name__} too long to show"
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"

class NumberlineEnv(BaseEnv):
    """Guess an integer in ``[low, low + 100]``; the seed picks ``low`` and the number.

    Each guess is answered "higher", "lower" or "correct". The episode ends when the
    number is found or after 5 guesses; its only reward comes then: the score of the
    closest guess. Actions are integers (or strings of one), parsed by ``parse_action``.
    """

    def __init__(self) -> None:
        self._low = 0
        self._secret: int | None = None
        self._history: list[dict[str, Any]] = []

    def reset(self, seed: int | None = None, **params: Any) -> Any:
        if params:
            raise ValueError(f"unknown scenario_params {sorted(params)}; NumberlineEnv takes none")
        rng = random.Random(seed)
        self._low = rng.randint(0, 900)
        self._secret = self._low + rng.randint(0, SPAN)
        self._history = []
        return self._observation()

    def _observation(self) -> dict[str, Any]:
        last = self._history[-1] if self._history else {"guess": None, "hint": None}
        return {"low": self._low, "high": self._low + SPAN, "last_guess": last["guess"],
                "hint": last["hint"], "guesses_remaining": MAX_GUESSES - len(self._history),
                "history": list(self._history)}

    def parse_action(self, action: Any) -> int:
        high = self._low + SPAN
        if isinstance(action, str):
            try:
                action = int(action.strip())
            except ValueError:
                raise InvalidAction(f"{shown(action)} is not a whole number; reply with one "
                                    f"integer from {self._low} to {high}") from None
        if isinstance(action, bool) or not isinstance(action, int):
            raise InvalidAction(
                f"a guess is an integer, got {type(action).__name__} {shown(action)}"
            )
        if not self._low <= action <= high:
            raise InvalidAction(
                f"{shown(action)} is outside [{self._low}, {high}]; guess inside it"
            )
        return action

    def step(self, action: Any) -> StepResult:
        if self._secret is None:
            raise RuntimeError("step() before reset(); reset the episode first")
        if len(self._history) >= MAX_GUESSES or self._found:
            raise RuntimeError("the game is over; reset() to play again")
        guess = self.parse_action(action)
        hint = ("correct" if guess == self._secret
                else "higher" if guess < self._secret else "lower")
        self._history.append({"guess": guess, "hint": hint})
        done = self._found or len(self._history) >= MAX_GUESSES
        info: dict[str, Any] = {"found": "1.0" if self._found else "0.0",
                                "guesses_used": len(self._history)}
        reward = 0.0
        if done:
            distance = min(abs(turn["guess"] - self._secret) for turn in self._history)
            reward = score(distance)
            info.update(distance=distance, answer=self._secret)
        return StepResult(observation=self._observation(), reward=reward, terminated=done,
                          info=info)

    @property
    def _found(self) -> bool:
        return bool(self._history) and self._history[-1]["hint"] == "correct"

    def render(self, mode: str = "text") -> str:
        if mode != "text":
            raise NotImplementedError(f"NumberlineEnv renders mode 'text' only, not {mode!r}")
        guesses = ", ".join(f"{turn['guess']} ({turn['hint']})" for turn in self._history)
        return f"number in [{self._low}, {self._low + SPAN}]; guesses: {guesses or 'none yet'}"
