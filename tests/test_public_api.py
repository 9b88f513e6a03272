"""The public API: every name in __all__ resolves, and importing the package stays light."""

from __future__ import annotations

import subprocess
import sys

import pytest

import pytest_mesocosm


@pytest.mark.parametrize("name", pytest_mesocosm.__all__)
def test_every_exported_name_resolves(name: str) -> None:
    assert getattr(pytest_mesocosm, name) is not None


def test_exports_are_the_documented_set() -> None:
    assert set(pytest_mesocosm.__all__) >= {
        "BaseEnv", "StepResult", "InvalidAction", "serve", "load_manifest",
        "run_episode", "run_bench", "score_run", "export_run", "check_adapter",
    }
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
