"""Where a developer environment lives on disk: one folder per environment, one
sub-folder per submission (checkout, virtualenv, the adapter's home and log).

Folders are readable by the sandbox user (it runs the code and the interpreter there)
but only its ``home`` is writable by it; the server's database and key stay 0600 elsewhere.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
from dataclasses import dataclass
from pathlib import Path

from mesocosm_server.settings import ServerSettings

LAUNCH_FILE = "launch.json"
SYSTEM_ROOT = Path("/var/lib/mesocosm")


def _passable(folder: Path) -> bool:
    """Whether any user may pass through ``folder`` and every folder above it."""
    for step in (folder, *folder.parents):
        if step.exists() and not step.stat().st_mode & 0o001:
            return False
    return True


def devenv_root(settings: ServerSettings) -> Path:
    """Where environments live: the setting, else ``data_dir/devenvs`` when the sandbox
    user can reach it (or there is no sandbox user), else a folder of this data dir's
    own under /var/lib/mesocosm (a server run as root from /root, say)."""
    if settings.devenv_dir is not None:
        return settings.devenv_dir
    default = (settings.data_dir / "devenvs").resolve()
    if os.geteuid() != 0 or _passable(default.parent):
        return default
    tag = hashlib.sha256(str(default).encode()).hexdigest()[:10]
    return SYSTEM_ROOT / f"devenvs-{tag}"


@dataclass(frozen=True)
class Submission:
    folder: Path

    @property
    def checkout(self) -> Path:
        return self.folder / "repo"

    @property
    def venv(self) -> Path:
        return self.folder / "venv"

    @property
    def home(self) -> Path:
        return self.folder / "home"

    @property
    def log(self) -> Path:
        return self.folder / "adapter.log"

    def write_launch(self, adapter: Path) -> None:
        """Remember the adapter (relative to the checkout) for starts on demand."""
        (self.folder / LAUNCH_FILE).write_text(json.dumps({"adapter": str(adapter)}),
                                               encoding="utf-8")

    def adapter(self) -> Path:
        data = json.loads((self.folder / LAUNCH_FILE).read_text(encoding="utf-8"))
        return self.checkout / str(data["adapter"])

    def reap(self) -> None:
        """Kill what a killed server left running here: every process whose interpreter
        is this submission's (the adapter, and children it started with it)."""
        venv = str(self.venv) + os.sep
        for proc in Path("/proc").glob("[0-9]*"):
            try:
                argv0 = (proc / "cmdline").read_bytes().split(b"\0")[0].decode()
            except (OSError, UnicodeDecodeError):
                continue
            if argv0.startswith(venv):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(int(proc.name), signal.SIGKILL)


@dataclass(frozen=True)
class Layout:
    root: Path

    def env_folder(self, env_id: str) -> Path:
        return self.root / env_id

    def submission(self, env_id: str, version: int, attempt: int) -> Submission:
        """One folder per onboarding attempt: what a killed server's leftover steps still
        write lands in its own attempt's folder, never in the next one's."""
        return Submission(self.env_folder(env_id) / f"v{version}.{attempt}")

    def fresh(self, env_id: str, version: int, attempt: int) -> Submission:
        """An empty folder for this attempt (one left by an earlier try is removed)."""
        for folder in (self.root, self.env_folder(env_id)):
            folder.mkdir(parents=True, exist_ok=True)
            folder.chmod(0o711)  # the sandbox user may pass through, not list
        submission = self.submission(env_id, version, attempt)
        submission.reap()
        shutil.rmtree(submission.folder, ignore_errors=True)
        submission.folder.mkdir()
        submission.folder.chmod(0o755)
        return submission

    def prune(self, env_id: str, keep: Submission | None) -> None:
        """Remove every submission folder but ``keep`` (all of them, and the env's
        folder, when ``keep`` is None)."""
        folder = self.env_folder(env_id)
        for child in folder.glob("v*"):
            if keep is None or child != keep.folder:
                Submission(child).reap()
                shutil.rmtree(child, ignore_errors=True)
        if keep is None:
            shutil.rmtree(folder, ignore_errors=True)

    def reap_all(self) -> None:
        """At start: no adapter of a previous server process survives it."""
        for folder in self.root.glob("*/v*"):
            Submission(folder).reap()
