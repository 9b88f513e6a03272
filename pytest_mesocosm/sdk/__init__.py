"""The environment author's SDK: write a :class:`BaseEnv`, serve it with :func:`serve`.

``env.py`` subclasses :class:`BaseEnv` and returns :class:`StepResult`; ``adapter.py``
calls :func:`serve` after parsing ``--host``/``--port``. The HTTP contract is the hosted
platform's, so envs move between its SDK and this one by changing the import line.

``create_app`` and ``serve`` are imported on first use: they pull in FastAPI, which
``import pytest_mesocosm`` (and so every pytest run with the plugin installed) must not.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pytest_mesocosm.sdk.env import BaseEnv, InvalidAction, StepResult

if TYPE_CHECKING:
    from pytest_mesocosm.sdk.server import create_app, serve

__all__ = ["BaseEnv", "InvalidAction", "StepResult", "create_app", "serve"]


def __getattr__(name: str) -> Any:
    if name in ("create_app", "serve"):
        from pytest_mesocosm.sdk import server

        return getattr(server, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
