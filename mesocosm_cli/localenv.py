"""Find the local environment: its manifest, and whether an adapter already answers.

Older scaffolds kept ``benchanything.json`` in ``auxiliary/`` or ``files/`` (the hosted
platform looks there too), so the default search covers those folders.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from pytest_mesocosm.errors import ManifestError

MANIFEST_NAME = "benchanything.json"
SEARCH_DIRS = (".", "auxiliary", "files")


def find_manifest(path: Path | None = None, *, cwd: Path | None = None) -> Path:
    """The manifest to use: ``path`` (a file, or a folder searched like the default), else
    ``./benchanything.json``, ``./auxiliary/...``, ``./files/...``; ManifestError if none."""
    if path is not None and not path.is_dir():
        if not path.exists():
            raise ManifestError(
                f"{path}: no such file; pass --manifest the path of a {MANIFEST_NAME} "
                "or of the folder holding it",
                path=str(path),
            )
        return path
    base = path if path is not None else (cwd or Path.cwd())
    for folder in SEARCH_DIRS:
        candidate = base / folder / MANIFEST_NAME
        if candidate.is_file():
            return candidate
    looked = ", ".join(f"{d}/" for d in SEARCH_DIRS)
    raise ManifestError(
        f"no {MANIFEST_NAME} in {base.resolve()} (looked in {looked}); run `mesocosm init` "
        "to scaffold one, or pass --manifest PATH",
        path=str(base / MANIFEST_NAME),
    )


def adapter_health(url: str, *, timeout: float = 2.0) -> dict[str, Any]:
    """``GET {url}/health`` through the engine's client; raises AdapterError if it fails."""
    from pytest_mesocosm.adapter import AdapterClient

    async def probe() -> dict[str, Any]:
        async with AdapterClient(url, timeout=timeout) as client:
            return await client.health()

    return asyncio.run(probe())


def probe_adapter(
    url: str, *, timeout: float = 2.0, setting: str = "--env-url"
) -> dict[str, Any] | None:
    """The health of the adapter at ``url``, or None when nothing listens there.

    Something that answers but is not an adapter (a 404 for ``/health``, a body that is
    not the health object) raises AdapterError: starting another adapter beside it would
    hide a misconfiguration, so the user is told to free the port or fix ``setting``.
    """
    from pytest_mesocosm.errors import AdapterError, AdapterUnreachable, EnvError

    try:
        return adapter_health(url, timeout=timeout)
    except AdapterUnreachable:
        return None
    except EnvError as exc:
        answer = f"answered {exc.status}" if exc.status != 200 else "answered 200 with no health"
        raise AdapterError(
            f"{url} is taken by something that is not an env adapter (GET /health {answer}); "
            f"stop it, or point {setting} at your adapter or a free port"
        ) from exc
