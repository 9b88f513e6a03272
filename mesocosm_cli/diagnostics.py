"""What ``mesocosm doctor`` checks, each check with a hint that says what to do.

- bench-api: ``GET {base}/health``, and the URL itself (production without ``/bench``).
  In the local profile (``--local`` or ``MESOCOSM_LOCAL``) bench-api may be down: only the
  platform commands need it.
- the env adapter at ``MESOCOSM_ENV_URL`` / ``MESOCOSM_ADAPTER_URL`` (default :8765). When a
  manifest is present and nothing answers there, the manifest's adapter is started for the
  checks, so a fresh scaffold passes without a second terminal.
- with a manifest: the manifest itself, the conformance checks against the adapter, and
  whether the model can play (a warning only: the adapter is what doctor vouches for).

No click here; :mod:`mesocosm_cli.commands.doctor` prints the report.
"""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from mesocosm_platform.urls import (
    ADAPTER_URL_VARS,
    LOCAL_BENCH_URL,
    LOOPBACK_HOSTS,
    ResolvedURL,
    check_bench_url,
)
from pytest_mesocosm.errors import AdapterError, AgentError, ManifestError

if TYPE_CHECKING:
    from pytest_mesocosm.adapter.conformance import Finding
    from pytest_mesocosm.manifest.models import Manifest

BENCH_TIMEOUT = 5.0
ADAPTER_TIMEOUT = 2.0


@dataclass
class Check:
    """One check: ``status`` is pass, fail, warn or skip; ``detail`` says what was seen."""

    name: str
    status: str
    detail: str
    url: str | None = None


@dataclass
class DoctorReport:
    """What doctor prints: ok unless a check failed; issues explain failures, hints help."""

    local: bool
    checks: list[Check] = field(default_factory=list)
    issues: list[str] = field(default_factory=list)
    hints: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(check.status == "fail" for check in self.checks)

    def add(self, check: Check, *, issue: str | None = None, hint: str | None = None) -> None:
        self.checks.append(check)
        if issue:
            self.issues.append(issue)
        if hint:
            self.hints.append(hint)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "local": self.local,
            "checks": [asdict(check) for check in self.checks],
            "issues": self.issues,
            "hints": self.hints,
        }


def _is_loopback(url: str) -> bool:
    return httpx.URL(url).host in LOOPBACK_HOSTS


def check_bench_api(report: DoctorReport, bench: ResolvedURL) -> None:
    """GET /health on bench-api; a URL that looks wrong is an issue (a hint when local)."""
    url = bench.url
    problems = check_bench_url(url)
    if problems and not report.local:
        report.checks.append(Check("bench_api", "fail", problems[0], url))
        report.issues.extend(problems)
        return  # no point asking a URL known to be wrong
    report.hints.extend(problems)
    try:
        with httpx.Client(timeout=BENCH_TIMEOUT, trust_env=not _is_loopback(url)) as client:
            response = client.get(url + "/health")
    except (httpx.HTTPError, ValueError) as exc:
        detail = f"GET {url}/health failed: {type(exc).__name__}: {exc}"
        _bench_down(report, bench, detail)
        return
    if response.status_code != 200:
        _bench_down(report, bench, f"GET {url}/health answered {response.status_code}")
        return
    try:
        body = response.json()
    except ValueError:
        body = {}
    version = body.get("version") if isinstance(body, dict) else None
    suffix = f" (version {version})" if version else ""
    report.add(Check("bench_api", "pass", f"bench-api answers{suffix}", url))


def _bench_down(report: DoctorReport, bench: ResolvedURL, detail: str) -> None:
    if report.local:
        report.add(
            Check("bench_api", "warn", detail, bench.url),
            hint=f"bench-api at {bench.url} is down; fine for `mesocosm run local` "
            "(only the platform commands need it)",
        )
        return
    if _is_loopback(bench.url):
        fix = (f"start the local bench-api (it listens on {LOCAL_BENCH_URL}), or pass --local "
               "to check only the env adapter")
    else:
        fix = "check your network, or pass --base-url / set MESOCOSM_BASE_URL"
    report.add(
        Check("bench_api", "fail", detail, bench.url),
        issue=f"bench-api at {bench.url} (from {bench.source}) does not answer",
        hint=fix,
    )


def load_local_manifest(report: DoctorReport, path: Path | None) -> Manifest | None:
    """The manifest if one is here and valid; a broken one is a failed check."""
    from mesocosm_cli.localenv import find_manifest
    from pytest_mesocosm import load_manifest

    try:
        found = find_manifest(path)
    except ManifestError as exc:
        if path is not None:
            report.add(Check("manifest", "fail", str(exc)), issue=str(exc))
        else:
            report.add(
                Check("manifest", "skip", "no benchanything.json here (., auxiliary/, files/)"),
                hint="run `mesocosm init` to scaffold an environment, or pass --manifest",
            )
        return None
    try:
        manifest = load_manifest(found)
    except ManifestError as exc:
        report.add(
            Check("manifest", "fail", str(exc).splitlines()[0], str(found)),
            issue=str(exc),
            hint=f"run `mesocosm validate {found}` for every problem and its fix",
        )
        return None
    report.add(Check("manifest", "pass", f"{manifest.name} ({manifest.domain_id})", str(found)))
    return manifest


def diagnose_adapter(
    report: DoctorReport, adapter: ResolvedURL, manifest: Manifest | None, python: str | None
) -> None:
    """The adapter at the URL, else the manifest's (started for the checks), then conformance."""
    from pytest_mesocosm.adapter.connect import probe

    try:
        health = asyncio.run(probe(adapter.url, timeout=ADAPTER_TIMEOUT,
                                   setting=_setting(adapter)))
    except AdapterError as exc:
        report.add(Check("adapter", "fail", str(exc), adapter.url), issue=str(exc))
        return
    if health is not None:
        report.add(Check("adapter", "pass", f"adapter answers (env {health.get('env', '?')})",
                         adapter.url))
        if manifest is not None:
            _conformance(report, adapter.url, asyncio.run(_check(adapter.url, manifest)))
    elif manifest is not None:
        _start_and_check(report, adapter, manifest, python)
    elif report.local:
        report.add(
            Check("adapter", "fail", "nothing answers", adapter.url),
            issue=f"no env adapter answers at {adapter.url}",
            hint="start it with `python adapter.py` (or set MESOCOSM_ENV_URL to where it listens)",
        )
    else:
        report.add(Check("adapter", "skip", f"no adapter at {adapter.url}", adapter.url))


def _setting(adapter: ResolvedURL) -> str:
    """The variable to change: the one the URL came from, else the main one."""
    return adapter.source if adapter.source in ADAPTER_URL_VARS else ADAPTER_URL_VARS[0]


async def _check(url: str, manifest: Manifest) -> list[Finding]:
    from pytest_mesocosm.adapter.conformance import acheck_adapter

    return await acheck_adapter(url, vow=manifest.binding_vow)


async def _start_then_check(
    manifest: Manifest, python: str | None, log: Path
) -> tuple[str, list[Finding]]:
    from pytest_mesocosm import BenchConfig, adapter_for

    async with adapter_for(manifest, BenchConfig(python=python), log_path=log) as lease:
        return lease.url, await _check(lease.url, manifest)


def _start_and_check(
    report: DoctorReport, adapter: ResolvedURL, manifest: Manifest, python: str | None
) -> None:
    """Nothing answers at the URL: start the manifest's adapter just for the checks."""
    with tempfile.TemporaryDirectory(prefix="mesocosm-doctor-") as logs:
        try:
            url, findings = asyncio.run(_start_then_check(manifest, python,
                                                          Path(logs) / "adapter.log"))
        except AdapterError as exc:  # its message carries the log's last lines
            report.add(
                Check("adapter", "fail", str(exc).splitlines()[0], adapter.url),
                issue=f"nothing answers at {adapter.url} and {manifest.adapter} did not start: "
                f"{exc}",
                hint=f"run `python {manifest.adapter}` yourself to see the whole error",
            )
            return
    port = httpx.URL(adapter.url).port or 8765
    report.add(
        Check("adapter", "pass", f"nothing answered at {adapter.url}; started "
              f"{manifest.adapter} on {url} for the checks", url),
        hint=f"to serve it at {adapter.url}: `python {manifest.adapter} --port {port}`",
    )
    _conformance(report, url, findings)


def _conformance(report: DoctorReport, url: str, findings: list[Finding]) -> None:
    """The engine's contract findings: failures are issues, warnings hints."""
    failed = [f for f in findings if f.status == "fail"]
    for finding in findings:
        if finding.status == "fail":
            report.issues.append(f"conformance {finding.check}: {finding.message}")
        elif finding.status == "warn":
            report.hints.append(f"conformance {finding.check}: {finding.message}")
    passed = sum(f.status == "pass" for f in findings)
    report.checks.append(Check(
        "conformance",
        "fail" if failed else "pass",
        f"{passed} passed, {len(failed)} failed, {len(findings) - passed - len(failed)} warnings",
        url,
    ))


def check_model(report: DoctorReport, model: str, api_base: str | None, base_dir: Path) -> None:
    """Can the model play? Never a failure: a missing model is said as a warning with a fix."""
    from pytest_mesocosm import AgentOptions, make_agent

    async def preflight() -> None:
        agent = make_agent(AgentOptions(model=model, api_base=api_base), base_dir=base_dir)
        try:
            await agent.preflight()
        finally:
            await agent.aclose()

    try:
        asyncio.run(preflight())
    except AgentError as exc:
        report.add(Check("model", "warn", str(exc).splitlines()[0]), hint=f"model {model}: {exc}")
        return
    report.add(Check("model", "pass", f"{model} can play"))
