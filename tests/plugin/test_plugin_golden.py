"""Golden trajectories through pytest: record Wordle with the solver, replay with no model."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from plugin_support import copy_example, mesocosm

SOLVER = "script:solver.py:policy"
REWARD_RULE = "reward=1.0 if self._won else 0.0"


def _wordle(pytester: pytest.Pytester) -> Path:
    """A copy of the Wordle example without its committed goldens."""
    folder = copy_example(pytester, "wordle")
    shutil.rmtree(folder / ".mesocosm")
    return folder


def _record(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    result = mesocosm(pytester, "--mesocosm-model", SOLVER, "--mesocosm-episodes", "3",
                      "--mesocosm-golden-record", "-p", "no:cacheprovider", *args)
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    return result


def _check(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("--mesocosm-golden", "-p", "no:cacheprovider", *args,
                                         timeout=120)


def _edit(env: Path, old: str, new: str) -> None:
    text = env.read_text()
    assert old in text
    env.write_text(text.replace(old, new))


def test_a_changed_reward_rule_fails_at_its_step_with_a_diff(pytester: pytest.Pytester) -> None:
    folder = _wordle(pytester)
    _record(pytester).stdout.fnmatch_lines(
        [f"mesocosm: recorded 3 golden files in {folder}/.mesocosm/golden/wordle"])
    files = sorted(p.name for p in (folder / ".mesocosm" / "golden" / "wordle").iterdir())
    assert files == ["seed-0.json", "seed-1.json", "seed-2.json"]
    golden = json.loads((folder / ".mesocosm/golden/wordle/seed-0.json").read_text())
    assert list(golden) == sorted(golden)  # stable key order: reviewable diffs
    assert golden["recorded_with"] == SOLVER and golden["steps"][-1]["reward"] == 1.0

    passed = _check(pytester)
    passed.assert_outcomes(passed=3)  # no model involved: the env alone is replayed

    original = (folder / "env.py").read_text()
    _edit(folder / "env.py", REWARD_RULE, "reward=0.5 if self._won else 0.0")
    failed = _check(pytester)
    failed.assert_outcomes(failed=3)
    step = len(golden["steps"])
    failed.stdout.fnmatch_lines([
        f"Wordle seed=0: first difference at step {step} (action *): reward",
        "--- golden",
        "+++ env now",
        "-  \"reward\": 1.0,",
        "+  \"reward\": 0.5,",
        f"golden file: {folder}/.mesocosm/golden/wordle/seed-0.json",
        "intended? record again with --mesocosm --mesocosm-golden-record*",
    ])
    failed.stdout.fnmatch_lines(["FAILED wordle/benchanything.json::golden[[]seed=0[]]*"])

    (folder / "env.py").write_text(original)
    _check(pytester).assert_outcomes(passed=3)


def test_a_volatile_field_declared_ignored_does_not_fail(pytester: pytest.Pytester) -> None:
    folder = _wordle(pytester)
    _edit(folder / "env.py", '"guesses_used": len(self._history)}',
          '"guesses_used": len(self._history), "at": __import__("time").time()}')
    _record(pytester)
    _check(pytester).stdout.fnmatch_lines(["*first difference at step 1 (action *): info"])

    _check(pytester, "--mesocosm-golden-ignore", "info.at").assert_outcomes(passed=3)
    ini = pytester.makeini("[pytest]\nmesocosm_golden_ignore =\n    info.at\n")
    _check(pytester).assert_outcomes(passed=3)

    ini.unlink()
    for path in (folder / ".mesocosm" / "golden" / "wordle").iterdir():  # the file's own list
        data = json.loads(path.read_text())
        data["ignore"] = ["info.at"]
        path.write_text(json.dumps(data, indent=2, sort_keys=True))
    _check(pytester).assert_outcomes(passed=3)


def test_recording_needs_the_episodes_of_a_run(pytester: pytest.Pytester) -> None:
    copy_example(pytester, "wordle")
    result = pytester.runpytest_subprocess("--mesocosm-golden-record")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: --mesocosm-golden-record needs --mesocosm: the "
                                 "episodes it records are the ones the run plays"])
