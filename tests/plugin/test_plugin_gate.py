"""The gate, the summary table, the reports (JSON, JUnit, step summary) and the baseline."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest
from plugin_support import copy_example, edit_manifest, mesocosm

SOLVER = "script:solver.py:policy"
WEAK = "script:solver.py:weak_policy"


def test_solver_passes_and_every_report_is_written(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy_example(pytester, "wordle")
    step_summary = pytester.path / "step_summary.md"
    step_summary.write_text("# earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(step_summary))
    result = mesocosm(pytester, "--mesocosm-model", SOLVER, "--mesocosm-episodes", "4",
                      "--mesocosm-threshold", "win_rate>=0.5", "--mesocosm-report",
                      "out/report.json", "--junitxml", "junit.xml")
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines([
        "*= mesocosm =*",
        "Wordle (wordle/benchanything.json)",
        "metric * value * 95% interval * n * threshold * verdict",
        "win_rate [*] * 4 * >=0.5 * pass",
        "scored 4/4 episodes (completed *",
        "mean steps *, invalid-action rate 0.000, tokens *, cost *, wall * s *",
        "gate: PASSED",
        "results: .mesocosm/runs/*-wordle/results.json",
        "traces: .mesocosm/runs/*-wordle/traces",
        "report: out/report.json",
        "mesocosm: Wordle: gate passed",
    ])

    report = json.loads((pytester.path / "out" / "report.json").read_text())
    assert report["schema"] == "mesocosm.results/1"
    assert report["complete"] is True
    assert report["manifest"]["domain_id"] == "wordle"
    assert report["config"]["agent"]["model"] == SOLVER
    assert [(r["seed"], r["status"]) for r in report["results"]] == [
        (s, "completed") for s in range(4)
    ]
    assert report["metrics"]["total"] == 4
    assert report["gate"]["passed"] is True
    assert all(Path(r["trace_path"]).is_file() for r in report["results"])
    run_dir = next((pytester.path / ".mesocosm" / "runs").iterdir())
    assert json.loads((run_dir / "results.json").read_text()) == report

    cases = ET.parse(pytester.path / "junit.xml").getroot().iter("testcase")
    props = {case.get("name"): {p.get("name"): p.get("value") for p in case.iter("property")}
             for case in cases}
    episode = next(r for r in report["results"] if r["seed"] == 2)
    assert props["Wordle[seed=2]"] == {
        "reward": str(episode["total_reward"]), "steps": str(episode["steps"]),
        "outcome": "completed", "tokens": "0",
    }
    assert len(props) == 4

    markdown = step_summary.read_text()
    assert markdown.startswith("# earlier step\n### mesocosm: Wordle - passed\n")
    assert "| **win_rate *** |" in markdown


def test_weak_policy_misses_the_manifests_threshold(pytester: pytest.Pytester) -> None:
    folder = copy_example(pytester, "wordle")
    edit_manifest(folder, mesocosm={"thresholds": ["win_rate>=0.5"], "allowed_errors": 0})
    result = mesocosm(pytester, "--mesocosm-model", WEAK, "--mesocosm-episodes", "3")
    result.assert_outcomes(passed=3)  # a lost game is not a failed test...
    assert result.ret == pytest.ExitCode.TESTS_FAILED  # ...but the run misses its bar
    result.stdout.fnmatch_lines([
        "win_rate [*] * 0.000 * 3 * >=0.5 * FAIL",
        "gate: FAILED",
        "  - win_rate>=0.5 missed: win_rate is 0",
        "mesocosm: Wordle: gate FAILED: win_rate>=0.5 missed: win_rate is 0",
    ])


def test_baseline_comparison_reports_and_gates_on_a_drop(pytester: pytest.Pytester) -> None:
    copy_example(pytester, "wordle")
    before = mesocosm(pytester, "--mesocosm-model", SOLVER, "--mesocosm-episodes", "3",
                      "--mesocosm-report", "base.json")
    assert before.ret == pytest.ExitCode.OK

    args = ("--mesocosm-model", WEAK, "--mesocosm-episodes", "3", "--mesocosm-baseline",
            "base.json")
    result = mesocosm(pytester, *args)
    assert result.ret == pytest.ExitCode.OK  # compared, not gated
    result.stdout.fnmatch_lines([
        "baseline comparison:",
        "  win_rate: 1.000 -> 0.000 (-1.000)",
        "  worse: seed=0 win_rate: 1 (pass) -> 0 (fail)",
        "  worse: seed=1 win_rate: 1 (pass) -> 0 (fail)",
        "  worse: seed=2 win_rate: 1 (pass) -> 0 (fail)",
        "  (baseline: base.json)",
    ])

    result = mesocosm(pytester, *args, "--mesocosm-max-drop", "0.25")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines([
        "mesocosm: Wordle: gate FAILED: baseline: win_rate got worse: 1.000 -> 0.000 "
        "(-1.000; allowed drop 0.25)",
    ])


def test_running_adapter_via_env_url(
    pytester: pytest.Pytester, start_adapter: Callable[[Path], str]
) -> None:
    folder = copy_example(pytester, "wordle")
    url = start_adapter(folder / "adapter.py")
    result = mesocosm(pytester, "--mesocosm-model", SOLVER, "--mesocosm-episodes", "2",
                      "--mesocosm-env-url", url)
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=2)
    run_dir = next((pytester.path / ".mesocosm" / "runs").iterdir())
    assert not (run_dir / "adapter.log").exists()  # nothing was started
