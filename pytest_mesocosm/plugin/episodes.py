"""The episode-running plugin object: registered in every process under ``--mesocosm``.

Run alone or as an xdist worker, a process collects the manifests, plays the episodes
of the items it runs and puts each result on its test report. It never judges: that is
the reporting plugin's job (:mod:`.controller`), registered only where the user reads
the summary, the way pytest-xdist keeps its controller and worker sides apart.
"""

from __future__ import annotations

import gc
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pytest_mesocosm.adapter.ahead import stop_unclaimed
from pytest_mesocosm.engine.outcomes import EpisodeResult
from pytest_mesocosm.engine.session import EpisodeRequest
from pytest_mesocosm.engine.traces import RunFolder
from pytest_mesocosm.manifest.models import MANIFEST_NAME, Manifest
from pytest_mesocosm.plugin import REPORT_KEY, distributed_by_load
from pytest_mesocosm.plugin.items import EpisodeItem, ManifestFile
from pytest_mesocosm.plugin.lookahead import Lookahead
from pytest_mesocosm.plugin.options import Settings
from pytest_mesocosm.plugin.report import payload
from pytest_mesocosm.plugin.runner import EpisodeRunner

if TYPE_CHECKING:
    from pytest_mesocosm.plugin.platform import PlatformRunner



def results_dir(runs_dir: Path, run_id: str, manifest: Manifest) -> Path:
    """The run folder of a manifest: results.json, and the traces (a subfolder per worker)."""
    return runs_dir / f"{run_id}-{manifest.domain_id}"


class EpisodePlugin:
    """Collects manifests, plays this process's episodes, sends their results on."""

    def __init__(self, config: pytest.Config, settings: Settings, *, run_id: str):
        self.config = config
        self.settings = settings
        self.bench_config = settings.config
        workerinput: dict[str, Any] = getattr(config, "workerinput", None) or {}
        self.worker_id: str | None = workerinput.get("workerid")
        self.run_id = run_id
        self.runner: EpisodeRunner | PlatformRunner = EpisodeRunner(
            self.bench_config, self._folder_for)
        if settings.resume_id is not None:
            self.runner = _resuming_runner(self)
        if settings.platform is not None:
            self.runner = _platform_runner(self.runner, settings)
        self._folders: dict[Path, RunFolder] = {}
        self._lookahead: Lookahead | None = None

    def results_dir(self, manifest: Manifest) -> Path:
        return results_dir(self.bench_config.runs_dir, self.run_id, manifest)

    def _folder_for(self, manifest: Manifest) -> RunFolder:
        """This process's run folder for a manifest; an xdist worker's is a subfolder."""
        key = manifest.source_path or manifest.root
        if key not in self._folders:
            base = self.results_dir(manifest)
            if self.settings.resume_id is not None and self.worker_id is None and base.is_dir():
                folder = RunFolder(base)  # resumed: the run's own folder
            elif self.worker_id is None:
                folder = RunFolder.create(base.parent, base.name)
            elif self.settings.resume_id is not None:
                folder = RunFolder.create(base)  # a fresh subfolder beside the first run's
            else:
                folder = RunFolder.create(base, self.worker_id)
            self._folders[key] = folder
        return self._folders[key]

    def pytest_collect_file(self, file_path: Path, parent: pytest.Collector) -> Any:
        if file_path.name == MANIFEST_NAME:
            return ManifestFile.from_parent(parent, path=file_path)
        return None

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """Start the sessions of the manifests whose episodes will run, in the background.

        An xdist worker learns which items it runs only later; under load scheduling
        every worker is first sent items from the head of the list, so it starts the first
        manifest's session only (the others start when their first episode is asked for).
        """
        # What exists now (modules, manifests, items) lives until the process ends: out of
        # the collector's sight, the full collections pytest runs at exit (5 in a row, to
        # report unraisable exceptions) and those of the run itself skip it (60 ms here).
        gc.freeze()
        option = session.config.option
        aborts = session.testsfailed and not option.continue_on_collection_errors
        if option.collectonly or aborts or not isinstance(self.runner, EpisodeRunner):
            return
        manifests = list({id(item.manifest): item.manifest for item in session.items
                          if isinstance(item, EpisodeItem)}.values())
        if self.worker_id is not None:
            manifests = manifests[:1] if distributed_by_load(session.config) else []
        for manifest in manifests:
            self.runner.prepare(manifest)

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
            run_dir=self._folder_for(manifest).path,
        )

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        if call.when == "teardown" and _PAYLOAD in item.stash:
            setattr(report, REPORT_KEY, item.stash[_PAYLOAD])
        return report

    @pytest.hookimpl(wrapper=True)
    def pytest_report_to_serializable(
        self, config: pytest.Config, report: Any
    ) -> Generator[None, dict[str, Any] | None, dict[str, Any] | None]:
        """xdist worker: the result travels with the report to the controller."""
        data = yield
        if data is not None and hasattr(report, REPORT_KEY):
            data[REPORT_KEY] = getattr(report, REPORT_KEY)
        return data

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        self.runner.close()
        stop_unclaimed()  # spawned ahead for a manifest no session asked for

    def pytest_unconfigure(self) -> None:
        self.runner.close()


_PAYLOAD = pytest.StashKey[dict[str, Any]]()


def _resuming_runner(plugin: EpisodePlugin) -> EpisodeRunner:
    """The runner of ``--mesocosm-resume`` (not with ``--mesocosm-platform``)."""
    from pytest_mesocosm.plugin.resume import ResumingRunner

    if plugin.settings.platform is not None:
        raise pytest.UsageError("--mesocosm-resume resumes a local run; it does not go with "
                                "--mesocosm-platform")
    return ResumingRunner(plugin.bench_config, plugin._folder_for,
                          results_dir=plugin.results_dir,
                          retry_errors=plugin.settings.retry_errors)


def _platform_runner(local: EpisodeRunner, settings: Settings) -> PlatformRunner:
    """The runner of ``--mesocosm-platform``; a missing session stops the run in one line."""
    import os

    from pytest_mesocosm.errors import MesocosmError
    from pytest_mesocosm.plugin.platform import PlatformRunner, platform_api

    try:
        api = platform_api(settings.platform or "", dict(os.environ))
    except MesocosmError as exc:
        raise pytest.UsageError(f"--mesocosm-platform: {exc}") from None
    return PlatformRunner(settings.config, local, api=api, domain=settings.domain)
