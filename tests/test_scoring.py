"""Scoring against hand-computed tables: values, aggregates, intervals, pass@k, gate, baseline."""

from __future__ import annotations

import json
import random
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from pytest_mesocosm.engine.outcomes import EpisodeResult, EpisodeStatus
from pytest_mesocosm.engine.traces import RunFolder, TraceError, load_results
from pytest_mesocosm.errors import ScoringError
from pytest_mesocosm.scoring.baseline import compare_to_baseline, format_comparison
from pytest_mesocosm.scoring.gate import (
    GateResult,
    Threshold,
    ThresholdError,
    evaluate_gate,
    parse_threshold,
    parse_thresholds,
)
from pytest_mesocosm.scoring.metrics import (
    RunMetrics,
    as_scoring,
    metric_value,
    score_run,
    wilson_interval,
)
from pytest_mesocosm.scoring.table import format_markdown, format_metrics_table

WIN = {"name": "win_rate", "type": "terminal_field", "field": "won", "aggregation": "pass_rate"}
REWARD = {"name": "mean_reward", "type": "episode_reward", "aggregation": "mean"}
WORDLE = {"primary_metric": "win_rate", "higher_is_better": True, "metrics": [WIN, REWARD]}


def ep(seed: int | None, status: str = "completed", repeat: int = 0, **kw: Any) -> EpisodeResult:
    return EpisodeResult(
        episode_id=f"ep-{seed}-{repeat}", seed=seed, status=EpisodeStatus(status), repeat=repeat,
        **kw,
    )


def won(seed: int, flag: bool, **kw: Any) -> EpisodeResult:
    return ep(seed, last_info={"won": "1.0" if flag else "0.0"}, **kw)


# --- reading one episode -------------------------------------------------------------

@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (True, 1.0), (False, 0.0), (1, 1.0), (0, 0.0), (0.25, 0.25), (-2, -2.0),
        ("1.0", 1.0), ("0", 0.0), ("3.5", 3.5), (" TRUE ", 1.0), ("false", 0.0),
        ("Yes", 1.0), ("no", 0.0), ("won", 1.0), ("WIN", 1.0), ("success", 1.0),
        ("pass", 1.0), ("lost", 0.0), ("Loss", 0.0), ("fail", 0.0),
    ],
)
def test_terminal_field_readings(raw: Any, expected: float) -> None:
    result = ep(3, last_info={"won": raw})
    assert metric_value(WIN, result) == expected


@pytest.mark.parametrize("raw", ["maybe", None, [1], {"a": 1}, "nan", float("inf"), ""])
def test_unreadable_terminal_field_names_field_value_and_episode(raw: Any) -> None:
    with pytest.raises(ScoringError) as info:
        metric_value(WIN, ep(3, repeat=2, last_info={"won": raw}))
    assert str(info.value) == (
        f"episode seed=3-r2: terminal field 'won' = {raw!r} for metric 'win_rate' is not a "
        "number, a bool or a word like true/false, won/lost, pass/fail; make step() report a "
        "number"
    )


def test_missing_terminal_field_lists_the_keys_there_are() -> None:
    with pytest.raises(ScoringError) as info:
        metric_value(WIN, ep(7, last_info={"score": 1, "guesses": 3}))
    assert str(info.value) == (
        "episode seed=7: terminal field 'won' for metric 'win_rate' is missing from the last "
        "step's info (keys: guesses, score); make step() put it in info or change the "
        "metric's 'field'"
    )


def test_episode_reward_is_the_total_reward() -> None:
    assert metric_value(REWARD, ep(1, total_reward=2.5, rewards=[1.0, 1.5])) == 2.5


def test_scoring_block_as_attribute_objects_matches_dict() -> None:
    block = SimpleNamespace(
        primary_metric="win_rate", higher_is_better=True,
        metrics=[SimpleNamespace(**WIN, pass_threshold=0.0), SimpleNamespace(**REWARD)],
    )
    results = [won(0, True, total_reward=1.0), won(1, False)]
    assert score_run(block, results).to_dict() == score_run(WORDLE, results).to_dict()


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ({"primary_metric": "x", "metrics": []},
         "scoring block has no metrics; add at least one to 'scoring.metrics'"),
        ({"primary_metric": "acc", "metrics": [REWARD]},
         "scoring.primary_metric 'acc' names no metric; use one of mean_reward"),
        ({"primary_metric": "a", "metrics": [{"name": "a", "type": "terminal_field",
                                              "aggregation": "mean"}]},
         "scoring metric 'a': type terminal_field needs a 'field' (a key of info)"),
        ({"primary_metric": "a", "metrics": [{"name": "a", "type": "episode_reward",
                                              "aggregation": "avg"}]},
         "scoring metric 'a': aggregation 'avg' is not one of mean, median, min, max, sum, "
         "pass_rate; fix its 'aggregation'"),
        ({"primary_metric": "a", "metrics": [{"name": "a", "type": "reward"}]},
         "scoring metric 'a': type 'reward' is not one of episode_reward, terminal_field; "
         "fix its 'type'"),
        ({"primary_metric": "mean_reward", "metrics": [REWARD, REWARD]},
         "scoring metrics named twice: mean_reward; rename one"),
    ],
)
def test_bad_scoring_blocks(block: dict[str, Any], message: str) -> None:
    with pytest.raises(ScoringError) as info:
        as_scoring(block)
    assert str(info.value) == message


# --- aggregates and intervals ----------------------------------------------------------

def test_seven_wins_of_ten_wilson_interval() -> None:
    results = [won(i, i < 7) for i in range(10)]
    summary = score_run(WORDLE, results).metrics["win_rate"]
    assert summary.value == pytest.approx(0.7)
    assert summary.n == 10
    assert summary.lower == pytest.approx(0.3968, abs=1e-4)
    assert summary.upper == pytest.approx(0.8922, abs=1e-4)
    assert summary.stderr == pytest.approx(0.1449, abs=1e-4)  # sqrt(.7*.3/10)
    assert summary.bootstrap_lower is None


@pytest.mark.parametrize(
    ("passes", "n", "lower", "upper"),
    [(0, 5, 0.0, 0.4345), (10, 10, 0.7225, 1.0), (1, 2, 0.0945, 0.9055)],
)
def test_wilson_edges(passes: int, n: int, lower: float, upper: float) -> None:
    assert wilson_interval(passes, n) == pytest.approx((lower, upper), abs=1e-4)


def test_mean_with_standard_error_normal_and_bootstrap_intervals() -> None:
    block = {"primary_metric": "mean_reward", "metrics": [REWARD]}
    results = [ep(i, total_reward=r) for i, r in enumerate([0.2, 0.5, 0.9])]
    summary = score_run(block, results).metrics["mean_reward"]
    assert summary.value == pytest.approx(0.5333, abs=1e-4)
    assert summary.stderr == pytest.approx(0.2028, abs=1e-4)
    assert summary.lower == pytest.approx(0.1359, abs=1e-4)
    assert summary.upper == pytest.approx(0.9308, abs=1e-4)
    assert 0.2 <= summary.bootstrap_lower < summary.value < summary.bootstrap_upper <= 0.9
    shuffled = results[:]
    random.Random(1).shuffle(shuffled)
    again = score_run(block, shuffled).metrics["mean_reward"]
    assert (again.bootstrap_lower, again.bootstrap_upper) == (
        summary.bootstrap_lower, summary.bootstrap_upper
    )


@pytest.mark.parametrize(
    ("aggregation", "value"), [("median", 2.5), ("min", 1.0), ("max", 10.0), ("sum", 16.0)]
)
def test_other_aggregations(aggregation: str, value: float) -> None:
    block = {"primary_metric": "m",
             "metrics": [{"name": "m", "type": "episode_reward", "aggregation": aggregation}]}
    results = [ep(i, total_reward=r) for i, r in enumerate([1.0, 3.0, 2.0, 10.0])]
    summary = score_run(block, results).metrics["m"]
    assert summary.value == value
    assert (summary.lower, summary.upper, summary.stderr) == (None, None, None)
    if aggregation == "median":  # bootstrap only, documented
        assert summary.bootstrap_lower is not None
        assert summary.interval() == (summary.bootstrap_lower, summary.bootstrap_upper)
        assert 1.0 <= summary.bootstrap_lower <= 2.5 <= summary.bootstrap_upper <= 10.0
    else:
        assert summary.interval() == (None, None)


def test_pass_threshold_is_strict() -> None:
    block = {"primary_metric": "acc", "metrics": [
        {"name": "acc", "type": "episode_reward", "aggregation": "pass_rate",
         "pass_threshold": 0.5}]}
    results = [ep(i, total_reward=r) for i, r in enumerate([0.5, 0.51, 1.0, 0.0])]
    assert score_run(block, results).metrics["acc"].value == 0.5


def test_errors_are_counted_not_scored() -> None:
    results = [
        won(0, True), won(1, False), ep(2, "truncated", last_info={"won": "0.0"}),
        ep(3, "env_error", error="500 from /step"), ep(4, "model_error"), ep(5, "model_error"),
    ]
    metrics = score_run(WORDLE, results)
    assert metrics.total == 6
    assert metrics.scored == 3
    assert metrics.outcomes == {
        "completed": 2, "truncated": 1, "timeout": 0, "invalid": 0,
        "env_error": 1, "model_error": 2,
    }
    assert metrics.primary.value == pytest.approx(1 / 3)
    assert metrics.problems == []


def test_unreadable_values_are_problems_and_not_scored() -> None:
    results = [
        won(0, True),
        ep(1, last_info={"won": "maybe"}),       # completed, unreadable: problem
        ep(2, last_info={}),                     # completed, missing: problem
        ep(3, "truncated", last_info={}),        # never reached the end: a loss
        ep(4, "invalid", last_info={"won": 1}),  # invalid is always a loss
    ]
    metrics = score_run(WORDLE, results)
    win = metrics.metrics["win_rate"]
    assert (win.value, win.n) == (pytest.approx(1 / 3), 3)
    assert metrics.scored == 3
    assert metrics.metrics["mean_reward"].n == 5
    assert [p.split(":")[0] for p in metrics.problems] == ["episode seed=1", "episode seed=2"]


def test_mean_of_a_missing_terminal_field_on_a_truncated_episode_is_a_problem() -> None:
    block = {"primary_metric": "avg_steps", "metrics": [
        {"name": "avg_steps", "type": "terminal_field", "field": "steps",
         "aggregation": "mean"}]}
    metrics = score_run(block, [ep(0, last_info={"steps": 4}), ep(1, "timeout")])
    assert metrics.primary.value == 4.0
    assert metrics.problems[0].endswith("(episode ended timeout)")


def test_metric_without_scored_episodes_is_none_not_zero() -> None:
    metrics = score_run(WORDLE, [ep(0, "env_error"), ep(1, "model_error")])
    assert metrics.primary.value is None
    assert metrics.primary.n == 0
    assert metrics.scored == 0
    assert metrics.metrics["mean_reward"].value is None


def test_pass_at_k_and_pass_hat_k_on_a_hand_table() -> None:
    # seed 0: 1 of 3 passes, seed 1: 3 of 3, seed 2: 0 of 3
    wins = {0: [True, False, False], 1: [True, True, True], 2: [False, False, False]}
    results = [won(s, w, repeat=r) for s, flags in wins.items() for r, w in enumerate(flags)]
    metrics = score_run(WORDLE, results)
    assert metrics.pass_at_k == pytest.approx({1: 4 / 9, 2: 5 / 9, 3: 2 / 3})
    assert metrics.pass_hat_k == pytest.approx({1: 4 / 9, 2: 1 / 3, 3: 1 / 3})


def test_pass_at_k_uses_value_over_threshold_for_a_mean_primary() -> None:
    block = {"primary_metric": "mean_reward", "metrics": [REWARD]}
    results = [ep(0, total_reward=1.0), ep(0, repeat=1, total_reward=0.0),
               ep(1, total_reward=0.0), ep(1, repeat=1, total_reward=0.0),
               ep(1, repeat=2, total_reward=0.3)]
    metrics = score_run(block, results)
    # k runs to the fewest tries of any seed (2); seed 0: c=1/n=2, seed 1: c=1/n=3
    assert metrics.pass_at_k == pytest.approx({1: (1 / 2 + 1 / 3) / 2, 2: (1 + 2 / 3) / 2})
    assert metrics.pass_hat_k == pytest.approx({1: (1 / 2 + 1 / 3) / 2, 2: 0.0})


def test_no_pass_at_k_without_repeats() -> None:
    metrics = score_run(WORDLE, [won(0, True), won(1, False)])
    assert (metrics.pass_at_k, metrics.pass_hat_k) == ({}, {})


def test_extras_hand_computed() -> None:
    results = [
        won(0, True, steps=3, invalid_actions=1, prompt_tokens=100, completion_tokens=20,
            cost=0.01, wall_seconds=2.0),
        won(1, False, steps=6, invalid_actions=0, prompt_tokens=200, completion_tokens=40,
            cost=0.02, wall_seconds=4.0),
        ep(2, "env_error", steps=1, invalid_actions=5, prompt_tokens=10, completion_tokens=0,
           cost=0.0, wall_seconds=0.5),
    ]
    results[0].model_calls, results[1].model_calls = 4, 3
    results[1].cache_hits, results[1].saved_tokens, results[1].saved_cost = 3, 90, 0.005
    results[0].cache_misses = 4
    extras = score_run(WORDLE, results).extras
    assert extras == pytest.approx({
        "mean_steps": 4.5,                # scoreable episodes only
        "invalid_action_rate": 1 / 10,    # 1 / (9 steps + 1 invalid)
        "total_tokens": 370.0,            # every episode
        "mean_tokens": 370 / 3,
        "total_cost": 0.03,
        "total_wall_seconds": 6.5,
        "mean_wall_seconds": 6.5 / 3,
        "model_calls": 7.0,               # calls that reached the model
        "cache_hits": 3.0,                # answers read from a cassette, counted apart
        "cache_misses": 4.0,
        "saved_tokens": 90.0,
        "saved_cost": 0.005,
    })


def test_run_metrics_round_trip_through_json() -> None:
    results = [won(s, s % 2 == 0, repeat=r, total_reward=s / 4) for s in range(4)
               for r in range(2)]
    metrics = score_run(WORDLE, results)
    again = RunMetrics.from_dict(json.loads(json.dumps(metrics.to_dict())))
    assert again == metrics
    assert 1 in again.pass_at_k


# --- thresholds ------------------------------------------------------------------------

NAMES = ["win_rate", "mean_reward"]
KNOWN = ("; names: win_rate, mean_reward, mean_steps, invalid_action_rate, total_tokens, "
         "mean_tokens, total_cost, total_wall_seconds, mean_wall_seconds, pass@K, pass^K")
SYNTAX = ("expected NAME[.lower|.upper] OP NUMBER with OP one of >=, >, <=, <, == "
          "(e.g. 'win_rate>=0.6', 'win_rate.lower>=0.5', 'invalid_action_rate<=0.1')")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("win_rate>=0.6", Threshold("win_rate", "value", ">=", 0.6)),
        (" win_rate.lower >= 0.5 ", Threshold("win_rate", "lower", ">=", 0.5)),
        ("mean_reward.upper<1", Threshold("mean_reward", "upper", "<", 1.0)),
        ("win_rate.value>.5", Threshold("win_rate", "value", ">", 0.5)),
        ("invalid_action_rate<=0.1", Threshold("invalid_action_rate", "value", "<=", 0.1)),
        ("mean_steps<=5", Threshold("mean_steps", "value", "<=", 5.0)),
        ("total_cost<1e-2", Threshold("total_cost", "value", "<", 0.01)),
        ("pass@3>=0.8", Threshold("pass@3", "value", ">=", 0.8)),
        ("pass^2==-1", Threshold("pass^2", "value", "==", -1.0)),
    ],
)
def test_parse_good_thresholds(text: str, expected: Threshold) -> None:
    assert parse_threshold(text, NAMES) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("win_rate=>0.6", f"cannot read threshold 'win_rate=>0.6': {SYNTAX}{KNOWN}"),
        ("win_rate>=", f"cannot read threshold 'win_rate>=': {SYNTAX}{KNOWN}"),
        ("win_rate", f"cannot read threshold 'win_rate': {SYNTAX}{KNOWN}"),
        ("win_rate.mean>=1", f"cannot read threshold 'win_rate.mean>=1': {SYNTAX}{KNOWN}"),
        ("win_rate>=0.6x", f"cannot read threshold 'win_rate>=0.6x': {SYNTAX}{KNOWN}"),
        ("winrate>=0.6", f"threshold 'winrate>=0.6' names no metric 'winrate'{KNOWN}"),
        ("mean_steps.lower<=5",
         "threshold 'mean_steps.lower<=5': mean_steps has no interval; drop '.lower' "
         "(intervals exist for scoring metrics only)"),
    ],
)
def test_parse_bad_thresholds(text: str, message: str) -> None:
    with pytest.raises(ThresholdError) as info:
        parse_threshold(text, NAMES)
    assert str(info.value) == message
    assert isinstance(info.value, ValueError)


def test_a_scoring_metric_named_like_an_extra_keeps_its_interval() -> None:
    assert parse_threshold("mean_steps.lower<=5", ["mean_steps"]).bound == "lower"


def test_threshold_without_names_skips_the_metric_check() -> None:
    assert parse_threshold("anything>1").metric == "anything"
    with pytest.raises(ThresholdError, match=r"^cannot read threshold '>1': expected"):
        parse_threshold(">1")


# --- the gate --------------------------------------------------------------------------

def _seven_of_ten(*extra: EpisodeResult) -> RunMetrics:
    return score_run(WORDLE, [won(i, i < 7, steps=4) for i in range(10)] + list(extra))


@pytest.mark.parametrize(
    ("thresholds", "passed", "reasons"),
    [
        (["win_rate>=0.6"], True, []),
        (["win_rate>=0.6", "win_rate.lower>=0.5"], False,
         ["win_rate.lower>=0.5 missed: win_rate.lower is 0.3968"]),
        (["win_rate.upper<=0.9", "mean_steps<=5", "invalid_action_rate==0"], True, []),
        (["mean_steps<4"], False, ["mean_steps<4 missed: mean_steps is 4"]),
        (["win_rate>0.7"], False, ["win_rate>0.7 missed: win_rate is 0.7"]),
        (["win_rate==0.7"], True, []),
        (["pass@1>=0.5"], False, ["pass@1>=0.5: pass@1 has no value in this run"]),
    ],
)
def test_gate_thresholds(thresholds: list[str], passed: bool, reasons: list[str]) -> None:
    gate = evaluate_gate(_seven_of_ten(), parse_thresholds(thresholds, NAMES))
    assert gate.reasons == reasons
    assert gate.passed is passed
    assert [c.threshold for c in gate.checks] == [t.replace(".value", "") for t in thresholds]


def test_gate_fails_on_errors_beyond_the_allowance() -> None:
    metrics = _seven_of_ten(ep(20, "env_error"), ep(21, "env_error"), ep(22, "model_error"))
    gate = evaluate_gate(metrics, [parse_threshold("win_rate>=0.6")])
    assert not gate.passed
    assert gate.reasons == [
        "3 episodes ended in error (2 in env_error, 1 in model_error); allowed errors: 0"
    ]
    assert gate.checks[0].passed  # the threshold itself held
    assert evaluate_gate(metrics, [], allowed_errors=3).passed
    one = evaluate_gate(_seven_of_ten(ep(20, "model_error")), [])
    assert one.reasons == ["1 episode ended in error (1 in model_error); allowed errors: 0"]


def test_gate_fails_when_a_thresholded_metric_has_no_value() -> None:
    metrics = score_run(WORDLE, [won(1, True)])
    gate = evaluate_gate(metrics, [parse_threshold("mean_reward.lower>=0"),
                                   parse_threshold("win_rate.lower>=0.1")])
    assert gate.reasons == [  # a mean of one value has no interval; Wilson of 1/1 has one
        "mean_reward.lower>=0: mean_reward has no interval (1 of 1 episodes scored)"
    ]
    assert [c.actual for c in gate.checks] == [None, pytest.approx(0.2065, abs=1e-4)]
    nothing = score_run(WORDLE, [ep(0, last_info={}), ep(1, "env_error")])
    gate = evaluate_gate(nothing, [parse_threshold("win_rate>=0.5")], allowed_errors=1)
    assert gate.reasons == [
        "win_rate>=0.5: win_rate has no value (0 of 2 episodes scored)",
        "no episode could be scored for win_rate (0 of 2 episodes); see the outcomes and "
        "problems",
    ]
    assert not gate.passed


def test_gate_never_passes_an_empty_run() -> None:
    gate = evaluate_gate(score_run(WORDLE, []), [])
    assert (gate.passed, gate.reasons) == (False, ["no episodes ran"])


def test_gate_rejects_an_unknown_metric_at_evaluation() -> None:
    with pytest.raises(ThresholdError, match="names no metric 'nope'"):
        evaluate_gate(_seven_of_ten(), [parse_threshold("nope>=1")])


# --- baseline --------------------------------------------------------------------------

def test_baseline_comparison_pairs_by_seed_and_repeat() -> None:
    before = [won(0, True, total_reward=1.0), won(1, True, total_reward=1.0),
              won(2, False), won(3, True, total_reward=1.0), won(0, True, repeat=1),
              won(9, True)]
    now = [won(0, True, total_reward=1.0), won(1, False), won(2, True, total_reward=1.0),
           ep(3, "env_error"), won(0, False, repeat=1), won(5, True)]
    cmp = compare_to_baseline(now, before, WORDLE)
    win = cmp.deltas["win_rate"]
    assert (win.before, win.now) == (pytest.approx(5 / 6), pytest.approx(3 / 5))
    assert win.delta == pytest.approx(3 / 5 - 5 / 6)
    worse = [(c.label, c.metric) for c in cmp.worse]
    assert worse == [
        ("seed=0-r1", "win_rate"),
        ("seed=1", "win_rate"), ("seed=1", "mean_reward"),
        ("seed=3", "win_rate"), ("seed=3", "mean_reward"),
    ]
    assert [(c.label, c.metric) for c in cmp.better] == [
        ("seed=2", "win_rate"), ("seed=2", "mean_reward")]
    env = next(c for c in cmp.worse if c.label == "seed=3")
    assert (env.passed_before, env.passed_now, env.status_now) == (True, None, "env_error")
    assert (cmp.only_before, cmp.only_now) == (["seed=9"], ["seed=5"])
    assert cmp.regressed(0.5) == []
    assert cmp.regressed(0.1) == [  # mean_reward dropped exactly 0.1: allowed
        "win_rate got worse: 0.833 -> 0.600 (-0.233; allowed drop 0.1)",
    ]
    assert cmp.regressed(0.05)[1] == (
        "mean_reward got worse: 0.500 -> 0.400 (-0.100; allowed drop 0.05)"
    )
    text = format_comparison(cmp)
    assert "  worse: seed=3 win_rate: 1 (pass) -> env_error" in text
    assert "  better: seed=2 win_rate: 0 (fail) -> 1 (pass)" in text
    assert "  only in baseline: seed=9" in text


def test_baseline_respects_lower_is_better() -> None:
    block = {"primary_metric": "steps", "higher_is_better": False, "metrics": [
        {"name": "steps", "type": "episode_reward", "aggregation": "mean"}]}
    cmp = compare_to_baseline([ep(0, total_reward=3.0)], [ep(0, total_reward=5.0)], block)
    assert cmp.deltas["steps"].drop == -2.0
    assert [c.label for c in cmp.better] == ["seed=0"]
    assert cmp.regressed(0.0) == []
    lost = compare_to_baseline([ep(0, "model_error")], [ep(0, total_reward=5.0)], block)
    assert lost.regressed(10) == ["steps has no scored value now (was 5.000)"]


def test_load_results_reads_what_the_run_folder_wrote(tmp_path: Path) -> None:
    results = [won(0, True, total_reward=1.0), won(1, False), ep(2, "env_error")]
    metrics = score_run(WORDLE, results)
    folder = RunFolder.create(tmp_path, "base")
    folder.write_results({"episodes": 3}, results, metrics)
    config, loaded, loaded_metrics = load_results(folder.path)
    assert config == {"episodes": 3}
    assert loaded == results
    assert loaded_metrics == metrics
    assert load_results(folder.results_path)[1] == results
    cmp = compare_to_baseline(results, loaded, WORDLE, metrics_before=loaded_metrics)
    assert (cmp.better, cmp.worse) == ([], [])


def test_load_results_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(TraceError) as info:
        load_results(tmp_path / "missing")
    assert str(info.value) == (
        f"{tmp_path / 'missing'} not found; give a run folder "
        "(.mesocosm/runs/<run_id>) or its results.json"
    )
    other = tmp_path / "other.json"
    other.write_text('{"schema": "something/2"}')
    with pytest.raises(TraceError) as info:
        load_results(other)
    assert str(info.value) == (
        f"{other} is not a mesocosm results file (schema 'something/2', expected "
        "'mesocosm.results/1'); give the results.json of a run folder"
    )


# --- rendering -------------------------------------------------------------------------

def test_metrics_table_shows_values_intervals_thresholds_and_denominators() -> None:
    metrics = _seven_of_ten(ep(20, "env_error"))
    gate = evaluate_gate(metrics, parse_thresholds(["win_rate>=0.6", "mean_steps<=3"], NAMES))
    table = format_metrics_table(metrics, gate)
    lines = table.splitlines()
    assert lines[0].split() == ["metric", "value", "95%", "interval", "n", "threshold",
                                "verdict"]
    assert lines[2].split() == ["win_rate", "*", "0.700", "[0.397,", "0.892]", "10", ">=0.6",
                                "pass"]
    assert lines[3].split() == ["mean_reward", "0.000", "[0.000,", "0.000]", "10", "-"]
    assert lines[4].split() == ["mean_steps", "4.000", "-", "<=3", "FAIL"]
    assert ("scored 10/11 episodes (completed 10, truncated 0, timeout 0, invalid 0, "
            "env_error 1, model_error 0)") in lines
    assert ("mean steps 4.00, invalid-action rate 0.000, tokens 0 (0.0/episode), "
            "cost $0.0000, wall 0.0 s (0.00 s/episode)") in lines
    assert lines[-3:] == [
        "gate: FAILED",
        "  - mean_steps<=3 missed: mean_steps is 4",
        "  - 1 episode ended in error (1 in env_error); allowed errors: 0",
    ]


def test_metrics_table_caps_problems_and_shows_pass_at_k() -> None:
    results = [ep(s, repeat=r, last_info={"won": "?"}) for s in range(6) for r in range(2)]
    results += [won(9, True), won(9, False, repeat=1)]
    table = format_metrics_table(score_run(WORDLE, results))
    assert "problems (12):" in table
    assert "  - ... and 2 more (all in results.json)" in table
    assert "pass@1 0.500, pass@2 1.000; pass^1 0.500, pass^2 0.000" in table
    assert "gate:" not in table


def test_markdown_summary() -> None:
    metrics = _seven_of_ten()
    gate = evaluate_gate(metrics, [parse_threshold("win_rate.lower>=0.5")])
    md = format_markdown(metrics, gate, title="Wordle")
    assert md.startswith("### Wordle - FAILED\n\n| metric | value | 95% interval | n |")
    assert "| **win_rate *** | 0.700 | [0.397, 0.892] | 10 | .lower>=0.5 | FAIL |" in md
    assert "- win_rate.lower>=0.5 missed: win_rate.lower is 0.3968" in md
    assert isinstance(gate, GateResult)
    assert format_markdown(metrics).startswith("### mesocosm\n")
