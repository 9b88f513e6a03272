"""``--mesocosm-platform``: a manifest's seeds played as ONE run on a bench platform.

The runner has the interface of :class:`~pytest_mesocosm.plugin.runner.EpisodeRunner`, so
items, the summary and the gate are the plugin's own: the first episode asked for starts
the manifest's run (``POST /v1/runs`` with every planned seed as ``seed_set``), and each
item waits for its episode, matched by seed (and by repeat, in order, when a seed is
played several times). The platform's episodes become the engine's results
(:func:`mesocosm_platform.results.episode_result`), so a ``failed`` one fails its item.

The domain is ``--mesocosm-domain`` or the manifest's id (what ``register`` and
``env submit`` name it); the vow version is the manifest's. Under xdist, all items of a
manifest go to one worker (see ``state``), so there is one run per manifest.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mesocosm_platform.api import BenchApi
from mesocosm_platform.credentials import credentials_path, load_credentials, resolve_auth
from mesocosm_platform.errors import NotAuthenticated
from mesocosm_platform.results import episode_result
from mesocosm_platform.states import FINISHED_EPISODE_STATUSES, TERMINAL_RUN_STATUSES
from mesocosm_platform.urls import resolve_bench_url
from pytest_mesocosm.adapter.conformance import Finding
from pytest_mesocosm.engine.config import BenchConfig
from pytest_mesocosm.engine.outcomes import EpisodeResult
from pytest_mesocosm.engine.session import EpisodeRequest, effective_parallel, plan_episodes
from pytest_mesocosm.errors import MesocosmError, PlatformError
from pytest_mesocosm.manifest.models import Manifest
from pytest_mesocosm.plugin.runner import EpisodeRunner

POLL_SECONDS = 1.0
WAIT_SECONDS = 3600.0


def platform_api(url: str, env: dict[str, str]) -> BenchApi:
    """The bench API at ``url`` (or resolved as the CLI does when empty), with the token
    of the environment or the credentials file."""
    creds = load_credentials(credentials_path(env))
    if not url:
        url = resolve_bench_url(None, env=env, saved_bench_url=creds.bench_url,
                                saved_server_url=creds.server_url).url
    auth = resolve_auth(creds, env)
    if auth.mode is None:
        raise NotAuthenticated()
    from mesocosm_platform.client import request_timeout

    return BenchApi(url, token=auth.token, timeout=request_timeout(env))


@dataclass
class _PlatformRun:
    """One manifest's platform run: its id, or why it could not be created."""

    run_id: str | None = None
    failure: MesocosmError | None = None
    episodes: list[dict[str, Any]] = field(default_factory=list)
    status: str | None = None
    polled: bool = False


class PlatformRunner:
    """Creates one run per manifest and hands each item its episode's result."""

    def __init__(self, config: BenchConfig, local: EpisodeRunner, *, api: BenchApi,
                 domain: str | None):
        self.config = config
        self.local = local  # conformance items still check the adapter on this machine
        self.api = api
        self.domain = domain
        self._runs: dict[Path, _PlatformRun] = {}

    def _body(self, manifest: Manifest) -> dict[str, Any]:
        agent = self.config.agent
        seeds = [request.seed if request.seed is not None else i
                 for i, request in enumerate(plan_episodes(self.config))]
        return {
            "domain_id": self.domain or manifest.domain_id,
            "binding_vow_version": manifest.binding_vow.version,
            "agent_config": {"model": agent.model, "system_prompt": agent.system_prompt,
                             "temperature": agent.temperature, "max_tokens": agent.max_tokens},
            "num_episodes": len(seeds),
            "seed_set": seeds,
            "max_parallel": effective_parallel(manifest, self.config)[0],
            "visibility": "private",
        }

    def _start(self, manifest: Manifest) -> _PlatformRun:
        key = manifest.source_path or manifest.root
        run = self._runs.get(key)
        if run is None:
            try:
                made = self.api.create_run(self._body(manifest))
                run = _PlatformRun(run_id=str(made["id"]))
            except MesocosmError as exc:
                run = _PlatformRun(failure=exc)
            self._runs[key] = run
        if run.failure is not None:
            raise run.failure.with_traceback(None)
        return run

    def result(self, manifest: Manifest, request: EpisodeRequest,
               upcoming: Iterable[Any] = ()) -> EpisodeResult:
        """Wait for ``request``'s episode of the manifest's run and return its result."""
        run = self._start(manifest)
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            episode = self._episode(run, request)
            if episode is not None and episode.get("status") in FINISHED_EPISODE_STATUSES:
                result = episode_result(episode)
                result.repeat = request.repeat
                return result
            if run.status in TERMINAL_RUN_STATUSES:
                raise PlatformError(f"run {run.run_id} ended {run.status} without a finished "
                                    f"episode for {request.label}")
            if time.monotonic() >= deadline:
                raise PlatformError(f"run {run.run_id}: episode {request.label} did not finish "
                                    f"in {WAIT_SECONDS:g} s")
            if run.polled:
                time.sleep(POLL_SECONDS)
            self._poll(run)

    def _poll(self, run: _PlatformRun) -> None:
        assert run.run_id is not None
        run.status = self.api.get_run(run.run_id).get("status")
        run.episodes = self.api.run_episodes(run.run_id)
        run.polled = True

    def _episode(self, run: _PlatformRun, request: EpisodeRequest) -> dict[str, Any] | None:
        """The run's ``request.repeat``-th episode with this seed (ordered by id for a stable
        match when a seed repeats)."""
        same = sorted((ep for ep in run.episodes if ep.get("seed") == request.seed),
                      key=lambda ep: str(ep.get("id")))
        return same[request.repeat] if request.repeat < len(same) else None

    def findings(self, manifest: Manifest) -> list[Finding]:
        return self.local.findings(manifest)

    def close(self) -> None:
        self.local.close()
        self.api.close()
