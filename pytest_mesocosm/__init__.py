"""pytest-mesocosm: benchmark LLM-agent environments with pytest, a CLI and a bench server.

The names below are the public API. They are loaded on first use: pytest imports this
package for every run once the plugin is installed, and a plain test run must not pay
for pydantic, aiohttp or FastAPI.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from pytest_mesocosm.__about__ import __version__

if TYPE_CHECKING:
    from pytest_mesocosm.adapter import AdapterClient, AdapterProcess
    from pytest_mesocosm.adapter.conformance import check_adapter
    from pytest_mesocosm.agents import make_agent
    from pytest_mesocosm.engine.config import AgentOptions, BenchConfig, EpisodeLimits
    from pytest_mesocosm.engine.episode import EpisodeSpec, run_episode
    from pytest_mesocosm.engine.export import export_run
    from pytest_mesocosm.engine.outcomes import EpisodeResult, EpisodeStatus
    from pytest_mesocosm.engine.session import BenchRun, BenchSession, arun_bench, run_bench
    from pytest_mesocosm.engine.traces import RunFolder, TraceWriter
    from pytest_mesocosm.errors import MesocosmError
    from pytest_mesocosm.manifest.models import Manifest, load_manifest, validate_payload
    from pytest_mesocosm.scoring.gate import evaluate_gate, parse_threshold
    from pytest_mesocosm.scoring.metrics import RunMetrics, score_run
    from pytest_mesocosm.sdk import BaseEnv, InvalidAction, StepResult, create_app, serve

_HOMES = {
    "AdapterClient": "adapter",
    "AdapterProcess": "adapter",
    "AgentOptions": "engine.config",
    "BaseEnv": "sdk",
    "BenchConfig": "engine.config",
    "BenchRun": "engine.session",
    "BenchSession": "engine.session",
    "EpisodeLimits": "engine.config",
    "EpisodeResult": "engine.outcomes",
    "EpisodeSpec": "engine.episode",
    "EpisodeStatus": "engine.outcomes",
    "InvalidAction": "sdk",
    "Manifest": "manifest.models",
    "MesocosmError": "errors",
    "RunFolder": "engine.traces",
    "RunMetrics": "scoring.metrics",
    "StepResult": "sdk",
    "TraceWriter": "engine.traces",
    "arun_bench": "engine.session",
    "check_adapter": "adapter.conformance",
    "create_app": "sdk",
    "evaluate_gate": "scoring.gate",
    "export_run": "engine.export",
    "load_manifest": "manifest.models",
    "make_agent": "agents",
    "parse_threshold": "scoring.gate",
    "run_bench": "engine.session",
    "run_episode": "engine.episode",
    "score_run": "scoring.metrics",
    "serve": "sdk",
    "validate_payload": "manifest.models",
}

__all__ = [
    "AdapterClient",
    "AdapterProcess",
    "AgentOptions",
    "BaseEnv",
    "BenchConfig",
    "BenchRun",
    "BenchSession",
    "EpisodeLimits",
    "EpisodeResult",
    "EpisodeSpec",
    "EpisodeStatus",
    "InvalidAction",
    "Manifest",
    "MesocosmError",
    "RunFolder",
    "RunMetrics",
    "StepResult",
    "TraceWriter",
    "__version__",
    "arun_bench",
    "check_adapter",
    "create_app",
    "evaluate_gate",
    "export_run",
    "load_manifest",
    "make_agent",
    "parse_threshold",
    "run_bench",
    "run_episode",
    "score_run",
    "serve",
    "validate_payload",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'pytest_mesocosm' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"pytest_mesocosm.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
