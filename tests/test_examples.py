"""The example environments and their baseline solvers, played in-process over many seeds.

The env objects are driven exactly as the server drives them (``parse_action`` then
``step``), so these games are the ones a bench plays over HTTP.
"""

from __future__ import annotations

import json
import runpy
from pathlib import Path
from typing import Any

import pytest

from pytest_mesocosm.sdk import InvalidAction, StepResult

ROOT = Path(__file__).resolve().parent.parent
WORDLE = ROOT / "examples" / "wordle"
NUMBERLINE = ROOT / "examples" / "numberline"

wordle = runpy.run_path(str(WORDLE / "env.py"))
wordle_solver = runpy.run_path(str(WORDLE / "solver.py"))
numberline = runpy.run_path(str(NUMBERLINE / "env.py"))
numberline_solver = runpy.run_path(str(NUMBERLINE / "solver.py"))


def observation_of(reset_value: Any) -> Any:
    """What the harness hands the agent: the ``data`` of an envelope, else the value."""
    if isinstance(reset_value, dict) and "data" in reset_value:
        return reset_value["data"]
    return reset_value


def play(env_class: type, policy: Any, seed: int) -> list[StepResult]:
    """One whole episode; every step is returned."""
    env = env_class()
    observation = observation_of(env.reset(seed=seed))
    results = []
    while True:
        result = env.step(env.parse_action(policy(observation, None)))
        results.append(result)
        observation = result.observation
        if result.terminated or result.truncated:
            return results


# -- Wordle ---------------------------------------------------------------------------------

def test_word_list_has_500_distinct_five_letter_words() -> None:
    words = (WORDLE / "words.txt").read_text().split()
    assert len(words) >= 500
    assert len(set(words)) == len(words)
    assert all(len(word) == 5 and word.isascii() and word.isalpha() and word.islower()
               for word in words)
    assert wordle["WORDS"] == tuple(words)


@pytest.mark.parametrize(("guess", "secret", "feedback"), [
    ("crane", "crane", "GGGGG"),
    ("crane", "fluid", "....."),
    ("speed", "abide", "..Y.Y"),  # one yellow e: the answer has only one
    ("eerie", "there", "Y.Y.G"),  # the green e is matched first
    ("aback", "adult", "G...."),
    ("llama", "hello", "YY..."),
])
def test_feedback_counts_repeated_letters(guess: str, secret: str, feedback: str) -> None:
    assert wordle["score_guess"](guess, secret) == feedback


def test_solver_wins_at_least_80_percent_of_200_seeds() -> None:
    games = [play(wordle["WordleEnv"], wordle_solver["policy"], seed) for seed in range(200)]
    wins = [game[-1].info["won"] == "1.0" for game in games]
    assert sum(wins) / len(wins) >= 0.8
    for game, won in zip(games, wins, strict=True):
        assert [result.reward for result in game] == [0.0] * (len(game) - 1) + [float(won)]
        assert game[-1].info["guesses_used"] == len(game) <= 6


def test_weak_policy_loses_most_games() -> None:
    games = [play(wordle["WordleEnv"], wordle_solver["weak_policy"], seed) for seed in range(50)]
    assert sum(game[-1].info["won"] == "1.0" for game in games) <= 2
    assert all(len(game) == 6 for game in games if game[-1].info["won"] == "0.0")


def test_same_seed_same_game_and_seeds_pick_different_words() -> None:
    def trace(seed: int) -> list[Any]:
        return [(r.observation, r.reward, r.info)
                for r in play(wordle["WordleEnv"], wordle_solver["policy"], seed)]

    assert trace(42) == trace(42)
    answers = {play(wordle["WordleEnv"], wordle_solver["policy"], seed)[-1].info["answer"]
               for seed in range(30)}
    assert len(answers) > 20


def test_reset_tells_the_rules_and_hides_the_answer() -> None:
    env = wordle["WordleEnv"]()
    first = env.reset(seed=3)
    assert first["content_type"] == "application/json"
    assert "at most 6 guesses" in first["system_prompt"]
    assert first["data"] == {"last_guess": None, "feedback": None, "guesses_remaining": 6,
                             "history": []}
    answer = play(wordle["WordleEnv"], wordle_solver["policy"], 3)[-1].info["answer"]
    assert answer not in json.dumps(first)


@pytest.mark.parametrize(("action", "message"), [
    ("zzzzz", "'zzzzz' is not in the word list; guess a common English word"),
    ("tool", "'tool' is not a 5-letter word; reply with one word, letters a-z"),
    ("crane!", "'crane!' is not a 5-letter word; reply with one word, letters a-z"),
    ("créme", "'créme' is not a 5-letter word; reply with one word, letters a-z"),
    (["crane"], "a guess is a word (a string), got list ['crane']"),
])
def test_invalid_guesses_raise_invalid_action_and_cost_nothing(action: Any, message: str) -> None:
    env = wordle["WordleEnv"]()
    env.reset(seed=1)
    with pytest.raises(InvalidAction) as caught:
        env.step(action)
    assert str(caught.value) == message
    assert env.step(" Crane\n").observation["guesses_remaining"] == 5


def test_max_guesses_scenario_param_and_unknown_params() -> None:
    env = wordle["WordleEnv"]()
    assert env.reset(seed=1, max_guesses=2)["data"]["guesses_remaining"] == 2
    env.step("about")
    assert env.step("about").terminated
    with pytest.raises(ValueError, match=r"unknown scenario_params \['hard'\]"):
        env.reset(seed=1, hard=True)
    with pytest.raises(ValueError, match="max_guesses must be an integer from 1 to 10, got 0"):
        env.reset(seed=1, max_guesses=0)


def test_render_shows_the_board() -> None:
    env = wordle["WordleEnv"]()
    env.reset(seed=9)
    feedback = env.step("trace").observation["feedback"]
    assert env.render() == f"TRACE  {feedback}\n5 guesses remaining"


# -- Numberline (graded reward) ----------------------------------------------------------------

def test_numberline_solver_scores_high_and_rewards_are_graded() -> None:
    games = [play(numberline["NumberlineEnv"], numberline_solver["policy"], seed)
             for seed in range(200)]
    scores = [sum(result.reward for result in game) for game in games]
    assert all(0.0 <= score <= 1.0 for score in scores)
    assert sum(scores) / len(scores) >= 0.85
    assert 0 < sum(score == 1.0 for score in scores) < len(scores)  # graded, not pass/fail
    for game, score in zip(games, scores, strict=True):
        assert all(result.reward == 0.0 for result in game[:-1])  # paid at the end only
        assert score == numberline["score"](game[-1].info["distance"])
        assert (game[-1].info["found"] == "1.0") == (game[-1].info["distance"] == 0)


def test_numberline_bad_play_scores_lower() -> None:
    def low_guess(observation: dict[str, Any], context: Any) -> int:
        return int(observation["low"])

    scores = [sum(r.reward for r in play(numberline["NumberlineEnv"], low_guess, seed))
              for seed in range(100)]
    assert sum(scores) / len(scores) < 0.3


def test_numberline_is_deterministic_by_seed() -> None:
    def trace(seed: int) -> list[Any]:
        return [(r.observation, r.reward, r.info)
                for r in play(numberline["NumberlineEnv"], numberline_solver["policy"], seed)]

    assert trace(5) == trace(5)
    firsts = {json.dumps(numberline["NumberlineEnv"]().reset(seed=seed)) for seed in range(10)}
    assert len(firsts) == 10  # the range moves with the seed


@pytest.mark.parametrize(("action", "message"), [
    ("ten", "'ten' is not a whole number; reply with one integer from {low} to {high}"),
    (2.5, "a guess is an integer, got float 2.5"),
    (True, "a guess is an integer, got bool True"),
    (-1, "-1 is outside [{low}, {high}]; guess inside it"),
])
def test_numberline_parse_action_refuses(action: Any, message: str) -> None:
    env = numberline["NumberlineEnv"]()
    first = env.reset(seed=4)
    with pytest.raises(InvalidAction) as caught:
        env.parse_action(action)
    assert str(caught.value) == message.format(**first)
    assert env.parse_action(f" {first['low']} ") == first["low"]


def test_score_falls_linearly_to_zero() -> None:
    assert [numberline["score"](d) for d in (0, 1, 5, 10, 50)] == [1.0, 0.9, 0.5, 0.0, 0.0]


# -- manifests ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("folder", "primary", "aggregation"), [
    (WORDLE, "win_rate", "pass_rate"),
    (NUMBERLINE, "mean_score", "mean"),
])
def test_manifests_name_their_adapter_and_primary_metric(folder: Path, primary: str,
                                                         aggregation: str) -> None:
    manifest = json.loads((folder / "benchanything.json").read_text())
    assert (folder / manifest["adapter"]).is_file()
    assert manifest["scoring"]["primary_metric"] == primary
    metrics = {metric["name"]: metric for metric in manifest["scoring"]["metrics"]}
    assert metrics[primary]["aggregation"] == aggregation
    assert manifest["binding_vow"]["episode"]["supports_seed"] is True
