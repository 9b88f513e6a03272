"""`pytest --mesocosm` with three-valued verdicts: exit code, summary, JUnit, step summary."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from plugin_support import copy_example, mesocosm

SOLVER = "script:solver.py:policy"
UNDECIDED = "win_rate>=0.9 inconclusive: 1 in [0.566, 1.000] (95%)"


def test_an_undecided_threshold_is_inconclusive_everywhere_it_is_reported(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy_example(pytester, "wordle")
    step_summary = pytester.path / "step_summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(step_summary))
    result = mesocosm(pytester, "--mesocosm-model", SOLVER, "--mesocosm-episodes", "5",
                      "--mesocosm-threshold", "win_rate>=0.9", "--mesocosm-inconclusive",
                      "error", "--junitxml", "junit.xml", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=5)
    assert result.ret == 6
    result.stdout.fnmatch_lines([
        "win_rate [*] * 5 * >=0.9 * inconclusive",
        "inconclusive thresholds (the run is inconclusive; inconclusive mode error):",
        f"  - {UNDECIDED}",
        "gate: INCONCLUSIVE",
        f"mesocosm: Wordle: gate INCONCLUSIVE: {UNDECIDED}",
    ])
    suite = ET.parse(pytester.path / "junit.xml").getroot().find("testsuite")
    assert suite is not None
    props = {p.get("name"): p.get("value") for p in suite.findall("properties/property")}
    assert props == {"mesocosm.wordle.verdict": "inconclusive",
                     "mesocosm.wordle.threshold.win_rate>=0.9": UNDECIDED}
    markdown = step_summary.read_text()
    assert markdown.startswith("### mesocosm: Wordle - INCONCLUSIVE\n")
    assert UNDECIDED in markdown
    (run_dir,) = (pytester.path / ".mesocosm" / "runs").iterdir()
    gate = json.loads((run_dir / "results.json").read_text())["gate"]
    assert (gate["decision"], gate["inconclusive"]) == ("inconclusive", [UNDECIDED])


def test_the_ini_twin_sets_the_mode(pytester: pytest.Pytester) -> None:
    copy_example(pytester, "wordle")
    pytester.makeini("[pytest]\nmesocosm_inconclusive = fail\n")
    result = mesocosm(pytester, "--mesocosm-model", SOLVER, "--mesocosm-episodes", "5",
                      "--mesocosm-threshold", "win_rate>=0.9", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines([f"  - {UNDECIDED}; counted as failed (inconclusive mode: fail)"])
    bad = mesocosm(pytester, "--co", "--mesocosm-inconclusive", "maybe")
    assert bad.ret == pytest.ExitCode.USAGE_ERROR
    bad.stderr.fnmatch_lines(["ERROR: --mesocosm-inconclusive: expected estimate or fail or "
                              "pass or error, got 'maybe'"])


def test_until_decided_plays_more_seeds_after_the_items(pytester: pytest.Pytester) -> None:
    copy_example(pytester, "wordle")
    result = mesocosm(pytester, "--mesocosm-model", SOLVER, "--mesocosm-episodes", "5",
                      "--mesocosm-threshold", "win_rate>=0.9", "--mesocosm-inconclusive",
                      "error", "--mesocosm-until-decided", "200", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=5)  # the planned seeds are the items; the rest follow
    result.stdout.fnmatch_lines([
        "win_rate [*] * 1.000 * [[]0.977, 1.000[]] * 160 * >=0.9 * pass",
        "sequential rule: decided at look 6 after 160 episodes (max 200); this look's "
        "interval level 99.92%, overall error <= 0.05",
        "gate: PASSED",
    ])
    (run_dir,) = (pytester.path / ".mesocosm" / "runs").iterdir()
    data = json.loads((run_dir / "results.json").read_text())
    assert [r["seed"] for r in data["results"]] == list(range(160))
    assert data["complete"] is True and data["gate"]["sequential"]["index"] == 6
    assert len(list((run_dir / "until-decided" / "traces").iterdir())) == 155
    small = mesocosm(pytester, "--co", "--mesocosm-episodes", "5",
                     "--mesocosm-until-decided", "4")
    assert small.ret == pytest.ExitCode.USAGE_ERROR
    small.stderr.fnmatch_lines(["ERROR: --mesocosm-until-decided 4 is below the 5 planned "
                                "episodes; give a larger MAX or fewer episodes"])
