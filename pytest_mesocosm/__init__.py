"""pytest-mesocosm: benchmark LLM-agent environments with pytest, a CLI and a bench server.

The names below are the public API. They are loaded on first use: pytest imports this
package for every run once the plugin is installed, and a plain test run must not pay
for pydantic, aiohttp or FastAPI.

The front ends (the plugin, the CLI, the server) use these names, plus the internal seam
listed in :data:`FRONT_END_SEAM`: modules whose helpers only a front end needs (option
defaults, the metrics table, per-episode scores for progress lines). Nothing else of the
engine is imported by them; a test walks their imports to keep it so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pytest_mesocosm.__about__ import __version__
from pytest_mesocosm.lazy import lazy_exports

if TYPE_CHECKING:
    from pytest_mesocosm.adapter import AdapterClient, AdapterProcess
    from pytest_mesocosm.adapter.conformance import check_adapter
    from pytest_mesocosm.adapter.connect import AdapterLease, adapter_for
    from pytest_mesocosm.agents import make_agent
    from pytest_mesocosm.engine.config import (
        AgentOptions,
        BenchConfig,
        EpisodeLimits,
        GateOptions,
        build_config,
    )
    from pytest_mesocosm.engine.episode import EpisodeSpec, run_episode
    from pytest_mesocosm.engine.export import export_run
    from pytest_mesocosm.engine.outcomes import EpisodeResult, EpisodeStatus
    from pytest_mesocosm.engine.session import BenchRun, BenchSession, arun_bench, run_bench
    from pytest_mesocosm.engine.traces import RunFolder, TraceWriter
    from pytest_mesocosm.errors import MesocosmError
    from pytest_mesocosm.manifest.models import Manifest, load_manifest, validate_payload
    from pytest_mesocosm.scoring.gate import evaluate_gate, parse_threshold
    from pytest_mesocosm.scoring.judge import Verdict, judge
    from pytest_mesocosm.scoring.metrics import RunMetrics, score_run
    from pytest_mesocosm.sdk import BaseEnv, InvalidAction, StepResult, create_app, serve

FRONT_END_SEAM = (
    "pytest_mesocosm.agents.cassette",  # `mesocosm cache` manages the recorded model calls
    "pytest_mesocosm.engine.config",  # defaults shown in help texts, build_config
    "pytest_mesocosm.engine.outcomes",  # EpisodeStatus/EpisodeResult for items and reports
    "pytest_mesocosm.engine.session",  # EpisodeRequest, plan_episodes for test items
    "pytest_mesocosm.engine.executors",  # open_session: the executor the user chose
    "pytest_mesocosm.engine.traces",  # run folders and traces the plugin names
    "pytest_mesocosm.engine.loop",  # one event loop closed the same way everywhere
    "pytest_mesocosm.errors",  # the exception tree front ends map to exit codes
    "pytest_mesocosm.manifest.models",  # MANIFEST_NAME, load_manifest
    "pytest_mesocosm.manifest.name",  # MANIFEST_NAME without pydantic, to find one early
    "pytest_mesocosm.adapter.ahead",  # the adapter spawned before the engine is imported
    "pytest_mesocosm.adapter.conformance",  # the contract rules as test items
    "pytest_mesocosm.adapter.connect",  # adapter_for
    "pytest_mesocosm.scoring.gate",  # threshold syntax checks at option time
    "pytest_mesocosm.scoring.decide",  # the inconclusive modes and their exit code
    "pytest_mesocosm.engine.until_decided",  # --until-decided: batches and looks
    "pytest_mesocosm.scoring.sequential",  # the sequential rule's look, judged with a run
    "pytest_mesocosm.engine.resume",  # run local --resume
    "pytest_mesocosm.golden.check",  # mesocosm golden record|check
    "pytest_mesocosm.golden.store",  # where golden files live
    "pytest_mesocosm.scoring.judge",  # judge(), Verdict, the threshold merge
    "pytest_mesocosm.scoring.metrics",  # per-episode scores for progress lines
    "pytest_mesocosm.scoring.table",  # the metrics table both front ends print
    "pytest_mesocosm.report.render",  # write_report: the HTML report both front ends write
    "pytest_mesocosm.agents.waiting",  # notices of a slow or failing model, shown as they come
)

_HOMES = {
    "AdapterClient": "adapter",
    "AdapterLease": "adapter.connect",
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
    "GateOptions": "engine.config",
    "InvalidAction": "sdk",
    "Manifest": "manifest.models",
    "MesocosmError": "errors",
    "RunFolder": "engine.traces",
    "RunMetrics": "scoring.metrics",
    "StepResult": "sdk",
    "TraceWriter": "engine.traces",
    "Verdict": "scoring.judge",
    "adapter_for": "adapter.connect",
    "arun_bench": "engine.session",
    "build_config": "engine.config",
    "check_adapter": "adapter.conformance",
    "create_app": "sdk",
    "evaluate_gate": "scoring.gate",
    "export_run": "engine.export",
    "judge": "scoring.judge",
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
    "AdapterLease",
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
    "GateOptions",
    "InvalidAction",
    "Manifest",
    "MesocosmError",
    "RunFolder",
    "RunMetrics",
    "StepResult",
    "TraceWriter",
    "Verdict",
    "__version__",
    "adapter_for",
    "arun_bench",
    "build_config",
    "check_adapter",
    "create_app",
    "evaluate_gate",
    "export_run",
    "judge",
    "load_manifest",
    "make_agent",
    "parse_threshold",
    "run_bench",
    "run_episode",
    "score_run",
    "serve",
    "validate_payload",
]


__getattr__, __dir__ = lazy_exports(__name__, _HOMES, __all__)
