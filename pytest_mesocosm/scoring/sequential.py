"""The sequential rule behind ``--until-decided``: look after every batch, keep the error.

Re-checking a fixed 95% interval after every batch and stopping once it clears the
threshold fails far more often than 5%: each look is another chance for a lucky
interval. So the looks share the error budget instead (alpha spending with a union
bound): look ``k`` uses an interval at level ``1 - alpha_k`` with
``alpha_k = alpha * 6 / (pi^2 * k^2)``. The ``alpha_k`` sum to ``alpha`` over any number
of looks, so the chance that *any* look's interval misses the true value, and with it
the chance of a wrong ``passed``/``failed``, stays at most ``alpha``, whenever the run
stops. The batches double (n, 2n, 4n, ... up to the maximum), so a run of N episodes
looks only about log2(N/n) times and spends little width on looking.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from pytest_mesocosm.scoring.decide import DEFAULT_ALPHA
from pytest_mesocosm.scoring.gate import GateResult

RULE = "alpha spending over doubling batches, alpha_k = alpha*6/(pi^2 k^2) (union bound)"


def look_alpha(look: int, alpha: float = DEFAULT_ALPHA) -> float:
    """The share of ``alpha`` spent at look ``look`` (1-based)."""
    if look < 1:
        raise ValueError(f"looks count from 1, got {look}")
    return alpha * 6 / (math.pi ** 2 * look ** 2)


def batch_ends(first: int, maximum: int) -> list[int]:
    """How many episodes have run at each look: ``first``, doubled, capped at ``maximum``."""
    ends = [min(first, maximum)]
    while ends[-1] < maximum:
        ends.append(min(ends[-1] * 2, maximum))
    return ends


@dataclass(frozen=True)
class Look:
    """One look of the rule: which, after how many episodes, at which level."""

    index: int
    episodes: int
    maximum: int
    alpha: float = DEFAULT_ALPHA

    @property
    def spent(self) -> float:
        return look_alpha(self.index, self.alpha)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"spent_alpha": self.spent, "rule": RULE}


def decided(gate: GateResult) -> bool:
    """No threshold is left inconclusive (more episodes would not change the verdict)."""
    return not gate.inconclusive
