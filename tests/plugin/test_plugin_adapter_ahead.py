"""The first manifest's adapter is spawned as pytest configures, adopted by the run's
session, and never outlives the run, adopted or not."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from plugin_support import copy_example, mesocosm

SCRIPT = ("--mesocosm-model", "script:solver.py:policy")
RECORD_PID = "import os\nwith open('pids.txt', 'a') as fh:\n    fh.write(f'{os.getpid()}\\n')\n"


def pid_recording_wordle(pytester: pytest.Pytester) -> Path:
    """The Wordle example, its adapter writing its pid to pids.txt as it starts."""
    folder = copy_example(pytester, "wordle")
    adapter = folder / "adapter.py"
    future = "from __future__ import annotations\n"
    adapter.write_text(adapter.read_text().replace(future, future + RECORD_PID, 1))
    return folder


def wait_for_an_adapter_while_collecting(pytester: pytest.Pytester) -> None:
    """A conftest that holds collection until an adapter runs: only one spawned ahead can."""
    pytester.makeconftest("""
        import time
        from pathlib import Path

        def pytest_collection_modifyitems():
            deadline = time.monotonic() + 20
            while not Path("wordle/pids.txt").exists() and time.monotonic() < deadline:
                time.sleep(0.02)
            Path("seen.txt").write_text(str(Path("wordle/pids.txt").exists()))
    """)


def adapter_seen_while_collecting(pytester: pytest.Pytester) -> bool:
    return (pytester.path / "seen.txt").read_text() == "True"


def started_adapters(folder: Path) -> list[int]:
    pids = folder / "pids.txt"
    return [int(line) for line in pids.read_text().split()] if pids.exists() else []


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def ahead_logs(root: Path) -> list[Path]:
    return list(root.rglob(".adapter-ahead-*"))


def test_the_session_adopts_the_adapter_spawned_ahead(pytester: pytest.Pytester) -> None:
    folder = pid_recording_wordle(pytester)
    wait_for_an_adapter_while_collecting(pytester)
    result = mesocosm(pytester, *SCRIPT, "--mesocosm-episodes", "3", "-p", "no:xdist")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    result.assert_outcomes(passed=3)

    assert adapter_seen_while_collecting(pytester)
    pids = started_adapters(folder)
    assert len(pids) == 1  # running before collection ended, and the only one: adopted
    assert not any(alive(pid) for pid in pids)
    logs = list((pytester.path / ".mesocosm" / "runs").glob("*-wordle/adapter.log"))
    assert len(logs) == 1  # its log moved into the run folder
    assert ahead_logs(pytester.path) == []


def test_an_adapter_no_episode_asks_for_is_stopped(pytester: pytest.Pytester) -> None:
    folder = pid_recording_wordle(pytester)
    wait_for_an_adapter_while_collecting(pytester)
    result = mesocosm(pytester, *SCRIPT, "--mesocosm-episodes", "3", "-p", "no:xdist",
                      "-k", "no_such_item")
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED, result.stdout.str()

    assert adapter_seen_while_collecting(pytester)
    pids = started_adapters(folder)
    assert len(pids) == 1  # spawned ahead, as pytest configured
    assert not alive(pids[0])
    assert ahead_logs(pytester.path) == []


def test_xdist_workers_adopt_theirs(pytester: pytest.Pytester) -> None:
    folder = pid_recording_wordle(pytester)
    wait_for_an_adapter_while_collecting(pytester)
    result = mesocosm(pytester, *SCRIPT, "--mesocosm-episodes", "4", "-n", "2")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    result.assert_outcomes(passed=4)

    assert adapter_seen_while_collecting(pytester)
    pids = started_adapters(folder)
    assert len(pids) == 2  # one per worker
    assert not any(alive(pid) for pid in pids)
    assert len(list((pytester.path / ".mesocosm" / "runs").glob("*-wordle/gw*/adapter.log"))) == 2
    assert ahead_logs(pytester.path) == []
