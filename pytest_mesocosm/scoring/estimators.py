"""The estimators behind the intervals and pass@k: small pure functions on numbers.

Kept apart from :mod:`pytest_mesocosm.scoring.metrics` (which reads episodes and folds
them into metrics) so each can be read, and checked, on its own.
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Iterable

Z95 = 1.959963984540054
BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 0


def wilson_interval(passes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval: stays inside [0, 1] and is honest for small n and p near 0/1."""
    p = passes / n
    denom = 1 + z * z / n
    center = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, center - half), min(1.0, center + half)


def _quantile(ordered: list[float], q: float) -> float:
    """Linear-interpolated quantile of sorted values (numpy's default method)."""
    pos = (len(ordered) - 1) * q
    lo = math.floor(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def bootstrap_interval(
    values: list[float], statistic: str, *, resamples: int = BOOTSTRAP_RESAMPLES
) -> tuple[float, float]:
    """Percentile bootstrap 95% interval of the mean or median; deterministic."""
    ordered = sorted(values)
    rng = random.Random(BOOTSTRAP_SEED)
    n = len(ordered)
    stat = statistics.median if statistic == "median" else statistics.fmean
    draws = sorted(stat(rng.choices(ordered, k=n)) for _ in range(resamples))
    return _quantile(draws, 0.025), _quantile(draws, 0.975)


def pass_at_k(groups: Iterable[tuple[int, int]], k: int) -> float:
    """Mean over seeds of 1 - C(n-c, k)/C(n, k): chance that one of k tries passes."""
    rows = [1 - math.comb(n - c, k) / math.comb(n, k) for n, c in groups]
    return statistics.fmean(rows)


def pass_hat_k(groups: Iterable[tuple[int, int]], k: int) -> float:
    """Mean over seeds of C(c, k)/C(n, k): chance that k tries all pass (consistency)."""
    rows = [math.comb(c, k) / math.comb(n, k) for n, c in groups]
    return statistics.fmean(rows)
