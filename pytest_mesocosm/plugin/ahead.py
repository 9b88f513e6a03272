"""Spawn the first manifest's adapter as pytest configures, before the engine is imported.

The adapter takes about as long to boot as this process takes to import the engine and
collect, so starting it first lets the two overlap. The manifest is found and read
the cheap way (the paths pytest was given, plain JSON): a guess that turns out wrong
costs only an adapter that nothing adopts, stopped as the session ends
(:mod:`pytest_mesocosm.adapter.ahead`). This module imports neither the engine nor pydantic.
"""

from __future__ import annotations

import fnmatch
from pathlib import Path

import pytest

from pytest_mesocosm.adapter.ahead import adapter_named_in, spawn_ahead
from pytest_mesocosm.manifest.name import MANIFEST_NAME
from pytest_mesocosm.plugin import distributed_by_load
from pytest_mesocosm.plugin.options import Settings


def spawn_first_adapter(config: pytest.Config, settings: Settings) -> None:
    """Spawn the adapter the first episode item will ask for, when the run starts one."""
    bench = settings.config
    if (bench.env_url or bench.executor.kind != "asyncio" or settings.resume_id is not None
            or config.getoption("collectonly")):
        return
    if hasattr(config, "workerinput") and not distributed_by_load(config):
        return  # this worker starts a session only once it is sent an episode
    adapter = _first_adapter(config)
    if adapter is not None:
        spawn_ahead(adapter, python=bench.python, log_dir=bench.runs_dir)


def _first_adapter(config: pytest.Config) -> Path | None:
    """The adapter file of the first manifest among pytest's path arguments or the
    folders right inside them (in pytest's order)."""
    here = config.invocation_params.dir
    skip = config.getini("norecursedirs")
    for arg in config.args:
        path = here / arg.split("::")[0]
        if path.name == MANIFEST_NAME:
            candidates = [path]
        elif path.is_dir():
            inside = [p for p in sorted(path.iterdir()) if p.is_dir()
                      and not any(fnmatch.fnmatch(p.name, pattern) for pattern in skip)]
            candidates = [path / MANIFEST_NAME, *(p / MANIFEST_NAME for p in inside)]
        else:
            continue
        for manifest in candidates:
            adapter = adapter_named_in(manifest)
            if adapter is not None:
                return adapter
    return None
