"""``--mesocosm-golden`` and ``--mesocosm-golden-record``: the env's own regression suite.

With ``--mesocosm-golden`` every golden file beside a manifest
(``.mesocosm/golden/<domain>/seed-N.json``) is a test item: its actions are replayed
against the current env (no model) and the item fails at the first step that differs,
shown as a diff. With ``--mesocosm-golden-record`` (beside ``--mesocosm``) the episodes
the run plays are written as golden files at the end, on the process the user reads.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import pytest

from pytest_mesocosm.adapter import AdapterClient
from pytest_mesocosm.adapter.connect import AdapterLease, adapter_for
from pytest_mesocosm.engine.config import BenchConfig
from pytest_mesocosm.engine.loop import close_loop
from pytest_mesocosm.engine.outcomes import EpisodeResult
from pytest_mesocosm.errors import ManifestError, MesocosmError
from pytest_mesocosm.golden.compare import Difference, first_difference
from pytest_mesocosm.golden.record import record_results
from pytest_mesocosm.golden.replay import replay
from pytest_mesocosm.golden.store import golden_files, read_golden
from pytest_mesocosm.manifest.models import MANIFEST_NAME, Manifest, load_manifest
from pytest_mesocosm.plugin.options import Settings

GOLDEN_NAME = "mesocosm-golden"
_REPORT_KEY = "mesocosm"  # the episode plugin's report attribute (plugin/episodes.py)


class GoldenMismatch(Exception):
    """The env answered differently from its golden file."""

    def __init__(self, label: str, path: Path, difference: Difference):
        super().__init__(difference.headline(label))
        self.label, self.path, self.difference = label, path, difference


class Adapters:
    """One adapter (started, or the ``--mesocosm-env-url`` one) per manifest, on one loop."""

    def __init__(self, config: BenchConfig):
        self.config = config
        self.loop = asyncio.new_event_loop()
        self._open: dict[Path, tuple[AbstractAsyncContextManager[AdapterLease],
                                     AdapterClient]] = {}

    def client(self, manifest: Manifest) -> AdapterClient:
        key = manifest.source_path or manifest.root
        if key not in self._open:
            self.config.runs_dir.mkdir(parents=True, exist_ok=True)
            log = self.config.runs_dir / f"golden-{manifest.domain_id}-adapter.log"
            lease_cm = adapter_for(manifest, self.config, log_path=log)
            lease = self.loop.run_until_complete(lease_cm.__aenter__())
            self._open[key] = (lease_cm, AdapterClient(lease.url))
        return self._open[key][1]

    def run(self, coroutine: Any) -> Any:
        return self.loop.run_until_complete(coroutine)

    def close(self) -> None:
        for lease_cm, client in self._open.values():
            with contextlib.suppress(MesocosmError):
                self.loop.run_until_complete(client.aclose())
            self.loop.run_until_complete(lease_cm.__aexit__(None, None, None))
        self._open.clear()
        close_loop(self.loop)


class GoldenPlugin:
    """Collects golden files as items and replays them (``--mesocosm-golden``)."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.adapters = Adapters(settings.config)

    def pytest_collect_file(self, file_path: Path, parent: pytest.Collector) -> Any:
        if file_path.name == MANIFEST_NAME:
            return GoldenFile.from_parent(parent, path=file_path)
        return None

    def pytest_sessionfinish(self) -> None:
        self.adapters.close()


class GoldenFile(pytest.File):
    """A manifest's golden files; none recorded yet is said, not failed."""

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
        golden = read_golden(self.golden_path)
        try:
            client = plugin.adapters.client(self.manifest)
            now = plugin.adapters.run(replay(client, golden))
        except MesocosmError as exc:
            pytest.fail(f"{self.manifest.name}: {exc}", pytrace=False)
        found = first_difference(golden, now, plugin.settings.golden_ignore)
        if found is not None:
            raise GoldenMismatch(golden.label, self.golden_path, found)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, GoldenMismatch):
            error = excinfo.value
            return "\n".join([
                error.difference.headline(f"{self.manifest.name} {error.label}"),
                error.difference.diff,
                f"golden file: {error.path}",
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
        adapters = Adapters(self.settings.config)
        try:
            for path, results in sorted(self.results.items()):
                try:
                    manifest = load_manifest(Path(path))
                    client = adapters.client(manifest)
                    self.written += adapters.run(record_results(
                        client, manifest, results.values(),
                        recorded_with=self.settings.config.agent.model,
                        scenario_params=self.settings.config.scenario_params,
                    ))
                except MesocosmError as exc:
                    self.problems.append(f"{path}: cannot record goldens: {exc}")
        finally:
            adapters.close()
        if self.problems and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        folders = sorted({str(p.parent) for p in self.written})
        if self.written:
            terminalreporter.write_line(
                f"mesocosm: recorded {len(self.written)} golden files in {', '.join(folders)}")
        for problem in self.problems:
            terminalreporter.write_line(f"mesocosm: {problem}", red=True, bold=True)
