"""Where episodes play: the executor seam between the front ends and the episode loop.

Every front end opens one session per manifest with :func:`open_session` and asks it
for episodes (``run_one``/``run``); which executor stands behind it is the user's choice
(``config.executor.kind``):

``asyncio``  (default, nothing to install) :class:`~pytest_mesocosm.engine.session.BenchSession`:
             one adapter process and many episodes in flight on this process's event loop.
``ray``      (``pip install 'pytest-mesocosm[ray]'``) :class:`.ray_.RaySession`: Ray actors
             on a cluster, each holding an adapter process and a ``BenchSession`` of its own;
             results and traces come back here. Ray is imported only when chosen.

Both play episodes with the same ``run_episode()`` and hand back ``EpisodeResult`` s
whose traces are in this run folder, so the same ``judge()`` ends the run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Union

from pytest_mesocosm.engine.config import BenchConfig
from pytest_mesocosm.engine.session import BenchSession
from pytest_mesocosm.engine.traces import RunFolder
from pytest_mesocosm.errors import MesocosmError
from pytest_mesocosm.manifest.models import Manifest

if TYPE_CHECKING:
    from pytest_mesocosm.agents.base import Agent
    from pytest_mesocosm.engine.executors.ray_ import RaySession

Session = Union[BenchSession, "RaySession"]
RAY_MISSING = "the ray executor needs Ray on this machine: pip install 'pytest-mesocosm[ray]'"


def open_session(
    manifest: Manifest,
    config: BenchConfig,
    *,
    run_folder: RunFolder | None = None,
    agent: Agent | None = None,
) -> Session:
    """The session of the executor ``config`` names; enter it with ``async with``.

    ``agent`` is used by the in-process executor only: Ray actors make their own from
    ``config.agent`` (an agent object does not travel to another machine).
    """
    if config.executor.kind == "ray":
        try:
            from pytest_mesocosm.engine.executors.ray_ import RaySession
        except ImportError as exc:
            if (exc.name or "").split(".")[0] != "ray":
                raise
            raise MesocosmError(RAY_MISSING) from None
        return RaySession(manifest, config, run_folder=run_folder)
    return BenchSession(manifest, config, run_folder=run_folder, agent=agent)
