"""Helpers for the plugin's tests: env repos written into pytester's folder, run for real.

Every run is ``pytest --mesocosm`` in a subprocess (adapters are real processes on
loopback ports, the model is the ``script:`` agent, a closed port or the fake Ollama),
so what is tested is what a user runs.
"""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path
from typing import Any

import pytest
import support
from support import EXAMPLES

RUN_TIMEOUT = 180  # seconds for one `pytest --mesocosm` subprocess


def copy_example(pytester: pytest.Pytester, name: str) -> Path:
    """Copy ``examples/<name>`` into the test's folder; return the copy."""
    target = pytester.path / name
    shutil.copytree(EXAMPLES / name, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def edit_manifest(folder: Path, **changes: Any) -> None:
    """Set top-level keys of a copied benchanything.json."""
    path = folder / "benchanything.json"
    data = json.loads(path.read_text())
    data.update(changes)
    path.write_text(json.dumps(data, indent=2))


def mesocosm(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """``pytest --mesocosm ARGS`` in a subprocess, in pytester's folder."""
    return pytester.runpytest_subprocess("--mesocosm", *args, timeout=RUN_TIMEOUT)


def write_counter_repo(
    pytester: pytest.Pytester, crash_seeds: tuple[int, ...] = (), **episode: Any
) -> Path:
    """The shared counter env repo in ``counter/``: 4 steps win, step 3 of ``crash_seeds``
    raises."""
    folder = pytester.path / "counter"
    support.write_counter_repo(folder, support.crash_at_step_3(*crash_seeds), target="4",
                               **episode)
    return folder


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip()
