"""``adapter_for()``: the one home of "use the adapter at this URL, or start the manifest's".

Every front end reaches the env through here (the bench session, the plugin's contract
checks, ``mesocosm doctor``, ``mesocosm run local``), so the probe, the fallback and
the check that a running adapter serves this manifest's env are written once.
"""

from __future__ import annotations

import ast
import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_mesocosm.adapter import AdapterClient, AdapterProcess
from pytest_mesocosm.adapter.ahead import adopt, stop_ahead
from pytest_mesocosm.engine.config import BenchConfig
from pytest_mesocosm.errors import AdapterError, AdapterStartError, AdapterUnreachable, EnvError
from pytest_mesocosm.manifest.models import Manifest

PROBE_SECONDS = 2.0


@dataclass
class AdapterLease:
    """Where the env answers for this run, and whether the harness started it."""

    url: str
    started: bool
    health: dict[str, Any] = field(default_factory=dict)
    fallback_from: str | None = None  # the URL where nothing answered before starting one
    process: AdapterProcess | None = field(default=None, repr=False, compare=False)

    def describe(self, manifest: Manifest) -> str:
        """The one line that says which adapter the run uses."""
        if not self.started:
            return f"using the adapter at {self.url} (env {self.health.get('env', '?')})"
        before = f"no adapter answers at {self.fallback_from}; " if self.fallback_from else ""
        return f"{before}started the manifest's adapter {manifest.adapter} at {self.url}"


def served_class(adapter: Path) -> str | None:
    """The env class ``adapter.py`` passes to ``serve()`` (or hosts in an app), read
    statically; None when the file does not say it plainly."""
    try:
        tree = ast.parse(adapter.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return None
    aliases = {
        alias.asname: alias.name
        for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
        for alias in node.names if alias.asname
    }
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and node.args):
            continue
        callee = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(
            node.func, "id", None)
        if callee in ("serve", "create_app"):
            first = node.args[0]
            name = first.id if isinstance(first, ast.Name) else getattr(first, "attr", None)
            if name:
                return aliases.get(name, name)
    return None


async def probe(
    url: str, *, timeout: float = PROBE_SECONDS, setting: str = "the env URL"
) -> dict[str, Any] | None:
    """The health of the adapter at ``url``, or None when nothing listens there.

    Something that answers but is not an adapter raises AdapterError: starting another
    adapter beside it would hide a misconfiguration.
    """
    try:
        async with AdapterClient(url, timeout=timeout) as client:
            return await client.health()
    except AdapterUnreachable:
        return None
    except EnvError as exc:
        answer = f"answered {exc.status}" if exc.status != 200 else "answered 200 with no health"
        raise AdapterError(
            f"{url} is taken by something that is not an env adapter (GET /health {answer}); "
            f"stop it, or point {setting} at your adapter or a free port"
        ) from exc


def check_same_env(manifest: Manifest, url: str, health: dict[str, Any]) -> None:
    """Refuse an adapter that serves another env than the manifest's ``adapter.py``."""
    expected = served_class(manifest.adapter_path)
    found = health.get("env")
    if expected and isinstance(found, str) and found and found != expected:
        raise AdapterError(
            f"the adapter at {url} serves {found}, but {manifest.adapter} of {manifest.name} "
            f"serves {expected}; stop it, or point the env URL at this env's adapter"
        )


@asynccontextmanager
async def adapter_for(
    manifest: Manifest, config: BenchConfig, *, log_path: Path, setting: str = "the env URL"
) -> AsyncIterator[AdapterLease]:
    """Yield the adapter this run talks to; a started one is stopped on leaving.

    ``config.env_url`` must answer, unless ``config.start_if_absent`` (then it is only
    where to look first); ``setting`` names where the URL came from, for messages.
    Without a URL, the manifest's adapter is started with ``config.python``, its output
    in ``log_path`` (or the one spawned ahead for it is adopted: :mod:`.ahead`).
    """
    fallback = None
    if config.env_url:
        health = await probe(config.env_url, setting=setting)
        if health is not None:
            await asyncio.to_thread(stop_ahead, manifest.adapter_path, python=config.python)
            check_same_env(manifest, config.env_url, health)
            yield AdapterLease(config.env_url, started=False, health=health)
            return
        if not config.start_if_absent:
            raise AdapterUnreachable(
                f"nothing answers at {config.env_url}; start the adapter there "
                f"(python {manifest.adapter} --port N) or leave the env URL out to have it "
                "started for the run"
            )
        fallback = config.env_url
    process = adopt(manifest.adapter_path, python=config.python, log_path=log_path) or \
        AdapterProcess(manifest.adapter_path, python=config.python, log_path=log_path)
    try:
        try:
            await asyncio.to_thread(process.start)
        except AdapterStartError as exc:
            if fallback is None:
                raise
            raise AdapterStartError(
                f"nothing answers at {fallback} and the manifest's adapter did not start: {exc}"
            ) from exc
        yield AdapterLease(process.url, started=True, fallback_from=fallback, process=process)
    finally:
        await asyncio.to_thread(process.stop)
