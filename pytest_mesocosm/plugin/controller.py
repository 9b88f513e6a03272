"""The reporting plugin object: registered only where the user reads the summary.

Alone that is the one pytest process; under ``-n`` it is the xdist controller, which
plays no episode itself. It hands workers the run id, receives every episode's result
on its test report, judges each manifest once at the end and prints the summary.
"""

from __future__ import annotations

import gc
import importlib
import threading
from collections.abc import Generator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pytest_mesocosm.errors import MesocosmError
from pytest_mesocosm.plugin import DIST_KEY, REPORT_KEY, RUN_ID_KEY
from pytest_mesocosm.plugin.options import Settings

if TYPE_CHECKING:
    from pytest_mesocosm.manifest.models import Manifest
    from pytest_mesocosm.plugin.report import Aggregator, Judged, JudgeInput

_REPORT_MODULE = "pytest_mesocosm.plugin.report"


class ReportingPlugin:
    """Gathers results, judges them once, sets the exit status, writes the summary."""

    def __init__(self, config: pytest.Config, settings: Settings, *, run_id: str):
        self.config = config
        self.settings = settings
        self.run_id = run_id
        self.aggregator: Aggregator | None = None  # made with the first result
        self.judged: list[Judged] = []
        self.problems: list[str] = []
        self.html_path: Path | None = None

    @pytest.hookimpl(wrapper=True)
    def pytest_sessionstart(self, session: pytest.Session) -> Generator[None, None, None]:
        """Once xdist has spawned its workers, import the judge in the background: while
        they start up and play, not when the first result arrives and workers wait."""
        yield
        if self.aggregator is None:
            threading.Thread(target=importlib.import_module, args=(_REPORT_MODULE,),
                             name="mesocosm-import", daemon=True).start()

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        """xdist controller: hand every worker the same run id, and how items are dealt."""
        node.workerinput[RUN_ID_KEY] = self.run_id
        node.workerinput[DIST_KEY] = self.config.getoption("dist")

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_make_scheduler(self, config: pytest.Config, log: Any) -> Any:
        """Under ``-n`` with parallel episodes, keep that many items queued per worker."""
        if self.settings.platform is not None:  # one platform run per manifest: one worker
            from xdist.scheduler import LoadFileScheduling  # type: ignore[import-untyped]

            return LoadFileScheduling(config, log)
        depth = self.settings.config.parallel or 1
        if depth <= 1 or config.getoption("dist") != "load":
            return None
        from pytest_mesocosm.plugin.scheduling import QueueDepthScheduling

        return QueueDepthScheduling(config, log, depth=depth)

    @pytest.hookimpl(wrapper=True)
    def pytest_report_from_serializable(
        self, config: pytest.Config, data: dict[str, Any]
    ) -> Generator[None, Any, Any]:
        report = yield
        if report is not None and REPORT_KEY in data:
            setattr(report, REPORT_KEY, data[REPORT_KEY])
        return report

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if not hasattr(report, REPORT_KEY):
            return
        if self.aggregator is None:  # the xdist controller imports the judge only now,
            from pytest_mesocosm.plugin.report import Aggregator  # not before its workers

            gc.freeze()  # the modules just imported live to the end: see EpisodePlugin
            self.aggregator = Aggregator()
        self.aggregator.add(report.nodeid, getattr(report, REPORT_KEY))

    @pytest.hookimpl(tryfirst=True)  # before --junitxml writes its file
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.aggregator is None or not self.aggregator:
            return
        from pytest_mesocosm.plugin.report import exit_status, junit_properties

        interrupted = session.exitstatus == pytest.ExitCode.INTERRUPTED
        self.judged, self.problems = self.aggregator.finish(
            self.settings.config, self.settings.report, interrupted=interrupted,
            prepare=self._prepare,
        )
        self._write_html()
        junit_properties(self.config, [j.verdict for j in self.judged])
        if session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = exit_status([j.verdict for j in self.judged],
                                             problems=bool(self.problems))

    def _prepare(self, manifest: Manifest, given: JudgeInput) -> JudgeInput:
        """Before a manifest is judged: what a resumed run kept (read before results.json
        is rewritten), and more seeds while a threshold is undecided."""
        if self.settings.resume_id is not None:
            from pytest_mesocosm.plugin.resume import plan_for

            given.notes = plan_for(given.folder, given.config,
                                   retry_errors=self.settings.retry_errors).notes()
        if given.config.gate.until_decided is not None:
            from pytest_mesocosm.plugin.decided import until_decided

            given = until_decided(manifest, given)
        return given

    def _write_html(self) -> None:
        """``--mesocosm-html``: one report over every manifest judged in this run."""
        if self.settings.html is None or not self.judged:
            return
        from pytest_mesocosm.report.render import write_report

        verdicts = [j.verdict for j in self.judged]
        try:
            write_report([v.results_path for v in verdicts], self.settings.html,
                         baselines=[v.baseline_path for v in verdicts])
        except (MesocosmError, OSError) as exc:
            self.problems.append(f"--mesocosm-html {self.settings.html}: {exc}")
            return
        self.html_path = self.settings.html

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not (self.judged or self.problems):
            return
        from pytest_mesocosm.plugin.report import summary_lines, verdict_line

        terminalreporter.write_sep("=", "mesocosm")
        here = self.config.invocation_params.dir
        for judged in self.judged:
            for line in summary_lines(judged, here):
                terminalreporter.write_line(line)
            terminalreporter.write_line("")
        for judged in self.judged:
            verdict = judged.verdict
            terminalreporter.write_line(verdict_line(verdict), green=verdict.passed,
                                        red=verdict.decision == "failed",
                                        yellow=verdict.decision == "inconclusive", bold=True)
        if self.html_path is not None:
            terminalreporter.write_line(f"mesocosm: html report {self.html_path}")
        for problem in self.problems:
            terminalreporter.write_line(f"mesocosm: {problem}", red=True, bold=True)
