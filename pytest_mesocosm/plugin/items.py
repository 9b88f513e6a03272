"""The collected tree: a benchanything.json file, its episode items and contract items.

Node ids are ``<path>/benchanything.json::<Name>[seed=3]`` (``[seed=3-r2]`` for a
repeat) and ``::<Name>[contract-reset]``, in the order :func:`bench.plan_episodes` gives,
so every xdist worker collects the same list. Episodes are played in ``setup`` (a model
that cannot be reached makes the item an *error*), judged in ``runtest`` (an environment
that broke makes it a *failure*); a lost game passes: the gate judges play, not items.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from pytest_mesocosm.adapter.conformance import RULES, Finding
from pytest_mesocosm.engine.outcomes import EpisodeResult, EpisodeStatus
from pytest_mesocosm.engine.session import EpisodeRequest, plan_episodes
from pytest_mesocosm.errors import AgentError, ManifestError, MesocosmError
from pytest_mesocosm.manifest.models import Manifest, load_manifest
from pytest_mesocosm.plugin import STATE
from pytest_mesocosm.plugin.failures import describe_failure
from pytest_mesocosm.scoring.gate import ThresholdError, parse_thresholds

if TYPE_CHECKING:
    from pytest_mesocosm.plugin.episodes import EpisodePlugin

CONTRACT_CHECKS = tuple(rule.__name__.removeprefix("check_") for rule in RULES)


class ConformanceWarning(UserWarning):
    """A soft contract problem: lenient clients cope, but the env should fix it."""


class EpisodeFailed(Exception):
    """The environment broke during the episode (``env_error``)."""

    def __init__(self, result: EpisodeResult):
        super().__init__(result.error)
        self.result = result


def _plugin(node: pytest.Item | pytest.Collector) -> EpisodePlugin:
    return node.config.stash[STATE]


def display_name(manifest: Manifest) -> str:
    """The manifest's name as a node name: ``::`` and brackets would break node ids."""
    return manifest.name.replace("::", ":").replace("[", "(").replace("]", ")")


class ManifestFile(pytest.File):
    """A benchanything.json; a broken one is one collection error with the fix, no trace."""

    def collect(self) -> Iterator[pytest.Item]:
        plugin = _plugin(self)
        try:
            manifest = load_manifest(self.path)
        except ManifestError as exc:
            raise self.CollectError(str(exc)) from None
        self._check_thresholds(plugin, manifest)
        name = display_name(manifest)
        if plugin.settings.conformance:
            for check in CONTRACT_CHECKS:
                yield ContractItem.from_parent(
                    self, **self._named(name, f"contract-{check}"), manifest=manifest,
                    check=check,
                )
        for request in plan_episodes(plugin.bench_config):
            yield EpisodeItem.from_parent(
                self, **self._named(name, request.label), manifest=manifest, episode=request
            )

    def _named(self, name: str, params: str) -> dict[str, str]:
        """``name[params]`` as a parametrized item's name and node id, so pytest reads
        the brackets as parameters. pytest >= 9.2 parses a stored id (``--lf``, ``--ff``)
        into a name and parameters and compares it with the item's own parsed id; a child
        id built from the name alone keeps the brackets in the name and never matches."""
        full = f"{name}[{params}]"
        return {"name": full, "nodeid": f"{self.nodeid}::{full}"}

    def _check_thresholds(self, plugin: EpisodePlugin, manifest: Manifest) -> None:
        """A flag naming no metric of this manifest is caught now, not after the run
        (``load_manifest`` already checks the manifest's own thresholds)."""
        names = [metric.name for metric in manifest.scoring.metrics]
        try:
            parse_thresholds(plugin.bench_config.gate.thresholds, names)
        except ThresholdError as exc:
            raise self.CollectError(f"--mesocosm-threshold for {self.path}: {exc}") from None


def unstarted_result(
    manifest: Manifest, request: EpisodeRequest, exc: MesocosmError
) -> EpisodeResult:
    """The record of an episode that could not start, so the gate still counts it."""
    status = EpisodeStatus.MODEL_ERROR if isinstance(exc, AgentError) else EpisodeStatus.ENV_ERROR
    return EpisodeResult(
        episode_id=f"{manifest.domain_id}-{request.label}-not-started", seed=request.seed,
        repeat=request.repeat, status=status, error=str(exc),
    )


class EpisodeItem(pytest.Item):
    """One episode of one manifest under the run's model."""

    def __init__(self, *, manifest: Manifest, episode: EpisodeRequest, **kwargs: Any):
        super().__init__(**kwargs)
        self.manifest = manifest
        self.episode = episode
        self.result: EpisodeResult | None = None

    def setup(self) -> None:
        result, unstarted = self._play()
        self._record(result)
        if unstarted:  # failed here, not in the `except`: no exception chain is shown
            pytest.fail(unstarted, pytrace=False)
        if result.status is EpisodeStatus.MODEL_ERROR:
            pytest.fail(f"{self.manifest.name}: model error in episode {self.episode.label}: "
                        f"{result.error}", pytrace=False)

    def _play(self) -> tuple[EpisodeResult, str | None]:
        """The episode's result, or a stand-in and the reason its session did not start."""
        plugin = _plugin(self)
        try:
            return plugin.runner.result(self.manifest, self.episode, plugin.upcoming(self)), None
        except MesocosmError as exc:
            why = f"{self.manifest.name}: {exc}"
            return unstarted_result(self.manifest, self.episode, exc), why

    def _record(self, result: EpisodeResult) -> None:
        """Keep the result and put the JUnit properties on the item (--junitxml shows them)."""
        self.result = result
        self.user_properties += [
            ("reward", result.total_reward), ("steps", result.steps),
            ("outcome", result.status.value), ("tokens", result.tokens),
        ]
        _plugin(self).record(self, result)

    def runtest(self) -> None:
        assert self.result is not None
        if self.result.status is EpisodeStatus.ENV_ERROR:
            raise EpisodeFailed(self.result)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, EpisodeFailed):
            return describe_failure(self.name, excinfo.value.result)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Any, int | None, str]:
        return self.path, None, self.name


class ContractFailed(Exception):
    """The adapter broke the wire contract or a promise of its vow."""


class ContractItem(pytest.Item):
    """One conformance rule checked against the manifest's adapter (``--mesocosm-conformance``)."""

    def __init__(self, *, manifest: Manifest, check: str, **kwargs: Any):
        super().__init__(**kwargs)
        self.manifest = manifest
        self.check = check
        self.findings: list[Finding] = []

    def setup(self) -> None:
        every = self._check()
        if isinstance(every, str):  # failed here, not in the `except`: no exception chain
            pytest.fail(every, pytrace=False)
        self.findings = findings_of(every, self.check)
        if not self.findings:
            mine = CONTRACT_CHECKS.index(self.check)
            earlier = [f.check for f in every if f.status == "fail"
                       and f.check in CONTRACT_CHECKS[:mine]]
            pytest.skip(f"not checked: {', '.join(earlier)} failed first" if earlier
                        else "nothing to check: the binding vow does not promise it")

    def _check(self) -> list[Finding] | str:
        try:
            return _plugin(self).runner.findings(self.manifest)
        except MesocosmError as exc:
            return f"{self.manifest.name}: cannot check the adapter: {exc}"

    def runtest(self) -> None:
        for finding in self.findings:  # shown in the warnings summary, at the adapter file
            if finding.status == "warn":
                warnings.warn_explicit(f"{finding.check}: {finding.message}", ConformanceWarning,
                                       filename=self._adapter(), lineno=0)
        failed = [f for f in self.findings if f.status == "fail"]
        if failed:
            raise ContractFailed("\n".join(f"{f.check}: {f.message}" for f in failed))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, ContractFailed):
            return f"{self._adapter()}: {excinfo.value}"
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Any, int | None, str]:
        return self.path, None, self.name

    def _adapter(self) -> str:
        """The adapter's path as shown in failures and warnings: relative to the rootdir."""
        path = self.manifest.adapter_path
        return str(path.relative_to(self.config.rootpath)
                   if path.is_relative_to(self.config.rootpath) else path)


def findings_of(findings: list[Finding], check: str) -> list[Finding]:
    """The findings of one rule. A rule may report under another name (``step`` also
    judges ``reward``); such findings belong to the rule whose findings precede them."""
    mine: list[Finding] = []
    owner: str | None = None
    for finding in findings:
        if finding.check in CONTRACT_CHECKS:
            owner = finding.check
        if owner == check:
            mine.append(finding)
    return mine
