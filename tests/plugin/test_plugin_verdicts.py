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
