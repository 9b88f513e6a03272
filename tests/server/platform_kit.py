"""A real ``mesocosm server`` process for the server tests, and a logged-in client kit.

``Platform`` starts the CLI command as a subprocess on free loopback ports, with its own
data folder and database URL, waits for ``/health``, and can be killed (-9) and started
again on the same database to test durability.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from support import free_port

from mesocosm_server.settings import ServerSettings
from mesocosm_server.users import add_user

ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-c", "from mesocosm_cli.main import cli; cli()"]
WORDLE = ROOT / "examples" / "wordle"
FAKE_OLLAMA = ROOT / "tests" / "fakes" / "ollama_server.py"
POSTGRES_VAR = "MESOCOSM_TEST_POSTGRES_URL"


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("MESOCOSM_", "SWECC_", "BENCH_", "OLLAMA_"))}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    env.update(extra or {})
    return env


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh database on the server POSTGRES_VAR names, dropped afterwards; the test is
    skipped where that variable is not set (CI sets it)."""
    base = os.environ.get(POSTGRES_VAR)
    if not base:
        pytest.skip(f"{POSTGRES_VAR} is not set (CI sets it; see .ci/run)")
    name = f"mesocosm_t_{uuid.uuid4().hex[:12]}"
    plain = base.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{base.rpartition('/')[0]}/{name}"
    finally:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Platform:
    """One server process (restartable) and helpers to act as its users."""

    def __init__(self, data_dir: Path, database_url: str, env: dict[str, str] | None = None,
                 flags: list[str] | None = None):
        self.data_dir = data_dir
        self.database_url = database_url
        self.env = child_env({"MESOCOSM_SERVER_DATA_DIR": str(data_dir), **(env or {})})
        self.flags = flags or []
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = free_port()
        self.bench_port = free_port()
        self.log = data_dir / "server.log"

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def bench(self) -> str:
        return f"{self.root}/bench"

    @property
    def local(self) -> str:
        return f"http://127.0.0.1:{self.bench_port}"

    def cli(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run([*CLI, "server", *args, "--database-url", self.database_url],
                              input=stdin, capture_output=True, text=True, env=self.env,
                              timeout=60)

    def start(self) -> Platform:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        out = open(self.log, "ab")  # noqa: SIM115 - the child keeps it
        self.proc = subprocess.Popen(
            [*CLI, "server", "--port", str(self.port), "--bench-port", str(self.bench_port),
             "--database-url", self.database_url, "--allow-local-endpoints", *self.flags],
            stdout=out, stderr=subprocess.STDOUT, env=self.env)
        deadline = time.monotonic() + 120  # a loaded CI machine starts slowly
        while True:
            try:
                if httpx.get(f"{self.local}/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server did not start:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.05)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()

    # -- acting as users ---------------------------------------------------------------
    def add_users(self, *names: str, password: str = "pw-secret") -> None:
        """Members added through the server's own account code (the CLI is tested apart)."""
        settings = ServerSettings(database_url=self.database_url, data_dir=self.data_dir)
        for name in names:
            add_user(settings, name, password)

    def login(self, name: str, password: str = "pw-secret") -> str:
        with httpx.Client(base_url=self.root) as client:
            csrf = client.get("/auth/csrf/").headers["X-CSRFToken"]
            answer = client.post("/auth/login/", json={"username": name, "password": password},
                                 headers={"X-CSRFToken": csrf})
            assert answer.status_code == 200, answer.text
            token: str = client.get("/auth/jwt/").json()["token"]
        return token

    def guest(self) -> str:
        token: str = httpx.post(f"{self.bench}/v1/auth/guest").json()["guest_token"]
        return token

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.bench, headers=headers, timeout=30)


def wordle_domain(domain_id: str, url: str, **extra: Any) -> dict[str, Any]:
    """The Wordle example's manifest as a ``POST /v1/domains`` body at ``url``."""
    manifest = json.loads((WORDLE / "benchanything.json").read_text())
    vow = {**manifest["binding_vow"], "id": f"{domain_id}-vow", "domain_id": domain_id,
           "tier": "tier1"}
    return {"id": domain_id, "name": manifest["name"], "binding_vow": vow,
            "endpoint": {"mode": "remote", "url": url}, "scoring": manifest["scoring"], **extra}


def seed_for(word: str) -> int:
    """A seed whose Wordle secret is ``word`` (the env picks with random.Random(seed))."""
    words = (WORDLE / "words.txt").read_text().split()
    for seed in range(100_000):
        if random.Random(seed).choice(words) == word:
            return seed
    raise LookupError(word)
