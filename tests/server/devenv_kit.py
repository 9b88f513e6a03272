"""Developer environment tests' material: git repositories made from the Wordle example
(or broken on purpose), a folder and an interpreter the sandbox user can reach, and a
wait for onboarding to end.

When the tests run as root (CI), submitted adapters run as ``nobody``: pytest's own
temporary folders (0700) are out of its reach, so the server's folders live in a
world-traversable folder under the system's temp dir, and the virtualenvs are built on
an interpreter ``nobody`` can run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from platform_kit import WORDLE

WORDLE_FILES = ("adapter.py", "env.py", "benchanything.json", "words.txt")
GIT = ["git", "-c", "user.name=Test", "-c", "user.email=test@example.org",
       "-c", "init.defaultBranch=main"]


def make_repo(folder: Path, files: dict[str, str] | None = None) -> Path:
    """A committed git repository: the Wordle example, an empty requirements.txt, then
    ``files`` (relative path -> text) written over it."""
    folder.mkdir(parents=True)
    for name in WORDLE_FILES:
        shutil.copy(WORDLE / name, folder / name)
    (folder / "requirements.txt").write_text("")
    subprocess.run([*GIT, "init", "-q"], cwd=folder, check=True)
    return commit(folder, files or {}, "Wordle")


def commit(folder: Path, files: dict[str, str], message: str) -> Path:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    subprocess.run([*GIT, "add", "-A"], cwd=folder, check=True)
    subprocess.run([*GIT, "commit", "-qm", message], cwd=folder, check=True)
    return folder


def _runs_as(user: str, python: str) -> bool:
    try:
        return subprocess.run([python, "-c", ""], user=user, capture_output=True,
                              timeout=30).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def sandbox_python(user: str = "nobody") -> str:
    """An interpreter the sandbox user can run: ours, else the system's python3."""
    if os.geteuid() != 0:
        return sys.executable
    for candidate in (sys.executable, "/usr/local/bin/python3", "/usr/bin/python3"):
        if Path(candidate).exists() and _runs_as(user, candidate):
            return candidate
    raise RuntimeError(f"no Python interpreter here can be run by {user}; "
                       "install python3 system-wide")


def reachable_folder(prefix: str) -> Path:
    """A fresh folder every user can pass through (not list), under the system temp."""
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp" if Path("/tmp").is_dir()
                                   else None))
    folder.chmod(0o711)
    return folder


def wait_onboarded(client: httpx.Client, env_id: str, timeout: float = 90) -> dict[str, Any]:
    """Poll until ``ready`` or ``failed``; the poll answer."""
    deadline = time.monotonic() + timeout
    while True:
        state: dict[str, Any] = client.get(f"/v1/developer/environments/{env_id}/poll").json()
        if state["status"] in ("ready", "failed") or time.monotonic() > deadline:
            return state
        time.sleep(0.2)


def adapter_pids(folder: Path) -> list[int]:
    """Processes whose interpreter comes from ``folder`` (an env's virtualenvs)."""
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv0 = (proc / "cmdline").read_bytes().split(b"\0")[0].decode()
        except OSError:
            continue
        if argv0.startswith(str(folder)):
            pids.append(int(proc.name))
    return pids
