"""The controller's side: gather every episode once, score, gate, compare, write reports.

Results arrive on test reports (from this process or from xdist workers), keyed by
node id so a result is never counted twice. At the end each manifest gets its metrics,
the gate verdict, an optional baseline comparison, ``results.json`` in its run folder,
the ``--mesocosm-report`` copy and the ``$GITHUB_STEP_SUMMARY`` section.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_mesocosm.engine.outcomes import EpisodeResult
from pytest_mesocosm.engine.session import manifest_summary
from pytest_mesocosm.engine.traces import RunFolder, load_results, read_results
from pytest_mesocosm.errors import MesocosmError
from pytest_mesocosm.manifest.models import Manifest, load_manifest
from pytest_mesocosm.plugin.options import Settings
from pytest_mesocosm.scoring.baseline import compare_to_baseline, format_comparison
from pytest_mesocosm.scoring.gate import GateResult, ThresholdError, evaluate_gate, parse_thresholds
from pytest_mesocosm.scoring.metrics import RunMetrics, metric_bounds, score_run
from pytest_mesocosm.scoring.table import format_markdown, format_metrics_table


def payload(
    manifest: Manifest, result: EpisodeResult, *, results_dir: Path, run_dir: Path, planned: int
) -> dict[str, Any]:
    """What one episode item sends to the controller: plain data, JSON- and execnet-safe."""
    return {
        "manifest": str(manifest.source_path),
        "results_dir": str(results_dir),
        "run_dir": str(run_dir),
        "planned": planned,
        "result": result.to_dict(),
    }


@dataclass
class _Gathered:
    """Everything received for one manifest."""

    results_dir: Path
    planned: int
    run_dirs: set[Path] = field(default_factory=set)
    results: dict[str, EpisodeResult] = field(default_factory=dict)


@dataclass
class Verdict:
    """One manifest judged: metrics, gate, baseline lines and where it was all written."""

    manifest: Manifest
    metrics: RunMetrics
    gate: GateResult
    results_path: Path
    run_dirs: list[Path]
    planned: int
    report_path: Path | None = None
    baseline_path: Path | None = None
    comparison: str | None = None
    regressions: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.gate.passed and not self.regressions

    @property
    def reasons(self) -> list[str]:
        return [*self.gate.reasons, *self.regressions]


class Aggregator:
    """Collects results by node id; :meth:`finish` judges each manifest once."""

    def __init__(self) -> None:
        self._by_manifest: dict[str, _Gathered] = {}

    def add(self, nodeid: str, data: dict[str, Any]) -> None:
        gathered = self._by_manifest.setdefault(
            data["manifest"], _Gathered(Path(data["results_dir"]), int(data["planned"]))
        )
        gathered.run_dirs.add(Path(data["run_dir"]))
        gathered.results[nodeid] = EpisodeResult.from_dict(data["result"])

    def __bool__(self) -> bool:
        return bool(self._by_manifest)

    def finish(
        self, settings: Settings, config: dict[str, Any], *, interrupted: bool
    ) -> tuple[list[Verdict], list[str]]:
        """Judge every manifest; also return lines for what could not be judged."""
        verdicts: list[Verdict] = []
        problems: list[str] = []
        several = len(self._by_manifest) > 1
        for path, gathered in sorted(self._by_manifest.items()):
            try:
                verdicts.append(_judge(Path(path), gathered, settings, config,
                                       interrupted=interrupted, several=several))
            except MesocosmError as exc:
                problems.append(f"{path}: {exc}")
        return verdicts, problems


def _thresholds(manifest: Manifest, settings: Settings) -> list[str]:
    own = list(manifest.mesocosm.thresholds) if manifest.mesocosm else []
    return list(dict.fromkeys([*own, *settings.thresholds]))


def _allowed_errors(manifest: Manifest, settings: Settings) -> int:
    if settings.allowed_errors is not None:
        return settings.allowed_errors
    return manifest.mesocosm.allowed_errors if manifest.mesocosm else 0


def _per_manifest(path: Path, manifest: Manifest) -> Path:
    return path.with_name(f"{path.stem}-{manifest.domain_id}{path.suffix}")


def _judge(
    path: Path, gathered: _Gathered, settings: Settings, config: dict[str, Any],
    *, interrupted: bool, several: bool,
) -> Verdict:
    manifest = load_manifest(path)
    results = sorted(gathered.results.values(), key=lambda r: (r.seed is None, r.seed or 0,
                                                              r.repeat))
    metrics = score_run(manifest.scoring, results, metric_bounds(manifest))
    names = [metric.name for metric in manifest.scoring.metrics]
    try:
        thresholds = parse_thresholds(_thresholds(manifest, settings), names)
    except ThresholdError as exc:
        raise MesocosmError(f"cannot gate: {exc}") from None
    gate = evaluate_gate(metrics, thresholds, allowed_errors=_allowed_errors(manifest, settings))
    verdict = Verdict(manifest, metrics, gate, gathered.results_dir / "results.json",
                      sorted(gathered.run_dirs), gathered.planned)
    if settings.baseline is not None:
        _compare(verdict, results, settings)
    complete = len(results) >= gathered.planned and not interrupted
    folder = RunFolder(gathered.results_dir)
    gathered.results_dir.mkdir(parents=True, exist_ok=True)
    extra = manifest_summary(manifest) | {
        "interrupted": interrupted, "gate": gate.to_dict(),
        "baseline_regressions": verdict.regressions,
    }
    verdict.results_path = folder.write_results(config, results, metrics, extra,
                                                complete=complete)
    if settings.report is not None:
        target = _per_manifest(settings.report, manifest) if several else settings.report
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(verdict.results_path, target)
        verdict.report_path = target
    summary_file = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary_file:
        _append_step_summary(Path(summary_file), verdict)
    return verdict


def _load_baseline(
    path: Path, manifest: Manifest
) -> tuple[Path, list[EpisodeResult], RunMetrics | None]:
    """The baseline run of this manifest: the file itself, or its per-manifest twin
    (``report-<domain>.json``, as ``--mesocosm-report`` writes them for several manifests)."""
    for candidate in (path, _per_manifest(path, manifest)):
        if candidate.exists():
            domain = (read_results(candidate).get("manifest") or {}).get("domain_id")
            if domain in (None, manifest.domain_id):
                _, results, metrics = load_results(candidate)
                return candidate, results, metrics
    raise MesocosmError(f"no results for {manifest.domain_id} in {path}")


def _compare(verdict: Verdict, results: list[EpisodeResult], settings: Settings) -> None:
    assert settings.baseline is not None
    try:
        found, before, metrics_before = _load_baseline(settings.baseline, verdict.manifest)
    except MesocosmError as exc:  # missing or unreadable: said in the summary, verdict kept
        verdict.comparison = f"baseline: {exc}"
        if settings.max_drop is not None:
            verdict.regressions.append(verdict.comparison)
        return
    comparison = compare_to_baseline(results, before, verdict.manifest.scoring,
                                     metrics_now=verdict.metrics, metrics_before=metrics_before)
    verdict.comparison = format_comparison(comparison)
    verdict.baseline_path = found
    if settings.max_drop is not None:
        verdict.regressions += [f"baseline: {line}" for line in
                                comparison.regressed(settings.max_drop)]


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


def summary_lines(verdict: Verdict, here: Path) -> list[str]:
    """The terminal summary of one manifest: table, baseline, where files are, verdict."""
    manifest = verdict.manifest
    lines = [f"{manifest.name} ({_rel(manifest.source_path, here)})",
             format_metrics_table(verdict.metrics, verdict.gate)]
    lines += [f"  - {line}" for line in verdict.regressions]
    if verdict.comparison:
        lines.append(verdict.comparison)
    if verdict.baseline_path is not None:
        lines.append(f"  (baseline: {_rel(verdict.baseline_path, here)})")
    lines.append(f"results: {_rel(verdict.results_path, here)}")
    traces = [_rel(d / "traces", here) for d in verdict.run_dirs]
    lines.append(f"traces: {', '.join(traces)}")
    if verdict.report_path is not None:
        lines.append(f"report: {_rel(verdict.report_path, here)}")
    return lines


def verdict_line(verdict: Verdict) -> str:
    """One line a CI log can be grepped for: which manifest, pass or why not."""
    name = verdict.manifest.name
    ran = verdict.metrics.total
    partial = f" ({ran} of {verdict.planned} planned episodes ran)" if ran < verdict.planned else ""
    if verdict.passed:
        return f"mesocosm: {name}: gate passed{partial}"
    return f"mesocosm: {name}: gate FAILED{partial}: {'; '.join(verdict.reasons)}"


def _rel(path: Path | None, here: Path) -> str:
    """A path as the user typed it: relative to where pytest was started, if inside."""
    if path is None:
        return "-"
    try:
        return str(path.relative_to(here))
    except ValueError:
        return str(path)
