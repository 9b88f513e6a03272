"""Adapters spawned before anything asks for them, so they boot while the caller starts.

A front end that knows early which adapter its run will need (the pytest plugin as
pytest configures, ``mesocosm run local`` as it parses its flags: both before the
engine's own imports) spawns it here;
:func:`~pytest_mesocosm.adapter.connect.adapter_for` then adopts it instead of spawning
one, if it is the same file run by the same interpreter with the same environment, so
the run sees exactly the adapter it would have started. :func:`stop_unclaimed` stops
what nobody adopted. This module imports no more than the process runner needs.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from pytest_mesocosm.adapter.process import AdapterProcess
from pytest_mesocosm.errors import AdapterStartError

_Key = tuple[Path, str]


@dataclass
class _Ahead:
    process: AdapterProcess
    environ: dict[str, str]  # the environment the child inherited
    made_dir: Path | None  # the log folder, if spawning it created it


_AHEAD: dict[_Key, _Ahead] = {}
# set by pytest around each test, so an adapter started at any moment may or may not
# inherit it: no reason to refuse one spawned before the first test
_PER_TEST = frozenset({"PYTEST_CURRENT_TEST"})


def _environ() -> dict[str, str]:
    return {name: value for name, value in os.environ.items() if name not in _PER_TEST}


def _key(adapter: Path, python: str | None) -> _Key:
    return adapter.resolve(), python or sys.executable


def adapter_named_in(manifest: Path) -> Path | None:
    """The adapter file a manifest names, read as plain JSON (no validation, no pydantic);
    None unless it is what validation accepts: a relative path inside its folder."""
    try:
        adapter = json.loads(manifest.read_text(encoding="utf-8")).get("adapter")
    except (OSError, ValueError, AttributeError):
        return None
    if not isinstance(adapter, str) or not adapter:
        return None
    relative = PurePosixPath(adapter)
    if relative.is_absolute() or ".." in relative.parts:
        return None
    return manifest.parent / adapter


def spawn_ahead(adapter: Path, *, python: str | None, log_dir: Path) -> AdapterProcess | None:
    """Spawn ``python adapter.py`` now, its log in ``log_dir`` until it is adopted.

    Returns the process, or None if that adapter is already waiting or cannot be
    spawned: the front end then starts it the usual way and says why it fails.
    """
    key = _key(adapter, python)
    if key in _AHEAD:
        return None
    made_dir = None if log_dir.is_dir() else log_dir
    log = log_dir / f".adapter-ahead-{os.getpid()}-{len(_AHEAD)}.log"
    process = AdapterProcess(adapter, python=python, log_path=log)
    try:
        process.spawn()
    except AdapterStartError:
        _discard(_Ahead(process, {}, made_dir))
        return None
    _AHEAD[key] = _Ahead(process, _environ(), made_dir)
    return process


def adopt(adapter: Path, *, python: str | None, log_path: Path) -> AdapterProcess | None:
    """The adapter spawned ahead for this file and interpreter, its log moved to
    ``log_path``; None if there is none, or it differs from what would start now."""
    ahead = _AHEAD.pop(_key(adapter, python), None)
    if ahead is None:
        return None
    if ahead.environ != _environ():
        _discard(ahead)
        return None
    try:
        ahead.process.move_log(log_path)
    except OSError:
        _discard(ahead)
        return None
    return ahead.process


def stop_ahead(adapter: Path, *, python: str | None) -> None:
    """Stop the adapter spawned ahead for this file, if any: the run uses another."""
    ahead = _AHEAD.pop(_key(adapter, python), None)
    if ahead is not None:
        _discard(ahead)


def stop_unclaimed() -> None:
    """Stop every adapter spawned ahead that nothing adopted, and remove its log."""
    while _AHEAD:
        _discard(_AHEAD.popitem()[1])


def _discard(ahead: _Ahead) -> None:
    ahead.process.stop()
    log = ahead.process.log_path
    with contextlib.suppress(OSError):  # never made (a file in the way): nothing to remove
        if log is not None:
            log.unlink(missing_ok=True)
        if ahead.made_dir is not None:
            ahead.made_dir.rmdir()  # unless something else wrote there meanwhile
