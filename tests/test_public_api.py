"""The public API: exactly the documented names, each resolving, and a light import."""

from __future__ import annotations

import subprocess
import sys

import pytest

import pytest_mesocosm

DOCUMENTED = [
    "AdapterClient", "AdapterLease", "AdapterProcess", "AgentOptions", "BaseEnv",
    "BenchConfig", "BenchRun", "BenchSession", "EpisodeLimits", "EpisodeResult", "EpisodeSpec",
    "EpisodeStatus", "GateOptions", "InvalidAction", "Manifest", "MesocosmError", "RunFolder",
    "RunMetrics", "StepResult", "TraceWriter", "Verdict", "__version__", "adapter_for",
    "arun_bench", "build_config", "check_adapter", "create_app", "evaluate_gate", "export_run",
    "judge", "load_manifest", "make_agent", "parse_threshold", "run_bench", "run_episode",
    "score_run", "serve", "validate_payload",
]


@pytest.mark.parametrize("name", pytest_mesocosm.__all__)
def test_every_exported_name_resolves(name: str) -> None:
    assert getattr(pytest_mesocosm, name) is not None


def test_exports_are_exactly_the_documented_set() -> None:
    assert pytest_mesocosm.__all__ == DOCUMENTED
    assert dir(pytest_mesocosm) == DOCUMENTED
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        pytest_mesocosm.nope  # noqa: B018


def test_importing_the_package_imports_nothing_heavy() -> None:
    code = (
        "import sys, pytest_mesocosm; "
        "print(sorted(m for m in ('litellm', 'aiohttp', 'fastapi', 'pydantic', 'httpx') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
