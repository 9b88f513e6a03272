"""The harness's side of an adapter: the HTTP client and the process that serves it.

One import path for both halves, which live in their own modules (one job each):
:mod:`pytest_mesocosm.adapter.client` speaks the wire contract, and
:mod:`pytest_mesocosm.adapter.process` runs ``python adapter.py --port N``.
"""

from __future__ import annotations

from pytest_mesocosm.adapter.client import (
    AdapterClient,
    Observation,
    StepResponse,
    parse_observation,
    parse_step,
)
from pytest_mesocosm.adapter.process import AdapterProcess

__all__ = [
    "AdapterClient",
    "AdapterProcess",
    "Observation",
    "StepResponse",
    "parse_observation",
    "parse_step",
]
