"""Three-valued threshold decisions, the inconclusive modes, and the sequential rule."""

from __future__ import annotations

import math
import random
from typing import Any

import pytest

from pytest_mesocosm.engine.outcomes import EpisodeResult, EpisodeStatus
from pytest_mesocosm.engine.until_decided import seed_stream
from pytest_mesocosm.scoring.decide import Interval, decide, decision_interval
from pytest_mesocosm.scoring.estimators import wilson_interval
from pytest_mesocosm.scoring.gate import evaluate_gate, parse_thresholds
from pytest_mesocosm.scoring.metrics import MetricSummary, RunMetrics, score_run
from pytest_mesocosm.scoring.sequential import batch_ends, look_alpha
from pytest_mesocosm.scoring.table import format_markdown, format_metrics_table

WIN = {"name": "win_rate", "type": "terminal_field", "field": "won", "aggregation": "pass_rate"}
REWARD = {"name": "mean_reward", "type": "episode_reward", "aggregation": "mean"}
WORDLE = {"primary_metric": "win_rate", "higher_is_better": True, "metrics": [WIN, REWARD]}
NAMES = ["win_rate", "mean_reward"]


def _run(wins: int, n: int, **kw: Any) -> RunMetrics:
    results = [EpisodeResult(episode_id=f"e{i}", seed=i, status=EpisodeStatus.COMPLETED,
                             last_info={"won": i < wins}, **kw) for i in range(n)]
    return score_run(WORDLE, results)


@pytest.mark.parametrize(
    ("op", "target", "expected"),
    [(">=", 0.3, "passed"), (">=", 0.5, "inconclusive"), (">", 0.9, "failed"),
     ("<=", 0.9, "passed"), ("<", 0.5, "inconclusive"), ("<=", 0.3, "failed")],
)
def test_an_interval_decides_a_threshold(op: str, target: float, expected: str) -> None:
    assert decide(op, target, Interval(0.4, 0.8, 0.95)) == expected


@pytest.mark.parametrize(
    ("mode", "passed", "decision", "reasons"),
    [
        ("estimate", True, "passed", []),
        ("pass", True, "passed", []),
        ("fail", False, "failed",
         ["win_rate>=0.6 inconclusive: 0.7 in [0.397, 0.892] (95%); counted as failed "
          "(inconclusive mode: fail)"]),
        ("error", False, "inconclusive", []),
    ],
)
def test_the_mode_says_what_an_inconclusive_threshold_counts_as(
    mode: Any, passed: bool, decision: str, reasons: list[str]
) -> None:
    gate = evaluate_gate(_run(7, 10), parse_thresholds(["win_rate>=0.6", "mean_steps<=9"],
                                                        NAMES), inconclusive=mode)
    assert (gate.passed, gate.decision, gate.reasons) == (passed, decision, reasons)
    assert gate.inconclusive == ["win_rate>=0.6 inconclusive: 0.7 in [0.397, 0.892] (95%)"]
    assert [c.decision for c in gate.checks] == ["inconclusive", "passed"]


def test_an_error_beside_an_inconclusive_threshold_is_a_failure() -> None:
    metrics = _run(7, 10)
    metrics.outcomes["env_error"] = 1
    gate = evaluate_gate(metrics, parse_thresholds(["win_rate>=0.6"], NAMES),
                         inconclusive="error")
    assert gate.decision == "failed" and not gate.passed


def test_bounds_equality_and_figures_without_interval_are_decided_by_their_number() -> None:
    gate = evaluate_gate(_run(7, 10), parse_thresholds(
        ["win_rate.lower>=0.3", "win_rate==0.7", "mean_steps<=0"], NAMES), inconclusive="error")
    assert [c.decision for c in gate.checks] == ["passed", "passed", "passed"]
    assert gate.inconclusive == [] and gate.decision == "passed"


def test_a_clear_interval_is_decided_either_way() -> None:
    gate = evaluate_gate(_run(50, 50), parse_thresholds(["win_rate>=0.8", "win_rate<0.8"],
                                                         NAMES), inconclusive="error")
    assert [c.decision for c in gate.checks] == ["passed", "failed"]
    assert gate.decision == "failed"
    assert gate.reasons == ["win_rate<0.8 missed: win_rate is 1"]


def test_the_table_and_markdown_say_inconclusive_with_the_interval() -> None:
    metrics = _run(7, 10)
    gate = evaluate_gate(metrics, parse_thresholds(["win_rate>=0.6"], NAMES),
                         inconclusive="error")
    table = format_metrics_table(metrics, gate).splitlines()
    assert table[2].split()[-1] == "inconclusive"
    assert table[-3:] == [
        "inconclusive thresholds (the run is inconclusive; inconclusive mode error):",
        "  - win_rate>=0.6 inconclusive: 0.7 in [0.397, 0.892] (95%)",
        "gate: INCONCLUSIVE",
    ]
    markdown = format_markdown(metrics, gate, title="Wordle")
    assert markdown.startswith("### Wordle - INCONCLUSIVE\n")
    assert "win_rate>=0.6 inconclusive: 0.7 in [0.397, 0.892] (95%)" in markdown


def test_a_wider_level_widens_the_pass_rate_and_mean_intervals() -> None:
    rate = MetricSummary("win_rate", "pass_rate", 0.7, 10, 0.397, 0.892)
    assert decision_interval(rate, 0.05) == Interval(0.397, 0.892, 0.95)
    wide = decision_interval(rate, 0.001)
    assert wide is not None
    z = 3.2905267314919255
    assert (wide.lower, wide.upper) == pytest.approx(wilson_interval(7, 10, z))
    mean = MetricSummary("r", "mean", 2.0, 9, 1.0, 3.0, stderr=0.5)
    wide = decision_interval(mean, 0.001)
    assert wide is not None and (wide.lower, wide.upper) == pytest.approx((2 - z / 2, 2 + z / 2))


def test_the_looks_share_alpha_and_the_batches_double() -> None:
    assert math.fsum(look_alpha(k) for k in range(1, 100_000)) == pytest.approx(0.05, rel=1e-4)
    assert math.fsum(look_alpha(k) for k in range(1, 100_000)) < 0.05
    assert batch_ends(5, 200) == [5, 10, 20, 40, 80, 160, 200]
    assert batch_ends(5, 5) == [5]
    assert seed_stream([3, 7, 1], 6) == [3, 7, 1, 8, 9, 10]
    assert seed_stream([], 3) == [0, 1, 2]


def _wrong_decisions(runs: int, sequential: bool) -> int:
    """Runs of a coin with p = 0.7 against ``>= 0.7``, looked at after 5, 10, ..., 320
    tosses; a ``failed`` is wrong (the rate does reach 0.7)."""
    rng = random.Random(1)
    wrong = 0
    ends = batch_ends(5, 320)
    for _ in range(runs):
        wins = tosses = 0
        for look, end in enumerate(ends, start=1):
            while tosses < end:
                wins += rng.random() < 0.7
                tosses += 1
            summary = MetricSummary("w", "pass_rate", wins / tosses, tosses,
                                    *wilson_interval(wins, tosses))
            interval = decision_interval(summary, look_alpha(look) if sequential else 0.05)
            assert interval is not None
            decision = decide(">=", 0.7, interval)
            if decision != "inconclusive":
                wrong += decision == "failed"
                break
    return wrong


def test_the_sequential_rule_keeps_its_error_where_rechecking_95_percent_does_not() -> None:
    runs = 2000
    naive, kept = _wrong_decisions(runs, False), _wrong_decisions(runs, True)
    assert naive / runs > 0.05  # repeated looks at a fixed 95% interval: more than promised
    assert kept / runs <= 0.05  # the spent alpha keeps the promise
