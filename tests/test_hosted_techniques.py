"""Technique contexts in the ``hosted`` prompt (PLATFORM_API.md 6.3): each technique a
run asks for adds ``## <key>\\n<value>`` after ``## Action Space``, in the run's order;
pinned string for string on a fixed observation and history.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from test_hosted_profile import FREE_CLOSING, MAZE, ctx_for, hosted

from pytest_mesocosm.agents import TechniqueUse, Turn
from pytest_mesocosm.agents.techniques import CATALOGUE
from pytest_mesocosm.engine.session import task_info
from pytest_mesocosm.manifest.models import load_manifest

HISTORY = [
    Turn(observation={"pos": [0, 0], "note": "x" * 200}, raw_text="up", action="up",
         reward=0.0),
    Turn(observation={"pos": [0, 1]}, raw_text="sideways", action="sideways",
         feedback="not a move"),  # rejected: not a step
    Turn(observation={"pos": [0, 1]}, raw_text="left", action="left", reward=-0.5),
    Turn(observation="plain text", raw_text="down", action="down", reward=1),
]
HEAD = ("Be brief.\n\n## Domain\nA 5x5 maze with one exit.\n\n"
        "## Action Space\none of ['up', 'down', 'left', 'right']\n\n")


def system_for(uses: list[TechniqueUse], step: int = 3) -> str:
    task = replace(MAZE, techniques=tuple(uses))
    request = hosted().request(ctx_for(task, {"pos": [1, 1]}, step=step, history=HISTORY))
    user = f'[Step {step + 1}]\n{{"pos": [1, 1]}}'
    assert request.messages[1] == {"role": "user", "content": user}
    content: str = request.messages[0]["content"]
    return content


def test_no_techniques_no_extra_parts() -> None:
    assert system_for([]) == HEAD + FREE_CLOSING


def test_memory_window_names_the_steps_left_out() -> None:
    obs = '{"pos": [0, 0], "note": "' + "x" * 200
    assert system_for([TechniqueUse("memory", {"window_size": 2})]) == (
        HEAD + "## Recent History\n(steps 1-1 omitted)\n"
        'Step 2: obs={"pos": [0, 1]} | action=left | reward=-0.5\n'
        "Step 3: obs=plain text | action=down | reward=1\n\n" + FREE_CLOSING)
    full = system_for([TechniqueUse("memory", {})])  # window 10: every step
    assert f"## Recent History\nStep 1: obs={obs[:120]} | action=up | reward=0.0\n" in full


def test_tools_then_roles_in_the_runs_order_and_roles_rotate() -> None:
    tools = [{"name": "hint", "description": "Shows the exit's row."}]
    uses = [TechniqueUse("tool_calling", {"tools": tools}),
            TechniqueUse("multi_agent", {"roles": ["scout", "mapper"]})]
    assert system_for(uses, step=3) == (
        HEAD + '## Available Tools\n```json\n[\n  {\n    "name": "hint",\n'
        '    "description": "Shows the exit\'s row."\n  }\n]\n```\n\n'
        "## Your Role\nmapper\n\n" + FREE_CLOSING)
    assert "## Your Role\nscout\n\n" in system_for(uses, step=2)


@pytest.mark.parametrize("uses", [
    [TechniqueUse("memory", {})],  # no step yet on the first turn
    [TechniqueUse("tool_calling", {})],
    [TechniqueUse("multi_agent", {"roles": []})],
])
def test_a_technique_with_nothing_to_say_adds_no_part(uses: list[Any]) -> None:
    task = replace(MAZE, techniques=tuple(uses))
    request = hosted().request(ctx_for(task, {"pos": [1, 1]}, step=0))
    assert request.messages[0]["content"] == HEAD + FREE_CLOSING


def test_catalogue_has_the_three_hosted_techniques() -> None:
    assert sorted(CATALOGUE) == ["memory", "multi_agent", "tool_calling"]
    assert {t.version for t in CATALOGUE.values()} == {"1.0.0"}
    assert CATALOGUE["memory"].config_schema["properties"]["window_size"]["default"] == 10


def test_run_local_turns_on_every_technique_the_vow_declares(tmp_path: Path) -> None:
    """As the hosted CLI's local runner does (PLATFORM_API.md 6.4), with empty params:
    memory then shows the last 10 steps, tools and roles have nothing to show."""
    folder = Path(__file__).parent.parent / "examples" / "wordle"
    manifest = json.loads((folder / "benchanything.json").read_text())
    manifest["binding_vow"]["techniques"] = ["memory", "multi_agent"]
    copy = tmp_path / "wordle"
    shutil.copytree(folder, copy)
    (copy / "benchanything.json").write_text(json.dumps(manifest))
    task = task_info(load_manifest(copy))
    assert task.techniques == (TechniqueUse("memory"), TechniqueUse("multi_agent"))
    request = hosted().request(ctx_for(task, "seen", step=1, history=HISTORY[:1]))
    assert "\n\n## Recent History\nStep 1: obs=" in request.messages[0]["content"]
    assert "## Your Role" not in request.messages[0]["content"]
