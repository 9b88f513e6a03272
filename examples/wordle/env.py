"""Wordle: six tries to guess a hidden five-letter word from per-letter feedback.

The shape follows the hosted platform's own Wordle example; only the import line differs
(``from src.env_sdk import ...`` there). The seed picks the secret from ``words.txt``,
which is also the list of accepted guesses.
"""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path
from typing import Any

from pytest_mesocosm.sdk import BaseEnv, InvalidAction, StepResult

WORDS: tuple[str, ...] = tuple(Path(__file__).with_name("words.txt").read_text().split())
WORD_SET = frozenset(WORDS)
MAX_GUESSES = 6

RULES = """You are playing Wordle: find the hidden 5-letter English word in at most {n} guesses.
After each guess you get "feedback", a 5-character string with one character per letter:
  G  the letter is in the word, in this position;
  Y  the letter is in the word, but in another position;
  .  the letter is not in the word (or not as many times as you used it).
The observation also has "history" (every guess and its feedback so far), "last_guess"
and "guesses_remaining". Guesses must be common English words from the game's list.
Reply with one lowercase 5-letter word and nothing else."""


def score_guess(guess: str, secret: str) -> str:
    """Feedback for ``guess``: greens first, then yellows for the letters left over."""
    marks = ["."] * 5
    unmatched: Counter[str] = Counter()
    for i, (g, s) in enumerate(zip(guess, secret, strict=True)):
        if g == s:
            marks[i] = "G"
        else:
            unmatched[s] += 1
    for i, g in enumerate(guess):
        if marks[i] == "." and unmatched[g] > 0:
            marks[i] = "Y"
            unmatched[g] -= 1
    return "".join(marks)


def shown(value: Any, limit: int = 40) -> str:
    """A rejected action as quoted back in a 422: bounded, whatever the client sent."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def check_guess(action: Any) -> str:
    """The guess as a lowercase word, or :class:`InvalidAction` saying what is wrong."""
    if not isinstance(action, str):
        raise InvalidAction(
            f"a guess is a word (a string), got {type(action).__name__} {shown(action)}"
        )
    guess = action.strip().lower()
    if len(guess) != 5 or not (guess.isascii() and guess.isalpha()):
        raise InvalidAction(
            f"{shown(action)} is not a 5-letter word; reply with one word, letters a-z"
        )
    if guess not in WORD_SET:
        raise InvalidAction(f"{guess!r} is not in the word list; guess a common English word")
    return guess


class WordleEnv(BaseEnv):
    """One game of Wordle; ``scenario_params`` may set ``max_guesses`` (1 to 10)."""

    def __init__(self) -> None:
        self._secret: str | None = None
        self._max_guesses = MAX_GUESSES
        self._history: list[dict[str, str]] = []
        self._won = False

    def reset(self, seed: int | None = None, **params: Any) -> Any:
        max_guesses = params.pop("max_guesses", MAX_GUESSES)
        if params:
            raise ValueError(f"unknown scenario_params {sorted(params)}; only max_guesses is known")
        if not isinstance(max_guesses, int) or not 1 <= max_guesses <= 10:
            raise ValueError(f"max_guesses must be an integer from 1 to 10, got {max_guesses!r}")
        self._secret = random.Random(seed).choice(WORDS)
        self._max_guesses = max_guesses
        self._history = []
        self._won = False
        return {"data": self._observation(), "content_type": "application/json",
                "system_prompt": RULES.format(n=max_guesses)}

    @property
    def _remaining(self) -> int:
        return self._max_guesses - len(self._history)

    def _observation(self) -> dict[str, Any]:
        last = self._history[-1] if self._history else {"guess": None, "feedback": None}
        return {"last_guess": last["guess"], "feedback": last["feedback"],
                "guesses_remaining": self._remaining, "history": list(self._history)}

    def step(self, action: Any) -> StepResult:
        if self._secret is None:
            raise RuntimeError("step() before reset(); reset the episode first")
        if self._won or self._remaining <= 0:
            raise RuntimeError("the game is over; reset() to play again")
        guess = check_guess(action)
        feedback = score_guess(guess, self._secret)
        self._history.append({"guess": guess, "feedback": feedback})
        self._won = guess == self._secret
        done = self._won or self._remaining <= 0
        info: dict[str, Any] = {"won": "1.0" if self._won else "0.0",
                                "guesses_used": len(self._history)}
        if done:
            info["answer"] = self._secret
        return StepResult(observation=self._observation(), reward=1.0 if self._won else 0.0,
                          terminated=done, truncated=False, info=info)

    def render(self, mode: str = "text") -> str:
        if mode != "text":
            raise NotImplementedError(f"WordleEnv renders mode 'text' only, not {mode!r}")
        rows = [f"{turn['guess'].upper()}  {turn['feedback']}" for turn in self._history]
        rows.append(f"{self._remaining} guesses remaining" + (" (won)" if self._won else ""))
        return "\n".join(rows)
