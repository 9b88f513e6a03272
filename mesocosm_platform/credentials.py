"""The saved session: the credentials file the hosted CLI uses, and which token to send.

The file is ``~/.config/swecc/bench_credentials.json`` (``SWECC_BENCH_CREDENTIALS``
overrides it), a JSON object with ``mode`` (``member`` | ``guest``), ``token``,
``server_url``, ``bench_url`` and optionally ``active_team_id``. Keys this version does
not know are kept when the file is rewritten, so a newer CLI's data survives an older one.
It holds a bearer token, so it is written ``0600`` and atomically (temp file in the same
folder, then ``os.replace``): a crash never leaves half a file or a readable copy behind.

Tokens from the environment beat the file, for CI: ``SWECC_BENCH_GUEST_TOKEN`` (forces
guest mode), then ``SWECC_BENCH_TOKEN`` (member). ``BENCH_AUTH_DISABLED`` (local bench-api
development only) sends an empty bearer. No click here: the platform client uses it too.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from mesocosm_platform.urls import is_truthy
from pytest_mesocosm.errors import PlatformError

DEFAULT_PATH = "~/.config/swecc/bench_credentials.json"
PATH_VAR = "SWECC_BENCH_CREDENTIALS"
TOKEN_VAR = "SWECC_BENCH_TOKEN"
GUEST_TOKEN_VAR = "SWECC_BENCH_GUEST_TOKEN"
AUTH_DISABLED_VAR = "BENCH_AUTH_DISABLED"
MODES = ("member", "guest")


class CredentialsError(PlatformError):
    """The credentials file cannot be read or written (a local problem, not the API's)."""


@dataclass
class Credentials:
    """The file's content; ``extra`` holds keys this version does not know."""

    mode: str | None = None
    token: str | None = None
    server_url: str | None = None
    bench_url: str | None = None
    active_team_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Credentials:
        known = {f.name for f in fields(cls)} - {"extra"}
        values = {k: (None if v is None else str(v)) for k, v in data.items() if k in known}
        return cls(**values, extra={k: v for k, v in data.items() if k not in known})

    def to_dict(self) -> dict[str, Any]:
        data = dict(self.extra)
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name != "extra" and value is not None:
                data[f.name] = value
        return data


@dataclass(frozen=True)
class Auth:
    """Which bearer token to send and why; ``mode`` is None when there is none."""

    mode: str | None
    token: str | None
    source: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token is not None else {}


def credentials_path(env: Mapping[str, str]) -> Path:
    """``SWECC_BENCH_CREDENTIALS`` or the default; ``~`` is the ``HOME`` of ``env``."""
    raw = env.get(PATH_VAR, "").strip() or DEFAULT_PATH
    if raw == "~" or raw.startswith(("~/", "~" + os.sep)):
        home = env.get("HOME") or str(Path.home())
        return Path(home) / raw[2:]
    return Path(raw)


def _fix(path: Path) -> str:
    return f"fix or delete {path} (`mesocosm auth logout` deletes it), then log in again"


def load_credentials(path: Path) -> Credentials:
    """The saved credentials; an absent file means none (not an error)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return Credentials()
    except OSError as exc:
        raise CredentialsError(
            f"cannot read the credentials file {path}: {exc.strerror}; {_fix(path)}"
        ) from exc
    try:
        data = json.loads(raw)
    except ValueError as exc:  # JSONDecodeError, or bytes that are not UTF-8
        where = (
            f" (line {exc.lineno} column {exc.colno})"
            if isinstance(exc, json.JSONDecodeError) else ""
        )
        raise CredentialsError(
            f"the credentials file {path} is not valid JSON{where}; {_fix(path)}"
        ) from exc
    if not isinstance(data, dict):
        raise CredentialsError(
            f"the credentials file {path} holds {type(data).__name__}, not a JSON object; "
            f"{_fix(path)}"
        )
    return Credentials.from_dict(data)


def save_credentials(creds: Credentials, path: Path) -> None:
    """Write ``creds`` with mode 0600, atomically (temp file + ``os.replace``)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise CredentialsError(
            f"cannot write the credentials file {path}: {exc.strerror}; set {PATH_VAR} to a "
            "writable path"
        ) from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            os.chmod(tmp, 0o600)
            json.dump(creds.to_dict(), fh, indent=2, sort_keys=True)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise CredentialsError(f"cannot write the credentials file {path}: {exc.strerror}") from exc


def clear_credentials(path: Path) -> bool:
    """Delete the file; True if there was one."""
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise CredentialsError(
            f"cannot delete the credentials file {path}: {exc.strerror}"
        ) from exc
    return True


def resolve_auth(creds: Credentials, env: Mapping[str, str]) -> Auth:
    """The token to send: auth disabled, then the guest and member variables, then the file."""
    if is_truthy(env.get(AUTH_DISABLED_VAR)):
        return Auth("disabled", "", AUTH_DISABLED_VAR)
    guest = env.get(GUEST_TOKEN_VAR, "").strip()
    if guest:
        return Auth("guest", guest, GUEST_TOKEN_VAR)
    member = env.get(TOKEN_VAR, "").strip()
    if member:
        return Auth("member", member, TOKEN_VAR)
    if creds.token:
        return Auth(creds.mode if creds.mode in MODES else "member", creds.token, "credentials")
    return Auth(None, None, "none")
