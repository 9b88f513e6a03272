"""Serial, -n 2, --mesocosm-parallel and both at once give exactly the same numbers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from plugin_support import copy_example, mesocosm

TIMING = {"total_wall_seconds", "mean_wall_seconds"}  # the only figures allowed to differ
EPISODE_FIELDS = ("seed", "repeat", "status", "total_reward", "rewards", "steps", "last_info",
                  "invalid_actions", "model_calls")


def essentials(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text())
    metrics = data["metrics"]
    metrics["extras"] = {k: v for k, v in metrics["extras"].items() if k not in TIMING}
    rows = [{k: r[k] for k in EPISODE_FIELDS} for r in data["results"]]
    return {"metrics": metrics, "results": rows, "gate": data["gate"]}


def test_xdist_and_parallel_runs_match_the_serial_run(pytester: pytest.Pytester) -> None:
    copy_example(pytester, "wordle")
    copy_example(pytester, "numberline")
    common = ("--mesocosm-model", "script:solver.py:policy", "--mesocosm-episodes", "4",
              "--mesocosm-threshold", "mean_steps<=6")
    runs = {
        "serial": ("-p", "no:xdist"),
        "n2": ("-n", "2"),
        "parallel8": ("-p", "no:xdist", "--mesocosm-parallel", "8"),
        "n2parallel4": ("-n", "2", "--mesocosm-parallel", "4"),  # queue-depth scheduling
    }
    outputs = {}
    for name, extra in runs.items():
        result = mesocosm(pytester, *common, *extra, "--mesocosm-report", f"{name}.json")
        assert result.ret == pytest.ExitCode.OK, result.stdout.str()
        result.assert_outcomes(passed=8)
        outputs[name] = result.stdout.str()

    for domain, total in (("wordle", 4), ("numberline", 4)):
        serial = essentials(pytester.path / f"serial-{domain}.json")
        assert serial["metrics"]["total"] == total
        assert [r["seed"] for r in serial["results"]] == list(range(4))
        for name in ("n2", "parallel8", "n2parallel4"):
            assert essentials(pytester.path / f"{name}-{domain}.json") == serial, (name, domain)

    for name, text in outputs.items():  # the summary is printed once, by the controller
        assert text.count("mesocosm: Wordle: gate passed") == 1, name
        assert text.count("mesocosm: Numberline: gate passed") == 1, name
    assert "/gw" in outputs["n2"].split("mesocosm: Wordle")[0]  # each worker's traces named


def test_the_xdist_controller_starts_workers_before_importing_the_engine(
    pytester: pytest.Pytester,
) -> None:
    """The controller plays no episode: the engine (aiohttp, pydantic models, agents)
    is imported in the workers only, so the workers start sooner."""
    copy_example(pytester, "wordle")
    pytester.makeconftest("""
        import json, sys

        def pytest_configure_node(node):
            loaded = [name for name in ("aiohttp", "pytest_mesocosm.engine.session",
                                        "pytest_mesocosm.manifest.models") if name in sys.modules]
            with open("controller-modules.json", "w") as fh:
                json.dump(loaded, fh)
    """)
    result = mesocosm(pytester, "-n", "2", "--mesocosm-model", "script:solver.py:policy",
                      "--mesocosm-episodes", "4")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    result.assert_outcomes(passed=4)
    assert result.stdout.str().count("mesocosm: Wordle: gate passed") == 1
    assert json.loads((pytester.path / "controller-modules.json").read_text()) == []
