"""``pytest --mesocosm``: benchmark the environments of a repo as a pytest run.

This module is the ``pytest11`` entry point, so it is imported by every pytest session
on a machine where the package is installed. It only declares the options; nothing is
collected, started or imported (no LiteLLM, aiohttp, FastAPI) unless ``--mesocosm`` is
given, and then one plugin object, :class:`~pytest_mesocosm.plugin.state.MesocosmPlugin`,
holds the run. The work is the engine's; the modules here only adapt it to pytest:

``options``    flags, ini twins, validation           ``items``     manifest file, episode and
``state``      the plugin object and its hooks                      contract items
``runner``     one event loop, sessions, look-ahead   ``report``    gate, baseline, reports
``lookahead``  which items this process runs next     ``failures``  last turns of a failed episode
``scheduling`` xdist: keep P items queued per worker
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from pytest_mesocosm.plugin.options import add_options, read_settings

if TYPE_CHECKING:
    from pytest_mesocosm.plugin.state import MesocosmPlugin

PLUGIN_NAME = "mesocosm-run"
STATE: pytest.StashKey[MesocosmPlugin] = pytest.StashKey()


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    if not config.getoption("mesocosm"):
        return
    settings = read_settings(config)
    from pytest_mesocosm.plugin.state import MesocosmPlugin

    plugin = MesocosmPlugin(config, settings)
    config.stash[STATE] = plugin
    config.pluginmanager.register(plugin, PLUGIN_NAME)
    from pytest_mesocosm.plugin.manifests_only import ManifestsOnly
    from pytest_mesocosm.plugin.notices import show_notices

    show_notices(config)
    config.pluginmanager.register(ManifestsOnly(bool(settings.values["only"])), "mesocosm-only")
