"""The harness's side of an adapter: the HTTP client and the process that serves it.

One import path for both halves, which live in their own modules (one job each):
:mod:`pytest_mesocosm.adapter.client` speaks the wire contract, and
:mod:`pytest_mesocosm.adapter.process` runs ``python adapter.py --port N``. Built on
them: :mod:`~pytest_mesocosm.adapter.connect` (``adapter_for()``: a URL, or the started
process) and :mod:`~pytest_mesocosm.adapter.conformance` (the contract checks), which
import the two halves from here.
"""

from __future__ import annotations

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
