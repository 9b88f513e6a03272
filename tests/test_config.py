"""build_config(): the one mapping from what a front end collected to a BenchConfig."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_mesocosm import BenchConfig, build_config


def test_absent_or_none_keeps_the_one_default() -> None:
    assert build_config({}) == BenchConfig()
    assert build_config({"max_tokens": None, "episodes": None, "model": None}) == BenchConfig()


def test_flat_keys_land_in_their_part() -> None:
    config = build_config({
        "model": "script:p.py:f", "max_tokens": 33, "max_steps": 7, "thresholds": ["a>=1", "a>=1"],
        "allowed_errors": 2, "seeds": (3, 1), "parallel": 4, "runs_dir": "out",
    })
    assert config.agent.model == "script:p.py:f" and config.agent.max_tokens == 33
    assert config.limits.max_steps == 7
    assert config.gate.thresholds == ["a>=1"] and config.gate.allowed_errors == 2
    assert config.seeds == [3, 1] and config.parallel == 4 and config.runs_dir == Path("out")
    assert config.planned == 2


def test_an_unknown_key_is_a_front_end_bug() -> None:
    with pytest.raises(TypeError, match="unknown option 'max_token'"):
        build_config({"max_token": 3})


def test_the_executor_part_is_built_but_left_out_of_results_json() -> None:
    config = build_config({"executor": "ray", "ray_address": "auto", "ray_actors": 3,
                           "ray_actor_parallel": 8})
    assert config.executor.kind == "ray" and config.executor.ray_address == "auto"
    assert (config.executor.ray_actors, config.executor.ray_actor_parallel) == (3, 8)
    assert build_config({}).executor.kind == "asyncio"
    # how episodes were scheduled does not change what they are
    assert config.to_dict() == build_config({}).to_dict()
