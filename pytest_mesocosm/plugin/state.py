"""The one plugin object registered under ``--mesocosm``: the run's state and its hooks.

Every process has one: it collects manifests and runs episodes (alone, or as an xdist
worker). The process that reports to the user (alone, or the xdist controller) also
gathers the results that travel on test reports and judges them once at the end.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pytest_mesocosm.engine.outcomes import EpisodeResult
from pytest_mesocosm.engine.session import EpisodeRequest, plan_episodes
from pytest_mesocosm.engine.traces import RunFolder, new_run_id
from pytest_mesocosm.errors import MesocosmError
from pytest_mesocosm.manifest.models import MANIFEST_NAME, Manifest
from pytest_mesocosm.plugin.items import EpisodeItem, ManifestFile
from pytest_mesocosm.plugin.lookahead import Lookahead
from pytest_mesocosm.plugin.options import Settings
from pytest_mesocosm.plugin.report import Aggregator, Verdict, payload, summary_lines, verdict_line
from pytest_mesocosm.plugin.runner import EpisodeRunner

if TYPE_CHECKING:
    from pytest_mesocosm.plugin.platform import PlatformRunner

REPORT_KEY = "mesocosm"  # the test report attribute that carries an episode's result
RUN_ID_KEY = "mesocosm_run_id"  # workerinput key: one run id for the controller and workers


class MesocosmPlugin:
    """Holds the run (settings, runner, results) and implements the hooks it needs."""

    def __init__(self, config: pytest.Config, settings: Settings):
        self.config = config
        self.settings = settings
        self.bench_config = settings.bench_config()
        workerinput: dict[str, Any] | None = getattr(config, "workerinput", None)
        self.is_worker = workerinput is not None
        self.worker_id: str | None = workerinput.get("workerid") if workerinput else None
        self.run_id: str = (workerinput or {}).get(RUN_ID_KEY) or new_run_id()
        self.runner: EpisodeRunner | PlatformRunner = EpisodeRunner(
            self.bench_config, self._folder_for)
        if settings.platform is not None:
            self.runner = _platform_runner(self.bench_config, self.runner, settings)
        self.aggregator = Aggregator()
        self.verdicts: list[Verdict] = []
        self.problems: list[str] = []
        self.html_path: Path | None = None
        self._folders: dict[Path, RunFolder] = {}
        self._lookahead: Lookahead | None = None
        self._planned = len(plan_episodes(self.bench_config))

    # ------------------------------------------------------------ run folders

    def results_dir(self, manifest: Manifest) -> Path:
        """The run folder of a manifest: results.json, and traces/ unless under xdist."""
        return self.settings.runs_dir / f"{self.run_id}-{manifest.domain_id}"

    def _folder_for(self, manifest: Manifest) -> RunFolder:
        """This process's run folder for a manifest; an xdist worker's is a subfolder."""
        key = manifest.source_path or manifest.root
        if key not in self._folders:
            base = self.results_dir(manifest)
            if self.worker_id is None:
                folder = RunFolder.create(base.parent, base.name)
            else:
                folder = RunFolder.create(base, self.worker_id)
            self._folders[key] = folder
        return self._folders[key]

    # ------------------------------------------------------------ collection and running

    def pytest_collect_file(self, file_path: Path, parent: pytest.Collector) -> Any:
        if file_path.name == MANIFEST_NAME:
            return ManifestFile.from_parent(parent, path=file_path)
        return None

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        """xdist controller: hand every worker the same run id."""
        node.workerinput[RUN_ID_KEY] = self.run_id

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_make_scheduler(self, config: pytest.Config, log: Any) -> Any:
        """Under ``-n`` with parallel episodes, keep that many items queued per worker."""
        if self.settings.platform is not None:  # one platform run per manifest: one worker
            from xdist.scheduler import LoadFileScheduling

            return LoadFileScheduling(config, log)
        depth = self.bench_config.parallel
        if depth <= 1 or config.getoption("dist") != "load":
            return None
        from pytest_mesocosm.plugin.scheduling import QueueDepthScheduling

        return QueueDepthScheduling(config, log, depth=depth)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: pytest.Item | None) -> None:
        if self._lookahead is None:
            self._lookahead = Lookahead(item.session)
        self._lookahead.remember_next(item, nextitem)

    def upcoming(self, item: pytest.Item) -> Iterator[tuple[Manifest, EpisodeRequest]]:
        """The episodes this process will run after ``item``, in order."""
        if self._lookahead is None:
            return
        for later in self._lookahead.after(item):
            if isinstance(later, EpisodeItem):
                yield later.manifest, later.episode

    def record(self, item: EpisodeItem, result: EpisodeResult) -> None:
        """Attach an episode's result to the item; it leaves on the teardown report."""
        manifest = item.manifest
        item.stash[_PAYLOAD] = payload(
            manifest, result, results_dir=self.results_dir(manifest),
            run_dir=self._folder_for(manifest).path, planned=self._planned,
        )

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        if call.when == "teardown" and _PAYLOAD in item.stash:
            setattr(report, REPORT_KEY, item.stash[_PAYLOAD])
        return report

    # ------------------------------------------------------------ results across processes

    @pytest.hookimpl(wrapper=True)
    def pytest_report_to_serializable(
        self, config: pytest.Config, report: Any
    ) -> Generator[None, dict[str, Any] | None, dict[str, Any] | None]:
        data = yield
        if data is not None and hasattr(report, REPORT_KEY):
            data[REPORT_KEY] = getattr(report, REPORT_KEY)
        return data

    @pytest.hookimpl(wrapper=True)
    def pytest_report_from_serializable(
        self, config: pytest.Config, data: dict[str, Any]
    ) -> Generator[None, Any, Any]:
        report = yield
        if report is not None and REPORT_KEY in data:
            setattr(report, REPORT_KEY, data[REPORT_KEY])
        return report

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if not self.is_worker and hasattr(report, REPORT_KEY):
            self.aggregator.add(report.nodeid, getattr(report, REPORT_KEY))

    # ------------------------------------------------------------ the end

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        self.runner.close()
        if self.is_worker or not self.aggregator:
            return
        interrupted = session.exitstatus == pytest.ExitCode.INTERRUPTED
        self.verdicts, self.problems = self.aggregator.finish(
            self.settings, self.bench_config.to_dict(), interrupted=interrupted
        )
        self._write_html()
        failed = self.problems or any(not v.passed for v in self.verdicts)
        if failed and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def _write_html(self) -> None:
        """``--mesocosm-html``: one report over every manifest judged in this run."""
        if self.settings.html is None or not self.verdicts:
            return
        from pytest_mesocosm.report import write_report

        try:
            write_report([v.results_path for v in self.verdicts], self.settings.html,
                         baselines=[v.baseline_path for v in self.verdicts])
        except (MesocosmError, OSError) as exc:
            self.problems.append(f"--mesocosm-html {self.settings.html}: {exc}")
            return
        self.html_path = self.settings.html

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.is_worker or not (self.verdicts or self.problems):
            return
        terminalreporter.write_sep("=", "mesocosm")
        here = self.config.invocation_params.dir
        for verdict in self.verdicts:
            for line in summary_lines(verdict, here):
                terminalreporter.write_line(line)
            terminalreporter.write_line("")
        for verdict in self.verdicts:
            terminalreporter.write_line(verdict_line(verdict), green=verdict.passed,
                                        red=not verdict.passed, bold=True)
        if self.html_path is not None:
            terminalreporter.write_line(f"mesocosm: html report {self.html_path}")
        for problem in self.problems:
            terminalreporter.write_line(f"mesocosm: {problem}", red=True, bold=True)

    def pytest_unconfigure(self) -> None:
        self.runner.close()


_PAYLOAD = pytest.StashKey[dict[str, Any]]()


def _platform_runner(config: Any, local: EpisodeRunner, settings: Settings) -> PlatformRunner:
    """The runner of ``--mesocosm-platform``; a missing session stops the run in one line."""
    import os

    from pytest_mesocosm.errors import MesocosmError
    from pytest_mesocosm.plugin.platform import PlatformRunner, platform_api

    try:
        api = platform_api(settings.platform or "", dict(os.environ))
    except MesocosmError as exc:
        raise pytest.UsageError(f"--mesocosm-platform: {exc}") from None
    return PlatformRunner(config, local, api=api, domain=settings.domain)
