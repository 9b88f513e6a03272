"""Adapters spawned ahead: adopted by adapter_for when nothing differs, else stopped."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import support

from pytest_mesocosm.adapter import AdapterProcess
from pytest_mesocosm.adapter.ahead import spawn_ahead, stop_unclaimed
from pytest_mesocosm.adapter.connect import adapter_for
from pytest_mesocosm.engine.config import BenchConfig
from pytest_mesocosm.manifest.models import Manifest, load_manifest


@pytest.fixture
def manifest(tmp_path: Path) -> Iterator[Manifest]:
    yield load_manifest(support.write_counter_repo(tmp_path / "counter"))
    stop_unclaimed()  # whatever a failed test left waiting


def alive(pid: int | None) -> bool:
    assert pid is not None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def lease_process(manifest: Manifest, log: Path) -> tuple[AdapterProcess | None, dict]:
    """The process adapter_for hands out, and its /health, then leaves the block."""
    async with adapter_for(manifest, BenchConfig(), log_path=log) as lease:
        return lease.process, lease.health


def test_adapter_for_adopts_the_adapter_spawned_ahead_and_moves_its_log(
    manifest: Manifest, tmp_path: Path
) -> None:
    runs = tmp_path / "runs"
    spawned = spawn_ahead(manifest.adapter_path, python=None, log_dir=runs)
    assert spawned is not None and spawned.running
    ahead_log = spawned.log_path
    assert ahead_log is not None and ahead_log.parent == runs

    log = runs / "run-1" / "adapter.log"
    process, _ = asyncio.run(lease_process(manifest, log))

    assert process is spawned  # no second adapter
    assert spawned.log_path == log and log.is_file() and not ahead_log.exists()
    assert not alive(spawned.pid)  # leaving adapter_for stops it, as one it started


def test_an_adapter_spawned_under_another_environment_is_stopped_not_adopted(
    manifest: Manifest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spawned = spawn_ahead(manifest.adapter_path, python=None, log_dir=tmp_path / "runs")
    assert spawned is not None
    monkeypatch.setenv("COUNTER_SETTING", "changed after the spawn")

    process, _ = asyncio.run(lease_process(manifest, tmp_path / "run" / "adapter.log"))

    assert process is not None and process is not spawned
    assert not spawned.running and not alive(spawned.pid)
    assert not (tmp_path / "runs").exists()  # its log is gone, and the folder made for it


def test_unclaimed_adapters_are_stopped_and_leave_no_file(
    manifest: Manifest, tmp_path: Path
) -> None:
    runs = tmp_path / "made" / "runs"
    spawned = spawn_ahead(manifest.adapter_path, python=None, log_dir=runs)
    assert spawned is not None and spawned.running
    assert spawn_ahead(manifest.adapter_path, python=None, log_dir=runs) is None  # one only

    stop_unclaimed()

    assert not alive(spawned.pid)
    assert not runs.exists()  # the folder it created for its log is removed with it


def test_an_adapter_that_cannot_spawn_is_left_to_adapter_for(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    assert spawn_ahead(tmp_path / "missing.py", python=None, log_dir=runs) is None
    assert not runs.exists()


def test_a_log_folder_that_cannot_be_made_is_left_to_adapter_for(
    manifest: Manifest, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert spawn_ahead(manifest.adapter_path, python=None, log_dir=blocker / "runs") is None
    assert blocker.read_text() == ""
