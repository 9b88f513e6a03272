"""The harness's side of an adapter: the HTTP client and the process that serves it.

One import path for both halves, which live in their own modules (one job each):
:mod:`pytest_mesocosm.adapter.client` speaks the wire contract, and
:mod:`pytest_mesocosm.adapter.process` runs ``python adapter.py --port N``. Built on
them: :mod:`~pytest_mesocosm.adapter.connect` (``adapter_for()``: a URL, or the started
process), :mod:`~pytest_mesocosm.adapter.ahead` (adapters spawned before they are asked
for) and :mod:`~pytest_mesocosm.adapter.conformance` (the contract checks).

The names are imported on first use, so spawning a process early does not wait for
the client's aiohttp.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pytest_mesocosm.lazy import lazy_exports

if TYPE_CHECKING:
    from pytest_mesocosm.adapter.client import (
        AdapterClient,
        Observation,
        StepResponse,
        parse_flag,
        parse_observation,
        parse_reward,
        parse_step,
    )
    from pytest_mesocosm.adapter.process import AdapterProcess

_HOMES = {
    "AdapterClient": "client",
    "AdapterProcess": "process",
    "Observation": "client",
    "StepResponse": "client",
    "parse_flag": "client",
    "parse_observation": "client",
    "parse_reward": "client",
    "parse_step": "client",
}

__all__ = [
    "AdapterClient",
    "AdapterProcess",
    "Observation",
    "StepResponse",
    "parse_flag",
    "parse_observation",
    "parse_reward",
    "parse_step",
]


__getattr__, __dir__ = lazy_exports(__name__, _HOMES, __all__)
