"""Server test fixtures: the database backend, a running platform per module, the
Wordle example's adapter and the fake Ollama as real processes.

The backend is SQLite always, and PostgreSQL too when ``MESOCOSM_TEST_POSTGRES_URL``
names a server (``.ci/run`` sets it): every module runs once per backend.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest
from devenv_kit import reachable_folder, sandbox_python
from platform_kit import (
    FAKE_OLLAMA,
    WORDLE,
    Platform,
    postgres_database,
)
from support import free_port

from pytest_mesocosm.adapter import AdapterProcess


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
                 ) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'server.db'}"
        return
    with postgres_database() as url:
        yield url


@pytest.fixture(scope="module")
def ollama(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The fake Ollama answering "crane" to everything; its address as OLLAMA_HOST has it."""
    port = free_port()
    log = tmp_path_factory.mktemp("ollama") / "ollama.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, str(FAKE_OLLAMA), "--port", str(port),
                                 "--reply", "crane", "--latency", "0.02", "--no-record"],
                                stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/api/tags", timeout=1)
                break
            except httpx.HTTPError:
                assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture(scope="module")
def wordle_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    process = AdapterProcess(WORDLE / "adapter.py",
                             log_path=tmp_path_factory.mktemp("wordle") / "adapter.log")
    process.start()
    yield process.url
    process.stop()


@pytest.fixture(scope="module")
def platform(database_url: str, ollama: str, tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[Platform]:
    """One server per module and backend, with members alice (an admin), bob and carol;
    developer environments live where the sandbox user can reach them."""
    envs = reachable_folder("mesocosm-devenvs-")
    server = Platform(tmp_path_factory.mktemp("server"), database_url,
                      env={"OLLAMA_HOST": ollama, "MESOCOSM_SERVER_DEVENV_DIR": str(envs),
                           "MESOCOSM_SERVER_DEVENV_PYTHON": sandbox_python()},
                      flags=["--admins", "alice"])
    server.add_users("alice", "bob", "carol")
    server.start()
    yield server
    server.stop()
    shutil.rmtree(envs, ignore_errors=True)
