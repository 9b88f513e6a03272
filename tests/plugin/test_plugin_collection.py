"""Collection: node ids and order, -k, --co, --lf and -x, and broken manifests."""

from __future__ import annotations

import json

import pytest
from plugin_support import copy_example, mesocosm, write_counter_repo

SOLVER = "script:solver.py:policy"


def test_manifests_become_collectors_of_episode_items(pytester: pytest.Pytester) -> None:
    copy_example(pytester, "wordle")
    copy_example(pytester, "numberline")
    result = mesocosm(pytester, "--co", "-q", "--mesocosm-episodes", "2", "--mesocosm-repeats",
                      "2")
    ids = [line for line in result.stdout.lines if "::" in line]
    assert ids == [
        "numberline/benchanything.json::Numberline[seed=0]",
        "numberline/benchanything.json::Numberline[seed=0-r1]",
        "numberline/benchanything.json::Numberline[seed=1]",
        "numberline/benchanything.json::Numberline[seed=1-r1]",
        "wordle/benchanything.json::Wordle[seed=0]",
        "wordle/benchanything.json::Wordle[seed=0-r1]",
        "wordle/benchanything.json::Wordle[seed=1]",
        "wordle/benchanything.json::Wordle[seed=1-r1]",
    ]
    assert result.ret == pytest.ExitCode.OK
    assert not (pytester.path / ".mesocosm").exists()  # --co starts nothing

    result = mesocosm(pytester, "--co", "-q", "-k", "Wordle and not r1")
    ids = [line for line in result.stdout.lines if "::" in line]
    assert ids == [f"wordle/benchanything.json::Wordle[seed={s}]" for s in range(5)]

    deselect = "wordle/benchanything.json::Wordle[seed=3]"
    result = mesocosm(pytester, "--co", "-q", "wordle", "--deselect", deselect)
    ids = [line for line in result.stdout.lines if "::" in line]
    assert ids == [f"wordle/benchanything.json::Wordle[seed={s}]" for s in (0, 1, 2, 4)]

    result = mesocosm(pytester, "--co", "-q", "wordle/benchanything.json::Wordle[seed=2]")
    ids = [line for line in result.stdout.lines if "::" in line]
    assert ids == ["wordle/benchanything.json::Wordle[seed=2]"]

    result = mesocosm(pytester, "--co", "--mesocosm-conformance", "-q", "wordle")
    ids = [line.split("::")[1] for line in result.stdout.lines if "::" in line]
    assert ids[:3] == ["Wordle[contract-health]", "Wordle[contract-reset]",
                       "Wordle[contract-reset_null_seed]"]
    assert ids[-5:] == [f"Wordle[seed={s}]" for s in range(5)]


def test_broken_manifest_is_one_collection_error_with_the_fix(pytester: pytest.Pytester) -> None:
    folder = copy_example(pytester, "wordle")
    data = json.loads((folder / "benchanything.json").read_text())
    del data["scoring"]
    data["adapter"] = "missing.py"
    (folder / "benchanything.json").write_text(json.dumps(data))
    result = mesocosm(pytester, "--co")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines([
        "*ERROR collecting wordle/benchanything.json*",
        "*/wordle/benchanything.json: 2 problems",
        "*adapter*missing.py*",
        "*scoring*",
        "*1 error*",
    ])
    assert "Traceback" not in result.stdout.str()
    assert "pydantic" not in result.stdout.str()


def test_last_failed_and_exitfirst(pytester: pytest.Pytester) -> None:
    write_counter_repo(pytester, crash_seeds=(1, 3))
    args = ("--mesocosm-model", "script:policy.py:policy", "--mesocosm-parallel", "4",
            "--mesocosm-allowed-errors", "2")
    result = mesocosm(pytester, *args)
    result.assert_outcomes(passed=3, failed=2)

    result = mesocosm(pytester, *args, "--lf", "-v")
    result.assert_outcomes(failed=2)  # only the episodes that failed last time ran
    result.stdout.fnmatch_lines(["*Counter[[]seed=1] FAILED*", "*Counter[[]seed=3] FAILED*"])

    result = mesocosm(pytester, *args, "--ff", "-v")
    result.assert_outcomes(passed=3, failed=2)  # everything ran, the failures first
    ran = [line.split("::")[1].split()[0] for line in result.stdout.lines
           if "::Counter[" in line and ("PASSED" in line or "FAILED" in line)]
    assert ran[:2] == ["Counter[seed=1]", "Counter[seed=3]"]

    # -x stops at the first failure; episodes started ahead are cancelled, not counted
    runs = pytester.path / "x-runs"
    result = mesocosm(pytester, *args, "-x", "-p", "no:cacheprovider",
                      "--mesocosm-trace-dir", str(runs))
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*scored 1/2 episodes*"])
    assert sorted(p.name for p in runs.glob("*/traces/*")) == ["seed-0.jsonl", "seed-1.jsonl"]


def test_only_manifests_with_selected_episodes_start_a_session(pytester: pytest.Pytester) -> None:
    """Sessions start in the background as collection ends, for selected episodes only."""
    copy_example(pytester, "wordle")
    copy_example(pytester, "numberline")
    runs = pytester.path / "runs"
    result = mesocosm(pytester, "-k", "Wordle", "-p", "no:xdist", "--mesocosm-model", SOLVER,
                      "--mesocosm-episodes", "2", "--mesocosm-trace-dir", str(runs))
    result.assert_outcomes(passed=2)
    assert [p.name.split("-")[-1] for p in runs.iterdir()] == ["wordle"]
    assert (next(runs.iterdir()) / "adapter.log").is_file()
