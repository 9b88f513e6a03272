"""``--mesocosm-golden`` and ``--mesocosm-golden-record``: the env's own regression suite.

With ``--mesocosm-golden`` every golden file beside a manifest
(``.mesocosm/golden/<domain>/seed-N.json``) is a test item: its actions are replayed
against the current env (no model) and the item fails at the first step that differs,
shown as a diff. With ``--mesocosm-golden-record`` (beside ``--mesocosm``) the episodes
the run plays are written as golden files at the end, on the process the user reads.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pytest_mesocosm.engine.loop import close_loop
from pytest_mesocosm.engine.outcomes import EpisodeResult
from pytest_mesocosm.errors import ManifestError, MesocosmError
from pytest_mesocosm.golden.check import GoldenCheck, check_goldens, record_goldens
from pytest_mesocosm.golden.store import golden_files
from pytest_mesocosm.manifest.models import MANIFEST_NAME, Manifest, load_manifest
from pytest_mesocosm.plugin.options import Settings

GOLDEN_NAME = "mesocosm-golden"
_REPORT_KEY = "mesocosm"  # the episode plugin's report attribute (plugin/episodes.py)


class GoldenMismatch(Exception):
    """The env answered differently from its golden file."""

    def __init__(self, check: GoldenCheck):
        assert check.difference is not None
        super().__init__(check.difference.headline(check.label))
        self.check = check


def _run(coroutine: Any) -> Any:
    """Run one coroutine on a loop of its own, closed the engine's way."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coroutine)
    finally:
        close_loop(loop)


class GoldenPlugin:
    """Collects golden files as items and replays them (``--mesocosm-golden``).

    A manifest's golden files are replayed together, against one adapter, when its first
    item runs; each item then reports its own file's result."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._checks: dict[Path, dict[Path, GoldenCheck] | MesocosmError] = {}

    def pytest_collect_file(self, file_path: Path, parent: pytest.Collector) -> Any:
        if file_path.name == MANIFEST_NAME:
            return GoldenFile.from_parent(parent, path=file_path)
        return None

    def check(self, manifest: Manifest, path: Path) -> GoldenCheck:
        key = manifest.source_path or manifest.root
        if key not in self._checks:
            config = self.settings.config
            config.runs_dir.mkdir(parents=True, exist_ok=True)
            log = config.runs_dir / f"golden-{manifest.domain_id}-adapter.log"
            try:
                found = _run(check_goldens(manifest, config, ignore=self.settings.golden_ignore,
                                           log_path=log))
                self._checks[key] = {c.path: c for c in found}
            except MesocosmError as exc:
                self._checks[key] = exc
        checks = self._checks[key]
        if isinstance(checks, MesocosmError):
            raise checks.with_traceback(None)
        return checks[path]


class GoldenFile(pytest.File):
    """A manifest's golden files as items (none recorded yet: no items)."""

    def collect(self) -> Iterator[pytest.Item]:
        try:
            manifest = load_manifest(self.path)
        except ManifestError as exc:
            raise self.CollectError(str(exc)) from None
        for path in golden_files(manifest):
            name = f"golden[{path.stem.replace('seed-', 'seed=', 1)}]"
            yield GoldenItem.from_parent(self, name=name, nodeid=f"{self.nodeid}::{name}",
                                         manifest=manifest, golden_path=path)


class GoldenItem(pytest.Item):
    """One golden file replayed against the env as it is now."""

    def __init__(self, *, manifest: Manifest, golden_path: Path, **kwargs: Any):
        super().__init__(**kwargs)
        self.manifest = manifest
        self.golden_path = golden_path

    def runtest(self) -> None:
        plugin = self.config.pluginmanager.get_plugin(GOLDEN_NAME)
        assert isinstance(plugin, GoldenPlugin)
        try:
            check = plugin.check(self.manifest, self.golden_path)
        except MesocosmError as exc:
            pytest.fail(f"{self.manifest.name}: {exc}", pytrace=False)
        if check.difference is not None:
            raise GoldenMismatch(check)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, GoldenMismatch):
            check = excinfo.value.check
            assert check.difference is not None
            return "\n".join([
                check.difference.headline(f"{self.manifest.name} {check.label}"),
                check.difference.diff,
                f"golden file: {check.path}",
                "intended? record again with --mesocosm --mesocosm-golden-record; volatile? "
                "add its path to the file's 'ignore' or to --mesocosm-golden-ignore",
            ])
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Any, int | None, str]:
        return self.golden_path, None, self.name


class GoldenRecorder:
    """Keeps every episode's result and writes them as golden files at the end."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.results: dict[str, dict[str, EpisodeResult]] = {}
        self.written: list[Path] = []
        self.problems: list[str] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        data = getattr(report, _REPORT_KEY, None)
        if data is not None:
            by_id = self.results.setdefault(data["manifest"], {})
            by_id[report.nodeid] = EpisodeResult.from_dict(data["result"])

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if not self.results:
            return
        config = self.settings.config
        for path, results in sorted(self.results.items()):
            try:
                manifest = load_manifest(Path(path))
                log = config.runs_dir / f"golden-{manifest.domain_id}-adapter.log"
                self.written += _run(record_goldens(manifest, config, results.values(),
                                                    log_path=log))
            except MesocosmError as exc:
                self.problems.append(f"{path}: cannot record goldens: {exc}")
        if self.problems and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        folders = sorted({str(p.parent) for p in self.written})
        if self.written:
            terminalreporter.write_line(
                f"mesocosm: recorded {len(self.written)} golden files in {', '.join(folders)}")
        for problem in self.problems:
            terminalreporter.write_line(f"mesocosm: {problem}", red=True, bold=True)
