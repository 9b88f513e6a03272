"""Print the engine's notices (a slow or failing model) on pytest's terminal, as they come.

Episodes run inside test setup, where pytest captures output and logging; a user whose
model hangs must see why the run is waiting, so notices go to the terminal reporter
with capture suspended, as pytest's live logging does (an xdist worker has no terminal:
nothing shown there).
"""

from __future__ import annotations

import pytest

from pytest_mesocosm.agents.waiting import listen


def show_notices(config: pytest.Config) -> None:
    """Print notices for this session; stops when pytest unconfigures."""

    def write(message: str) -> None:
        # looked up each time: the reporter registers after this plugin is configured
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        if reporter is None:
            return
        capture = config.pluginmanager.get_plugin("capturemanager")
        if capture is None:
            reporter.write_line(f"mesocosm: {message}", yellow=True)
            return
        with capture.global_and_fixture_disabled():  # episodes run while pytest captures
            reporter.write_line(f"mesocosm: {message}", yellow=True)

    config.add_cleanup(listen(write))
