"""The self-contained HTML run report and its replay viewer.

``source`` reads a run folder or an export, ``replay`` builds the turn-by-turn data,
``model`` the rest of the view, ``render`` writes the one HTML file.
"""

from __future__ import annotations

from pytest_mesocosm.report.render import render_report, write_report
from pytest_mesocosm.report.source import RunSource, load_source

__all__ = ["RunSource", "load_source", "render_report", "write_report"]
