"""``script:path/to/policy.py:function``: a Python function plays, for baselines and tests.

The function is called as ``function(observation, context)`` (``context`` is the
:class:`~pytest_mesocosm.agents.base.AgentContext`: step, history, the feedback on a
rejected answer...) and returns the action; it may be ``async``. It may also return an
:class:`~pytest_mesocosm.agents.base.AgentReply` to control everything the loop records
(a parse error, token counts). A sync function runs on the event loop, so it should be
quick. A script is deterministic when its function is: same seed, same trace.

Mistakes in the file (missing, not importable, no such function) are
``AgentConfigError`` at construction; an exception raised while playing is a bug in the
policy and becomes ``ModelError`` with the policy's own message.
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import json
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from pytest_mesocosm.agents.base import AgentContext, AgentReply
from pytest_mesocosm.errors import AgentConfigError, ModelError


class ScriptAgent:
    """Plays with ``function`` from the Python file at ``path``."""

    def __init__(self, path: Path, function: str):
        self.name = f"script:{path}:{function}"
        self.path = path
        self.function_name = function
        module = _load(path, self.name)
        policy = getattr(module, function, None)
        if not callable(policy):
            found = sorted(
                n for n, v in vars(module).items()
                if inspect.isfunction(v) and v.__module__ == module.__name__
            )
            hint = f"; it defines: {', '.join(found)}" if found else ""
            raise AgentConfigError(f"{self.name}: {path.name} has no function {function!r}{hint}")
        try:
            inspect.signature(policy).bind(None, None)
        except TypeError as exc:
            raise AgentConfigError(
                f"{self.name}: {function}() must accept (observation, context)"
            ) from exc
        except ValueError:  # builtins without a signature: let the call decide
            pass
        self.policy: Callable[[Any, AgentContext], Any] = policy

    async def act(self, ctx: AgentContext) -> AgentReply:
        started = time.perf_counter()
        try:
            result = self.policy(ctx.observation, ctx)
            if inspect.isawaitable(result):
                result = await result
        except Exception as exc:  # the policy's bug, reported as the model failing
            raise ModelError(
                f"policy {self.name} raised {type(exc).__name__}: {exc}"
            ) from exc
        if isinstance(result, AgentReply):
            return result
        raw = result if isinstance(result, str) else json.dumps(result, default=str)
        return AgentReply(action=result, raw_text=raw, latency=time.perf_counter() - started)

    async def preflight(self) -> None:
        """Nothing to check beyond what construction did."""

    async def aclose(self) -> None:
        """Nothing to release."""


def _load(path: Path, label: str) -> ModuleType:
    """Import the file as its own module; a failure names the line that raised."""
    digest = hashlib.sha1(str(path).encode()).hexdigest()[:10]
    name = f"mesocosm_policy_{path.stem}_{digest}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise AgentConfigError(f"{label}: {path} cannot be imported as Python (is it a .py file?)")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    folder = str(path.parent)
    sys.path.insert(0, folder)  # sibling imports work as with `python policy.py`
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[name]
        said = exc.msg if isinstance(exc, SyntaxError) else str(exc)
        raise AgentConfigError(
            f"{label}: importing {path.name} failed{_where(exc, path)}: "
            f"{type(exc).__name__}: {said}"
        ) from exc
    finally:
        sys.path.remove(folder)
    return module


def _where(exc: BaseException, path: Path) -> str:
    """`` at line N`` of ``path`` where ``exc`` was raised, when it was raised there."""
    if isinstance(exc, SyntaxError) and exc.lineno:
        return f" at line {exc.lineno}"
    lines = [f.lineno for f in traceback.extract_tb(exc.__traceback__)
             if Path(f.filename) == path]
    return f" at line {lines[-1]}" if lines else ""
