"""`run local` with three-valued verdicts: --inconclusive and --until-decided, on Wordle."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from click.testing import Result

from pytest_mesocosm.scoring.estimators import wilson_interval

Invoke = Callable[..., Result]
WORDLE = Path(__file__).resolve().parents[2] / "examples" / "wordle"
# The solver wins every game: 5 of 5 give a Wilson interval [0.566, 1], which straddles 0.9.
BASE = ("run", "local", "--manifest", str(WORDLE), "--model", "script:solver.py:policy",
        "--episodes", "5", "--threshold", "win_rate>=0.9", "--out", "runs", "--quiet")


def _results(out: Path) -> dict[str, Any]:
    (run_dir,) = [p for p in out.iterdir() if p.is_dir()]
    data: dict[str, Any] = json.loads((run_dir / "results.json").read_text())
    return data


def test_five_seeds_leave_the_threshold_inconclusive(
    invoke: Invoke, cli_env: Path, dead_url: str
) -> None:
    result = invoke(*BASE, "--env-url", dead_url, "--inconclusive", "error")
    assert result.exit_code == 6, result.output
    assert "gate: INCONCLUSIVE" in result.stdout
    assert result.stderr.strip() == (
        "Error: gate inconclusive: win_rate>=0.9 inconclusive: 1 in [0.566, 1.000] (95%)")
    gate = _results(cli_env / "runs")["gate"]
    assert (gate["passed"], gate["decision"], gate["mode"]) == (False, "inconclusive", "error")
    (check,) = gate["checks"]
    assert check["decision"] == "inconclusive"
    assert (check["lower"], check["upper"]) == (wilson_interval(5, 5)[0], 1.0)


def test_the_default_mode_keeps_the_point_estimate_and_says_so(
    invoke: Invoke, cli_env: Path, dead_url: str
) -> None:
    result = invoke(*BASE, "--env-url", dead_url)
    assert result.exit_code == 0, result.output
    assert ("inconclusive thresholds (settled by the point estimate; inconclusive mode "
            "estimate):\n  - win_rate>=0.9 inconclusive: 1 in [0.566, 1.000] (95%)\n"
            "gate: PASSED") in result.stdout
    result = invoke(*BASE, "--env-url", dead_url, "--inconclusive", "fail")
    assert result.exit_code == 1
    assert "counted as failed (inconclusive mode: fail)" in result.stderr


def test_until_decided_adds_seeds_until_the_threshold_is_decided(
    invoke: Invoke, cli_env: Path, dead_url: str
) -> None:
    result = invoke(*BASE, "--env-url", dead_url, "--inconclusive", "error",
                    "--until-decided", "200", "--parallel", "4")
    assert result.exit_code == 0, result.output
    assert ("sequential rule: decided at look 6 after 160 episodes (max 200); this look's "
            "interval level 99.92%, overall error <= 0.05\ngate: PASSED") in result.stdout
    data = _results(cli_env / "runs")
    assert [r["seed"] for r in data["results"]] == list(range(160))
    assert data["complete"] is True and data["config"]["seeds"] == list(range(160))
    gate = data["gate"]
    assert gate["decision"] == "passed" and gate["checks"][0]["decision"] == "passed"
    assert gate["sequential"]["index"] == 6 and gate["sequential"]["episodes"] == 160
    assert gate["checks"][0]["confidence"] == 1 - gate["sequential"]["spent_alpha"]


def test_until_decided_stops_at_the_maximum_still_undecided(
    invoke: Invoke, cli_env: Path, dead_url: str
) -> None:
    result = invoke(*BASE, "--env-url", dead_url, "--inconclusive", "error",
                    "--until-decided", "12")
    assert result.exit_code == 6, result.output
    assert "sequential rule: still undecided at look 3 after 12 episodes (max 12)" in result.stdout


def test_a_maximum_below_the_first_batch_is_one_line(invoke: Invoke, dead_url: str) -> None:
    result = invoke(*BASE, "--env-url", dead_url, "--until-decided", "3")
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "Error: --until-decided 3 is below the 5 episodes of the first batch; give a larger "
        "MAX or fewer episodes")
