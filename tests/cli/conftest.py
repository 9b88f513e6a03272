"""CLI test helpers: a clean environment in tmp, CliRunner and real `mesocosm` processes.

Every test gets HOME and SWECC_BENCH_CREDENTIALS under tmp (the real home is never
touched), no MESOCOSM_/SWECC_/BENCH_ variables from the outer shell, and OLLAMA_HOST /
MESOCOSM_ENV_URL pointing at closed loopback ports, so nothing depends on what happens to
run on this machine.
"""

from __future__ import annotations

import http.server
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from click.testing import CliRunner, Result
from support import FAKE_OLLAMA, closed_port_url, free_port

from mesocosm_cli.main import cli

ROOT = Path(__file__).resolve().parents[2]
WORDLE = ROOT / "examples" / "wordle"
_PREFIXES = ("MESOCOSM_", "SWECC_", "BENCH_", "OLLAMA_")


def mesocosm_exe() -> str:
    found = shutil.which("mesocosm", path=str(Path(sys.executable).parent)) or shutil.which(
        "mesocosm"
    )
    assert found, "the mesocosm entry point is not installed; run `pip install -e .`"
    return found


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A clean environment; cwd is an empty work folder, which is yielded."""
    for name in list(os.environ):
        if name.startswith(_PREFIXES):
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("SWECC_BENCH_CREDENTIALS", str(home / "bench_credentials.json"))
    monkeypatch.setenv("OLLAMA_HOST", closed_port_url())
    monkeypatch.setenv("MESOCOSM_ENV_URL", closed_port_url())
    monkeypatch.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    yield work


@pytest.fixture
def invoke(cli_env: Path) -> Callable[..., Result]:
    """Run the CLI in-process; exceptions are not swallowed (a traceback fails the test)."""
    runner = CliRunner(catch_exceptions=False)

    def run(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
        return runner.invoke(cli, list(args), input=input, env=env)

    return run


@pytest.fixture
def mesocosm(cli_env: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run the installed `mesocosm` entry point as a real process in the work folder."""
    exe = mesocosm_exe()

    def run(
        *args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
        input: str | None = None, timeout: float = 120,
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [exe, *args], cwd=cwd or cli_env, env={**os.environ, **(env or {})}, input=input,
            capture_output=True, text=True, timeout=timeout,
        )

    return run


class _BenchHealth(http.server.BaseHTTPRequestHandler):
    """GET /health as bench-api answers it; anything else 404."""

    def do_GET(self) -> None:
        ok = self.path == "/health"
        body = json.dumps({"status": "ok", "version": "test"} if ok else {"detail": "Not Found"})
        self.send_response(200 if ok else 404)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def bench_api() -> Iterator[str]:
    """A loopback server answering bench-api's GET /health; yields its URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _BenchHealth)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def dead_url() -> str:
    """A loopback URL where nothing listens."""
    return closed_port_url()


def _fake_ollama_module() -> ModuleType:
    name = "mesocosm_cli_tests_fake_ollama"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, FAKE_OLLAMA)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up while it loads
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture
def fake_ollama() -> Iterator[Callable[..., Any]]:
    """Start tests/fakes/ollama_server.FakeOllama in a thread: ``fake_ollama(replies=[...])``."""
    started: list[Any] = []

    def start(**kwargs: Any) -> Any:
        server = _fake_ollama_module().FakeOllama(**kwargs).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def mesocosm_path() -> str:
    """The installed `mesocosm` executable, for tests that drive the process themselves."""
    return mesocosm_exe()


@pytest.fixture
def ollama_process(tmp_path: Path) -> Iterator[str]:
    """tests/fakes/ollama_server.py as a real process; yields its address as OLLAMA_HOST has it."""
    port = free_port()
    log = tmp_path / "fake-ollama.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, str(FAKE_OLLAMA), "--port", str(port), "--reply", "crane",
             "--reply", "slate"],
            stdout=out, stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/tags", timeout=1):
                    break
            except OSError:
                assert proc.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "the fake Ollama did not answer in 15 s"
                time.sleep(0.05)
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)
