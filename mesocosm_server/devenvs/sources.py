"""Where a developer environment's code comes from: the submitted URL, checked and cloned.

URLs are normalised as the hosted service does (PLATFORM_API.md 4.4) so duplicates are
found the same way; only ``https://github.com/<owner>/<repo>`` is cloned, unless the
server runs with ``--allow-local-endpoints``, which also admits ``file://`` URLs and local
paths (their case is kept: file systems are case-sensitive).
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

from mesocosm_server.devenvs.steps import StepFailed, run_step

GITHUB = re.compile(r"^https://github\.com/[a-z0-9][a-z0-9-]{0,38}/[a-z0-9._-]{1,100}$")
LOCAL_ONLY = ("file://", "/", "./", "../", "~")


def is_local(url: str) -> bool:
    return url.startswith(LOCAL_ONLY)


def normalize(url: str) -> str:
    """The hosted normalisation (trim, no trailing ``/`` or ``.git``, https, lower case);
    local URLs and paths are only trimmed."""
    url = url.strip()
    if is_local(url):
        return url.rstrip("/") or "/"
    url = url.rstrip("/")
    if url.endswith(".git"):
        url = url[: -len(".git")]
    if url.startswith("http://"):
        url = "https://" + url[len("http://"):]
    elif "://" not in url:
        url = "https://" + url
    return url.lower()


def clone_source(url: str, *, allow_local: bool) -> str:
    """What ``git clone`` is given, or :class:`StepFailed` saying why the URL is refused."""
    if is_local(url):
        if not allow_local:
            raise StepFailed(
                f"Repository URL '{url}' is local: file:// URLs and local paths are accepted "
                "only by a server started with --allow-local-endpoints")
        path = Path(unquote(urlsplit(url).path) if url.startswith("file://") else url)
        path = path.expanduser().resolve()
        if not path.is_dir():
            raise StepFailed(f"Repository path '{path}' is not a folder")
        return path.as_uri()  # file:// so --depth applies
    if not GITHUB.match(url):
        raise StepFailed(f"Repository URL '{url}' is not accepted: submit "
                         "https://github.com/<owner>/<repo>")
    return url


def clone(url: str, dest: Path, *, allow_local: bool, timeout: float) -> None:
    """A shallow clone of the default branch into ``dest`` (which must not exist)."""
    source = clone_source(url, allow_local=allow_local)
    env = {"GIT_TERMINAL_PROMPT": "0", "PATH": "/usr/local/bin:/usr/bin:/bin",
           "HOME": str(dest.parent), "GIT_CONFIG_NOSYSTEM": "1"}
    try:
        run_step(["git", "clone", "--depth=1", "--quiet", "--no-tags", "--", source, str(dest)],
                 what="Clone", timeout=timeout, env=env)
    except FileNotFoundError as exc:
        raise StepFailed("Clone failed: git is not installed on the server") from exc
