"""Shared fixtures: real adapter processes on loopback ports."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pytest_mesocosm.adapter import AdapterProcess

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
WORDLE = EXAMPLES / "wordle"


@pytest.fixture
def start_adapter(tmp_path: Path) -> Iterator[Callable[[Path], str]]:
    """Start ``python adapter.py --port N`` for a given adapter file; return its URL."""
    processes: list[AdapterProcess] = []

    def start(adapter: Path) -> str:
        process = AdapterProcess(adapter, log_path=tmp_path / f"adapter-{len(processes)}.log")
        processes.append(process)
        process.start()
        return process.url

    yield start
    for process in processes:
        process.stop()


@pytest.fixture
def scripted() -> Iterator[Any]:
    """tests/fakes/scripted_http.ScriptedServer on a loopback port (``.url``, ``.script()``)."""
    from fakes.scripted_http import ScriptedServer

    server = ScriptedServer().start()
    yield server
    server.stop()
