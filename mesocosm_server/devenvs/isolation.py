"""What a submitted adapter's process gets: a scrubbed environment, resource limits and,
when the server runs as root, an unprivileged user.

The environment holds only what a Python program needs (PATH to its own virtualenv,
HOME and TMPDIR inside its folder, a locale): no server setting, key, token or database
URL can leak through it. The limits are set in the child before it runs any of its code.
"""

from __future__ import annotations

import os
import pwd
import resource
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mesocosm_server.settings import ServerSettings


@dataclass(frozen=True)
class Sandbox:
    """Who an adapter runs as and what it may use."""

    uid: int | None  # None: this process's own user (the server does not run as root)
    gid: int | None
    memory_bytes: int
    max_processes: int
    max_open_files: int

    @classmethod
    def from_settings(cls, settings: ServerSettings) -> Sandbox:
        uid = gid = None
        if os.geteuid() == 0:
            try:
                account = pwd.getpwnam(settings.devenv_user)
            except KeyError as exc:
                raise LookupError(
                    f"the sandbox user '{settings.devenv_user}' does not exist; create it or "
                    "set MESOCOSM_SERVER_DEVENV_USER to an unprivileged account") from exc
            if account.pw_uid == 0:
                raise LookupError(f"the sandbox user '{settings.devenv_user}' is root; set "
                                  "MESOCOSM_SERVER_DEVENV_USER to an unprivileged account")
            uid, gid = account.pw_uid, account.pw_gid
        return cls(uid=uid, gid=gid, memory_bytes=settings.devenv_memory_mb * 1024 * 1024,
                   max_processes=settings.devenv_max_processes,
                   max_open_files=settings.devenv_max_open_files)

    def environment(self, venv: Path, home: Path) -> dict[str, str]:
        """The adapter's whole environment: nothing is inherited from the server."""
        return {
            "PATH": f"{venv / 'bin'}:/usr/local/bin:/usr/bin:/bin",
            "VIRTUAL_ENV": str(venv),
            "HOME": str(home),
            "TMPDIR": str(home),
            "LANG": "C.UTF-8",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONNOUSERSITE": "1",
        }

    def preexec(self) -> Callable[[], None]:
        """Run in the child between fork and exec: limits first, then drop privileges."""
        limits = [(resource.RLIMIT_AS, self.memory_bytes),
                  (resource.RLIMIT_NOFILE, self.max_open_files),
                  (resource.RLIMIT_CORE, 0)]
        uid, gid = self.uid, self.gid
        if uid is not None:  # counted per user: only the sandbox user's own count is ours
            limits.append((resource.RLIMIT_NPROC, self.max_processes))

        def setup() -> None:
            for which, value in limits:
                resource.setrlimit(which, (value, value))
            if uid is not None and gid is not None:
                os.setgroups([])
                os.setgid(gid)
                os.setuid(uid)
            os.umask(0o077)

        return setup

    def give(self, path: Path) -> None:
        """Make ``path`` (a folder the adapter writes: its home) the sandbox user's."""
        path.mkdir(parents=True, exist_ok=True)
        if self.uid is not None and self.gid is not None:
            os.chown(path, self.uid, self.gid)
        path.chmod(0o700)
