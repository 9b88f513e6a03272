"""Baseline players for ``--model script:solver.py:policy`` (and ``:weak_policy``).

``policy`` keeps only the words that agree with every feedback so far and guesses the
one that splits the rest into the most feedback patterns; it wins nearly every game,
so it gives a ceiling to compare models against. ``weak_policy`` always guesses the same
word, for testing that a quality gate fails. Both are stateless: everything they need is
in the observation's ``history``.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any


def _load_env() -> ModuleType:
    """The rules and word list of the ``env.py`` next to this file, whatever the cwd."""
    path = Path(__file__).with_name("env.py")
    spec = importlib.util.spec_from_file_location(f"_wordle_env_{abs(hash(path))}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_env = _load_env()
WORDS: tuple[str, ...] = _env.WORDS
score_guess = _env.score_guess
OPENER = "trace"  # splits the word list into the most feedback patterns


def candidates(history: list[dict[str, str]]) -> list[str]:
    """Words that would have produced every feedback seen so far."""
    return [word for word in WORDS
            if all(score_guess(turn["guess"], word) == turn["feedback"] for turn in history)]


def _split(guess: str, pool: list[str]) -> int:
    return len({score_guess(guess, word) for word in pool})


def policy(observation: dict[str, Any], context: Any = None) -> str:
    """Guess the candidate that separates the remaining candidates best."""
    history = observation.get("history") or []
    if not history:
        return OPENER
    pool = candidates(history)
    if not pool:
        raise ValueError("no word in words.txt fits the feedback so far; is this the same game?")
    if len(pool) <= 2:
        return pool[0]
    return max(pool, key=lambda guess: _split(guess, pool))


def weak_policy(observation: dict[str, Any], context: Any = None) -> str:
    """Always the same valid guess: wins only when it happens to be the answer."""
    return "about"
