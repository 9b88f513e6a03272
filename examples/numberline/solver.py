"""Baseline player for ``--model script:solver.py:policy``: bisect what the hints leave open.

Stateless: the bounds come from the observation's ``low``/``high`` and ``history``.
Bisection is the best plan for the score too, since the last guess in the middle of
what is left is as close as one can promise to be.
"""

from __future__ import annotations

from typing import Any


def policy(observation: dict[str, Any], context: Any = None) -> int:
    """The middle of the interval still consistent with every hint."""
    low, high = observation["low"], observation["high"]
    for turn in observation.get("history") or []:
        if turn["hint"] == "higher":
            low = max(low, turn["guess"] + 1)
        elif turn["hint"] == "lower":
            high = min(high, turn["guess"] - 1)
    return (low + high) // 2
