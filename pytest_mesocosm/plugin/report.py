"""The controller's side: gather every episode once, judge each manifest, write reports.

Results arrive on test reports (from this process or from xdist workers), keyed by
node id so a result is never counted twice. At the end each manifest is judged by the
engine's :func:`~pytest_mesocosm.scoring.judge.judge` (the same results.json as
``mesocosm run local``); this module adds what only the plugin does: the
``--mesocosm-report`` copy, the ``$GITHUB_STEP_SUMMARY`` section and the summary lines.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from pytest_mesocosm.engine.config import BenchConfig
from pytest_mesocosm.engine.outcomes import EpisodeResult
from pytest_mesocosm.engine.session import effective_parallel
from pytest_mesocosm.engine.traces import RunFolder
from pytest_mesocosm.errors import MesocosmError
from pytest_mesocosm.manifest.models import Manifest, load_manifest
from pytest_mesocosm.scoring.decide import INCONCLUSIVE_EXIT
from pytest_mesocosm.scoring.judge import Verdict, judge, per_manifest
from pytest_mesocosm.scoring.sequential import Look
from pytest_mesocosm.scoring.table import format_markdown, format_metrics_table


def payload(
    manifest: Manifest, result: EpisodeResult, *, results_dir: Path, run_dir: Path
) -> dict[str, Any]:
    """What one episode item sends to the controller: plain data, JSON- and execnet-safe."""
    return {
        "manifest": str(manifest.source_path),
        "results_dir": str(results_dir),
        "run_dir": str(run_dir),
        "result": result.to_dict(),
    }


@dataclass
class _Gathered:
    """Everything received for one manifest."""

    results_dir: Path
    run_dirs: set[Path] = field(default_factory=set)
    results: dict[str, EpisodeResult] = field(default_factory=dict)


@dataclass
class Judged:
    """A verdict and what the plugin adds to it: the traces' folders, the report copy."""

    verdict: Verdict
    run_dirs: list[Path]
    report_path: Path | None = None
    parallel_note: str | None = None


@dataclass
class JudgeInput:
    """What a manifest is judged on; a front-end step may change it before the judge."""

    results: list[EpisodeResult]
    config: BenchConfig
    folder: Path  # the manifest's run folder
    look: Look | None = None
    notes: Mapping[str, Any] | None = None
    interrupted: bool = False


Prepare = Callable[[Manifest, JudgeInput], JudgeInput]


class Aggregator:
    """Collects results by node id; :meth:`finish` judges each manifest once."""

    def __init__(self) -> None:
        self._by_manifest: dict[str, _Gathered] = {}

    def add(self, nodeid: str, data: dict[str, Any]) -> None:
        gathered = self._by_manifest.setdefault(data["manifest"],
                                                _Gathered(Path(data["results_dir"])))
        gathered.run_dirs.add(Path(data["run_dir"]))
        gathered.results[nodeid] = EpisodeResult.from_dict(data["result"])

    def __bool__(self) -> bool:
        return bool(self._by_manifest)

    def finish(
        self, config: BenchConfig, report: Path | None, *, interrupted: bool,
        prepare: Prepare | None = None,
    ) -> tuple[list[Judged], list[str]]:
        """Judge every manifest; also return lines for what could not be judged.
        ``prepare``: a step before each judge (resume notes, more seeds until decided)."""
        judged: list[Judged] = []
        problems: list[str] = []
        several = len(self._by_manifest) > 1
        for path, gathered in sorted(self._by_manifest.items()):
            try:
                manifest = load_manifest(Path(path))
                given = JudgeInput(list(gathered.results.values()), config,
                                   gathered.results_dir, interrupted=interrupted)
                if prepare is not None:
                    given = prepare(manifest, given)
                verdict = judge(manifest, given.results, given.config,
                                folder=RunFolder(given.folder), interrupted=given.interrupted,
                                look=given.look, notes=given.notes)
                done = Judged(verdict, sorted(gathered.run_dirs),
                              parallel_note=effective_parallel(manifest, config)[1])
                if report is not None:
                    done.report_path = _copy_report(verdict, report, several=several)
                summary_file = os.environ.get("GITHUB_STEP_SUMMARY")
                if summary_file:
                    _append_step_summary(Path(summary_file), verdict)
            except MesocosmError as exc:
                problems.append(f"{path}: cannot gate: {exc}")
                continue
            judged.append(done)
        return judged, problems


def _copy_report(verdict: Verdict, report: Path, *, several: bool) -> Path:
    target = per_manifest(report, verdict.manifest) if several else report
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(verdict.results_path, target)
    except OSError as exc:
        raise MesocosmError(f"cannot write --mesocosm-report {target}: {exc.strerror}") from exc
    return target


def _append_step_summary(path: Path, verdict: Verdict) -> None:
    title = f"mesocosm: {verdict.manifest.name}"
    text = format_markdown(verdict.metrics, verdict.gate, title=title)
    if verdict.regressions:
        text += "\n" + "\n".join(f"- {line}" for line in verdict.regressions) + "\n"
    if verdict.comparison:
        text += f"\n```\n{verdict.comparison}\n```\n"
    try:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(text + "\n")
    except OSError as exc:
        raise MesocosmError(f"cannot append to GITHUB_STEP_SUMMARY={path}: {exc.strerror}") from exc


def summary_lines(judged: Judged, here: Path) -> list[str]:
    """The terminal summary of one manifest: table, baseline, where files are, verdict."""
    verdict = judged.verdict
    manifest = verdict.manifest
    lines = [f"{manifest.name} ({_rel(manifest.source_path, here)})"]
    if judged.parallel_note:
        lines.append(judged.parallel_note)
    lines.append(format_metrics_table(verdict.metrics, verdict.gate))
    lines += [f"  - {line}" for line in verdict.regressions]
    if verdict.comparison:
        lines.append(verdict.comparison)
    if verdict.baseline_path is not None:
        lines.append(f"  (baseline: {_rel(verdict.baseline_path, here)})")
    lines.append(f"results: {_rel(verdict.results_path, here)}")
    traces = [_rel(d / "traces", here) for d in judged.run_dirs]
    lines.append(f"traces: {', '.join(traces)}")
    if judged.report_path is not None:
        lines.append(f"report: {_rel(judged.report_path, here)}")
    return lines


def verdict_line(verdict: Verdict) -> str:
    """One line a CI log can be grepped for: which manifest, pass or why not."""
    name = verdict.manifest.name
    ran = verdict.metrics.total
    partial = f" ({ran} of {verdict.planned} planned episodes ran)" if ran < verdict.planned else ""
    if verdict.passed:
        return f"mesocosm: {name}: gate passed{partial}"
    if verdict.decision == "inconclusive":
        return (f"mesocosm: {name}: gate INCONCLUSIVE{partial}: "
                f"{'; '.join(verdict.gate.inconclusive)}")
    return f"mesocosm: {name}: gate FAILED{partial}: {'; '.join(verdict.reasons)}"


def exit_status(verdicts: list[Verdict], *, problems: bool) -> int:
    """0 when every manifest passed; 1 when one failed (or could not be judged); else
    :data:`INCONCLUSIVE_EXIT` when one is inconclusive (``--mesocosm-inconclusive error``)."""
    if problems or any(v.decision == "failed" for v in verdicts):
        return int(pytest.ExitCode.TESTS_FAILED)
    if any(v.decision == "inconclusive" for v in verdicts):
        return INCONCLUSIVE_EXIT
    return int(pytest.ExitCode.OK)


def junit_properties(config: pytest.Config, verdicts: list[Verdict]) -> None:
    """``--junitxml``: each manifest's verdict and each threshold's decision, with its
    interval, as properties of the test suite."""
    from _pytest.junitxml import xml_key  # pytest's own LogXML; no public handle exists

    xml = config.stash.get(xml_key, None)
    if xml is None:
        return
    for verdict in verdicts:
        prefix = f"mesocosm.{verdict.manifest.domain_id}"
        xml.add_global_property(f"{prefix}.verdict", verdict.decision)
        for check in verdict.gate.checks:
            xml.add_global_property(f"{prefix}.threshold.{check.threshold}", check.describe())


def _rel(path: Path | None, here: Path) -> str:
    """A path as the user typed it: relative to where pytest was started, if inside."""
    if path is None:
        return "-"
    try:
        return str(path.relative_to(here))
    except ValueError:
        return str(path)
