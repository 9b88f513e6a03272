"""AdapterProcess against real child processes on loopback ports."""

from __future__ import annotations

import json
import os
import resource
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import pytest

from pytest_mesocosm.adapter import AdapterProcess
from pytest_mesocosm.errors import AdapterStartError

FAKES = Path(__file__).resolve().parent / "fakes"
PROCS = FAKES / "process_adapters"
TINY = PROCS / "health_server.py"


def get_health(url: str) -> dict[str, object]:
    with urllib.request.urlopen(url + "/health", timeout=5) as resp:
        return json.loads(resp.read())


def is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def port_is_open(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_with_block_starts_from_the_adapter_folder_and_stops_on_exit(tmp_path: Path) -> None:
    log = tmp_path / "logs" / "adapter.log"
    with AdapterProcess(TINY, log_path=log) as proc:
        health = get_health(proc.url)
        assert proc.running
        port, pid = proc.port, proc.pid
    assert health["cwd"] == str(PROCS)
    assert health["argv"] == ["health_server.py", "--port", str(port)]  # adapters may parse no more
    assert proc.log_path == log and log.exists()
    assert not proc.running
    assert pid is not None and not is_alive(pid)
    assert not port_is_open(port)


def test_a_given_environment_and_child_setup_replace_the_inherited_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a host running untrusted adapters relies on: nothing of its own environment
    reaches the child, and the set-up runs in the child before the adapter does."""

    def limit_files() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (128, 128))

    monkeypatch.setenv("MESOCOSM_TEST_SECRET", "hidden")
    with AdapterProcess(TINY, log_path=tmp_path / "a.log", env={"ONLY": "this"},
                        preexec=limit_files) as proc:
        health = get_health(proc.url)
    assert "ONLY" in health["environ"] and "MESOCOSM_TEST_SECRET" not in health["environ"]
    assert set(health["environ"]) <= {"ONLY", "PYTHONUNBUFFERED", "LC_CTYPE"}
    assert health["nofile"] == 128
    assert resource.getrlimit(resource.RLIMIT_NOFILE)[0] != 128  # not this process's


def test_the_hosted_style_fastapi_adapter_starts(tmp_path: Path) -> None:
    with AdapterProcess(FAKES / "hosted_adapter.py", log_path=tmp_path / "a.log") as proc:
        assert get_health(proc.url) == {"status": "ok", "env": "GuessEnv", "episodes": 0}


def test_missing_adapter_file_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope" / "adapter.py"
    with pytest.raises(AdapterStartError, match=r"adapter file .*nope/adapter\.py does not exist"):
        AdapterProcess(missing).start()


def test_adapter_that_exits_fails_at_once_with_code_and_last_log_lines(tmp_path: Path) -> None:
    started = time.monotonic()
    with pytest.raises(AdapterStartError) as info:
        AdapterProcess(PROCS / "exits_at_start.py", startup_timeout=60,
                       log_path=tmp_path / "a.log").start()
    assert time.monotonic() - started < 10  # did not wait for the 60 s timeout
    message = str(info.value)
    assert "exits_at_start.py exited with code 3 before answering GET http://127.0.0.1:" in message
    assert "ModuleNotFoundError: No module named 'wordlist'" in message
    assert "noise line 19" in message and "noise line 6" in message
    assert "noise line 5" not in message  # only the last 15 lines


def test_slow_start_within_the_timeout_succeeds_and_logs_to_a_temp_file() -> None:
    with AdapterProcess(PROCS / "slow_start.py", startup_timeout=20) as proc:
        assert get_health(proc.url)["status"] == "ok"
        assert proc.log_path is not None
        assert "loading..." in proc.log_path.read_text()
    proc.log_path.unlink()


def test_slow_start_over_the_timeout_fails_and_stops_the_child(tmp_path: Path) -> None:
    proc = AdapterProcess(PROCS / "slow_start.py", startup_timeout=0.3, log_path=tmp_path / "a.log")
    with pytest.raises(AdapterStartError) as info:
        proc.start()
    message = str(info.value)
    assert f"did not answer GET {proc.url}/health with 200 within 0.3 s" in message
    assert "loading..." in message
    assert proc.pid is not None and not is_alive(proc.pid)


def test_stop_kills_a_child_that_ignores_sigterm_after_grace(tmp_path: Path) -> None:
    proc = AdapterProcess(PROCS / "ignores_sigterm.py", grace=0.5, log_path=tmp_path / "a.log")
    proc.start()
    pid = proc.pid
    assert pid is not None
    started = time.monotonic()
    proc.stop()
    assert time.monotonic() - started >= 0.5
    assert not is_alive(pid)
    proc.stop()  # idempotent


def test_stop_before_start_is_harmless() -> None:
    AdapterProcess(TINY).stop()


def test_with_block_stops_the_child_when_the_body_raises(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    with pytest.raises(ZeroDivisionError), AdapterProcess(TINY, log_path=log) as proc:
        pid = proc.pid
        1 / 0  # noqa: B018
    assert pid is not None and not is_alive(pid)


def test_explicit_free_port_is_used(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with AdapterProcess(TINY, port=port, log_path=tmp_path / "a.log") as proc:
        assert proc.url == f"http://127.0.0.1:{port}"
        assert get_health(proc.url)["status"] == "ok"


def test_explicit_busy_port_says_so(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        busy_message = rf"port {port} on 127\.0\.0\.1 is already in use"
        with pytest.raises(AdapterStartError, match=busy_message):
            AdapterProcess(TINY, port=port, log_path=tmp_path / "a.log").start()


def test_missing_interpreter_names_it(tmp_path: Path) -> None:
    with pytest.raises(AdapterStartError, match=r"cannot run '/no/such/python' to start .*"):
        AdapterProcess(TINY, python="/no/such/python", log_path=tmp_path / "a.log").start()


def test_child_is_killed_at_interpreter_exit_if_never_stopped(tmp_path: Path) -> None:
    script = tmp_path / "forgetful.py"
    script.write_text(textwrap.dedent(f"""
        from pytest_mesocosm.adapter import AdapterProcess
        proc = AdapterProcess({str(TINY)!r}, grace=1, log_path={str(tmp_path / "a.log")!r}).start()
        print(proc.pid, flush=True)
    """))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=60, check=True)
    pid = int(done.stdout.strip())
    try:
        assert not is_alive(pid)
    finally:
        if is_alive(pid):
            os.kill(pid, 9)
