"""Print the engine's notices (a slow or failing model) on pytest's terminal, as they come.

Episodes run inside test setup, where pytest captures output and logging; a user whose
model hangs must see why the run is waiting, so the ``pytest_mesocosm.model`` logger
writes to the terminal reporter directly (on xdist workers there is none: nothing shown).
"""

from __future__ import annotations

import logging

import pytest

MODEL_LOGGER = "pytest_mesocosm.model"


class _TerminalHandler(logging.Handler):
    def __init__(self, reporter: pytest.TerminalReporter):
        super().__init__(logging.WARNING)
        self.reporter = reporter

    def emit(self, record: logging.LogRecord) -> None:
        self.reporter.write_line(f"mesocosm: {record.getMessage()}", yellow=True)


def show_notices(config: pytest.Config) -> None:
    """Attach the terminal handler for this session; detached when pytest unconfigures."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        return
    logger = logging.getLogger(MODEL_LOGGER)
    handler = _TerminalHandler(reporter)
    logger.addHandler(handler)
    config.add_cleanup(lambda: logger.removeHandler(handler))
