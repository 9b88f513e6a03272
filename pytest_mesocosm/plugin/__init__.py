"""``pytest --mesocosm``: benchmark the environments of a repo as a pytest run.

This module is the ``pytest11`` entry point, so it is imported by every pytest session
on a machine where the package is installed. It only declares the options; nothing is
collected, started or imported (no LiteLLM, aiohttp, FastAPI) unless ``--mesocosm`` is
given. Then, as pytest-xdist does it, two plugin objects split the run: the episode
plugin (:class:`~pytest_mesocosm.plugin.episodes.EpisodePlugin`) in every process that
collects and runs items (not the xdist controller, so its workers start sooner), and the
reporting plugin (:class:`~pytest_mesocosm.plugin.controller.ReportingPlugin`) only in the
process the user reads (alone, or the xdist controller). The work is the engine's; the
modules here only adapt it to pytest:

``options``    flags, ini twins, validation           ``items``     manifest file, episode and
``episodes``   the episode plugin, every process                    contract items
``controller`` the reporting plugin, controller only  ``report``    judge, reports, summary
``runner``     one event loop, sessions, look-ahead   ``failures``  last turns of a failed episode
``lookahead``  which items this process runs next     ``scheduling`` xdist: P items per worker
``golden``     golden files as items, and recording   ``resume``    --mesocosm-resume
``decided``    --mesocosm-until-decided's extra batches  ``ahead``  the first adapter, spawned early
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from pytest_mesocosm.plugin.options import Settings, add_options, read_settings

if TYPE_CHECKING:
    from pytest_mesocosm.plugin.episodes import EpisodePlugin

PLUGIN_NAME = "mesocosm-run"
REPORTER_NAME = "mesocosm-report"
STATE: pytest.StashKey[EpisodePlugin] = pytest.StashKey()
REPORT_KEY = "mesocosm"  # the test report attribute that carries an episode's result
RUN_ID_KEY = "mesocosm_run_id"  # workerinput key: one run id for the controller and workers
DIST_KEY = "mesocosm_dist"  # workerinput key: the controller's --dist (a worker's says "no")


def distributed_by_load(config: pytest.Config) -> bool:
    """An xdist worker of a ``--dist load`` run: it is first sent items from the head of
    the list, so it will play the first manifest's episodes."""
    return (getattr(config, "workerinput", None) or {}).get(DIST_KEY) == "load"


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    enabled = bool(config.getoption("mesocosm"))
    golden = any(config.getoption(f"mesocosm_{name}") or config.getini(f"mesocosm_{name}")
                 for name in ("golden", "golden_record"))
    if not (enabled or golden):
        return
    settings = read_settings(config)
    _configure_golden(config, settings, enabled=enabled)
    if not enabled:
        return
    from pytest_mesocosm.engine.traces import new_run_id

    workerinput = getattr(config, "workerinput", None)
    run_id = (workerinput or {}).get(RUN_ID_KEY) or settings.resume_id or new_run_id()
    # the xdist controller only schedules: the engine is not imported there, unless it
    # must check a --mesocosm-platform session before any worker starts
    if settings.platform is not None or not _xdist_controller(config):
        if settings.platform is None:  # it boots while the engine below is imported
            from pytest_mesocosm.plugin.ahead import spawn_first_adapter

            spawn_first_adapter(config, settings)
        from pytest_mesocosm.plugin.episodes import EpisodePlugin

        plugin = EpisodePlugin(config, settings, run_id=run_id)
        config.stash[STATE] = plugin
        config.pluginmanager.register(plugin, PLUGIN_NAME)
    if workerinput is None:  # alone, or the xdist controller
        from pytest_mesocosm.plugin.controller import ReportingPlugin

        reporter = ReportingPlugin(config, settings, run_id=run_id)
        config.pluginmanager.register(reporter, REPORTER_NAME)
    from pytest_mesocosm.plugin.manifests_only import ManifestsOnly
    from pytest_mesocosm.plugin.notices import show_notices

    show_notices(config)
    config.pluginmanager.register(ManifestsOnly(bool(settings.only)), "mesocosm-only")


def pytest_unconfigure(config: pytest.Config) -> None:
    if config.getoption("mesocosm"):  # nothing outlives the run, whatever stopped it
        from pytest_mesocosm.adapter.ahead import stop_unclaimed

        stop_unclaimed()


def _configure_golden(config: pytest.Config, settings: Settings, *, enabled: bool) -> None:
    """``--mesocosm-golden`` (alone or beside ``--mesocosm``) and ``--mesocosm-golden-record``."""
    if settings.golden_record and not enabled:
        raise pytest.UsageError("--mesocosm-golden-record needs --mesocosm: the episodes it "
                                "records are the ones the run plays")
    if not (settings.golden or settings.golden_record):
        return
    from pytest_mesocosm.plugin.golden import GOLDEN_NAME, GoldenPlugin, GoldenRecorder

    if settings.golden:
        config.pluginmanager.register(GoldenPlugin(settings), GOLDEN_NAME)
    if settings.golden_record and not hasattr(config, "workerinput"):
        config.pluginmanager.register(GoldenRecorder(settings), "mesocosm-golden-record")


def _xdist_controller(config: pytest.Config) -> bool:
    """The process hands items to xdist workers and neither collects nor runs them (the
    test xdist applies before starting its distributed session)."""
    return (not hasattr(config, "workerinput") and config.getoption("dist", "no") != "no"
            and not config.getoption("collectonly"))
