"""``--mesocosm-only``: bench the manifests of a repo whose own tests cannot be imported here.

Env repos built from the hosted template ship tests that import the hosted SDK, which the
interpreter running pytest usually lacks (the adapter runs under ``--mesocosm-python``).
Their import errors abort the whole session before any episode; this option skips every
file but ``benchanything.json``, and the import errors say to use it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

FLAG = "--mesocosm-only"


class ManifestsOnly:
    """Skips non-manifest files when asked; otherwise names the flag after import errors."""

    def __init__(self, only: bool):
        self.only = only
        self.broken: list[str] = []

    @pytest.hookimpl(tryfirst=True)
    def pytest_ignore_collect(self, collection_path: Path) -> bool | None:
        if not self.only:
            return None
        # imported here, not at the top: the xdist controller registers this plugin too
        from pytest_mesocosm.manifest.models import MANIFEST_NAME

        if collection_path.is_file() and collection_path.name != MANIFEST_NAME:
            return True
        return None

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if not report.failed:
            return
        from pytest_mesocosm.manifest.models import MANIFEST_NAME

        if not report.nodeid.endswith(MANIFEST_NAME):
            self.broken.append(report.nodeid)

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if self.broken:
            files = ", ".join(self.broken)
            terminalreporter.write_line(
                f"mesocosm: the repo's own tests failed to import ({files}); to bench only "
                f"the manifests, run: pytest --mesocosm {FLAG}", red=True, bold=True,
            )
