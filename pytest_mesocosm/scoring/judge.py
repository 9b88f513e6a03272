"""``judge()``: the one home that ends a run, whichever front end ran it.

It scores the finished (or interrupted) episodes, merges the thresholds (the manifest's
``mesocosm`` block, then the front end's), applies the gate and the baseline comparison,
and writes ``results.json``, so ``pytest --mesocosm``, ``mesocosm run local`` and the
server's worker write the same file. The :class:`Verdict` it returns is what a front
end prints and turns into an exit code.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_mesocosm.engine.config import BenchConfig
from pytest_mesocosm.engine.outcomes import EpisodeResult, EpisodeStatus
from pytest_mesocosm.engine.traces import RunFolder, load_results, read_results
from pytest_mesocosm.errors import MesocosmError
from pytest_mesocosm.manifest.models import Manifest
from pytest_mesocosm.scoring.baseline import compare_to_baseline, format_comparison
from pytest_mesocosm.scoring.decide import DEFAULT_ALPHA, Decision
from pytest_mesocosm.scoring.gate import (
    GateResult,
    Threshold,
    ThresholdError,
    evaluate_gate,
    parse_threshold,
)
from pytest_mesocosm.scoring.metrics import RunMetrics, metric_bounds, score_run
from pytest_mesocosm.scoring.sequential import Look


@dataclass
class Verdict:
    """One manifest's run judged: metrics, gate, baseline lines and where it was written."""

    manifest: Manifest
    results: list[EpisodeResult]
    metrics: RunMetrics
    gate: GateResult
    results_path: Path
    planned: int
    interrupted: bool = False
    baseline_path: Path | None = None
    comparison: str | None = None
    regressions: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.gate.passed and not self.regressions

    @property
    def decision(self) -> Decision:
        """``passed``, ``failed``, or ``inconclusive`` (only when the gate's mode is
        ``error`` and undecided thresholds are all that keeps the run from passing)."""
        return "failed" if self.regressions else self.gate.decision

    @property
    def reasons(self) -> list[str]:
        return [*self.gate.reasons, *self.regressions]

    @property
    def broken(self) -> str | None:
        """``"env"`` or ``"model"`` when every episode ended in that kind of error (so the
        run says nothing about play), else None."""
        statuses = {r.status for r in self.results}
        if not statuses or not statuses <= {EpisodeStatus.ENV_ERROR, EpisodeStatus.MODEL_ERROR}:
            return None
        return "env" if EpisodeStatus.ENV_ERROR in statuses else "model"


def manifest_summary(manifest: Manifest) -> dict[str, Any]:
    """The manifest facts a results file or an export needs to stand on its own."""
    return {
        "manifest": {
            "name": manifest.name,
            "domain_id": manifest.domain_id,
            "binding_vow_version": manifest.binding_vow.version,
            "path": str(manifest.source_path) if manifest.source_path else None,
            "scoring": manifest.scoring.model_dump(by_alias=True),
        }
    }


def merged_thresholds(
    manifest: Manifest, config: BenchConfig, *, flag: str = "threshold option"
) -> list[Threshold]:
    """The manifest's thresholds, then the front end's; a bad one names where it came from
    (``flag``: how the front end calls its threshold option)."""
    names = [metric.name for metric in manifest.scoring.metrics]
    own = list(manifest.mesocosm.thresholds) if manifest.mesocosm else []
    sources = [(t, f"{manifest.source_path} mesocosm.thresholds") for t in own]
    sources += [(t, flag) for t in config.gate.thresholds if t not in own]
    parsed = []
    for text, origin in sources:
        try:
            parsed.append(parse_threshold(text, names))
        except ThresholdError as exc:
            raise ThresholdError(f"{origin}: {exc}") from None
    return parsed


def allowed_errors(manifest: Manifest, config: BenchConfig) -> int:
    if config.gate.allowed_errors is not None:
        return config.gate.allowed_errors
    return manifest.mesocosm.allowed_errors if manifest.mesocosm else 0


def per_manifest(path: Path, manifest: Manifest) -> Path:
    """``report.json`` -> ``report-<domain>.json``: one file per manifest of a run."""
    return path.with_name(f"{path.stem}-{manifest.domain_id}{path.suffix}")


def _episode_order(result: EpisodeResult) -> tuple[bool, int, int]:
    return result.seed is None, result.seed or 0, result.repeat


def judge(
    manifest: Manifest,
    results: Iterable[EpisodeResult],
    config: BenchConfig,
    *,
    folder: RunFolder,
    interrupted: bool = False,
    look: Look | None = None,
    notes: Mapping[str, Any] | None = None,
) -> Verdict:
    """Score, gate, compare with the baseline and write ``folder``'s results.json.

    ``look``: the sequential rule's last look, whose level decides the thresholds;
    ``notes``: more top-level keys for results.json (e.g. what a resumed run retried)."""
    ordered = sorted(results, key=_episode_order)
    metrics = score_run(manifest.scoring, ordered, metric_bounds(manifest))
    gate = gate_run(manifest, config, metrics, look)
    verdict = Verdict(manifest, ordered, metrics, gate, folder.results_path, config.planned,
                      interrupted=interrupted)
    if config.gate.baseline is not None:
        _compare(verdict, config)
    complete = len(ordered) >= config.planned and not interrupted
    extra = manifest_summary(manifest) | {
        "interrupted": interrupted, "gate": gate.to_dict(),
        "baseline_regressions": verdict.regressions, **(notes or {}),
    }
    folder.path.mkdir(parents=True, exist_ok=True)
    verdict.results_path = folder.write_results(config, ordered, metrics, extra,
                                                complete=complete)
    return verdict


def gate_run(
    manifest: Manifest, config: BenchConfig, metrics: RunMetrics, look: Look | None = None
) -> GateResult:
    """The gate of a scored run, at the level of ``look`` (95% without one)."""
    gate = evaluate_gate(metrics, merged_thresholds(manifest, config),
                         allowed_errors=allowed_errors(manifest, config),
                         inconclusive=config.gate.inconclusive,
                         alpha=look.spent if look else DEFAULT_ALPHA)
    gate.sequential = look.to_dict() if look else None
    return gate


def _load_baseline(
    path: Path, manifest: Manifest
) -> tuple[Path, list[EpisodeResult], RunMetrics | None]:
    """The baseline run of this manifest: the file itself, or its per-manifest twin
    (``report-<domain>.json``, as the plugin writes them for several manifests)."""
    for candidate in (path, per_manifest(path, manifest)):
        if candidate.exists():
            domain = (read_results(candidate).get("manifest") or {}).get("domain_id")
            if domain in (None, manifest.domain_id):
                _, results, metrics = load_results(candidate)
                return candidate, results, metrics
    raise MesocosmError(f"no results for {manifest.domain_id} in {path}")


def _compare(verdict: Verdict, config: BenchConfig) -> None:
    baseline, max_drop = config.gate.baseline, config.gate.max_drop
    assert baseline is not None
    try:
        found, before, metrics_before = _load_baseline(baseline, verdict.manifest)
    except MesocosmError as exc:  # missing or unreadable: said in the summary, verdict kept
        verdict.comparison = f"baseline: {exc}"
        if max_drop is not None:
            verdict.regressions.append(verdict.comparison)
        return
    comparison = compare_to_baseline(verdict.results, before, verdict.manifest.scoring,
                                     metrics_now=verdict.metrics, metrics_before=metrics_before)
    verdict.comparison = format_comparison(comparison)
    verdict.baseline_path = found
    if max_drop is not None:
        verdict.regressions += [f"baseline: {line}" for line in comparison.regressed(max_drop)]
