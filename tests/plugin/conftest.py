"""Fixtures shared by the plugin's tests (helpers live in plugin_support.py)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _no_ci_summary(monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs under GitHub Actions must not write into the real job summary."""
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
