"""The golden file: one JSON file per recorded episode, stable key order, made to be
reviewed in a diff and committed.

``.mesocosm/golden/<domain_id>/seed-<N>.json`` (``seed-<N>-r<R>.json`` for a repeat)
beside the manifest holds the seed, the scenario parameters, the volatile paths this
episode ignores (``ignore``, edited by the author), the reset observation and, for every
action sent, what the env answered (or that it rejected the action, and why).
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_mesocosm.engine.traces import write_json_atomic
from pytest_mesocosm.errors import MesocosmError
from pytest_mesocosm.manifest.models import Manifest

SCHEMA = "mesocosm.golden/1"
GOLDEN_DIR = Path(".mesocosm") / "golden"


class GoldenError(MesocosmError):
    """A golden file is missing, unreadable or not a golden file (a user mistake)."""


@dataclass
class GoldenEpisode:
    """One recorded episode: what was sent and what the env answered at every step."""

    domain_id: str
    seed: int | None
    repeat: int = 0
    scenario_params: dict[str, Any] = field(default_factory=dict)
    recorded_with: str | None = None  # the agent whose actions these are
    ignore: list[str] = field(default_factory=list)  # volatile paths of this episode
    reset: dict[str, Any] = field(default_factory=dict)  # {"observation": {...}}
    steps: list[dict[str, Any]] = field(default_factory=list)

    @property
    def label(self) -> str:
        base = f"seed={self.seed}"
        return f"{base}-r{self.repeat}" if self.repeat else base

    @property
    def actions(self) -> list[Any]:
        return [step["action"] for step in self.steps]

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA, "domain_id": self.domain_id, "seed": self.seed,
            "repeat": self.repeat, "scenario_params": self.scenario_params,
            "recorded_with": self.recorded_with, "ignore": self.ignore,
            "reset": self.reset, "steps": self.steps,
        }


def golden_dir(manifest: Manifest) -> Path:
    """Where a manifest's goldens live: beside it, so the env repo commits them."""
    return manifest.root / GOLDEN_DIR / manifest.domain_id


def file_name(seed: int | None, repeat: int = 0) -> str:
    base = f"seed-{'none' if seed is None else seed}"
    return f"{base}-r{repeat}.json" if repeat else f"{base}.json"


def write_golden(manifest: Manifest, golden: GoldenEpisode) -> Path:
    """Write (or overwrite) a golden file, keeping the ``ignore`` list an author edited."""
    path = golden_dir(manifest) / file_name(golden.seed, golden.repeat)
    if path.exists():
        with contextlib.suppress(GoldenError):  # a broken file is replaced
            golden.ignore = sorted({*read_golden(path).ignore, *golden.ignore})
    path.parent.mkdir(parents=True, exist_ok=True)
    data = json.loads(json.dumps(golden.to_dict(), sort_keys=True))
    write_json_atomic(path, data, indent=2)
    return path


def read_golden(path: Path) -> GoldenEpisode:
    """Read one golden file; a broken one is a one-line :class:`GoldenError`."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise GoldenError(f"cannot read golden file {path}: {exc.strerror or exc}") from exc
    except ValueError as exc:
        raise GoldenError(f"golden file {path} is not JSON ({exc}); record it again") from exc
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise GoldenError(f"{path} is not a golden file (expected schema {SCHEMA!r}); "
                          "record it again with --mesocosm-golden-record")
    ignore = data.get("ignore") or []
    if not isinstance(ignore, list) or not all(isinstance(p, str) for p in ignore):
        raise GoldenError(f"{path}: 'ignore' must be a list of paths like 'info.timestamp'")
    return GoldenEpisode(
        domain_id=str(data.get("domain_id")), seed=data.get("seed"),
        repeat=int(data.get("repeat") or 0), scenario_params=data.get("scenario_params") or {},
        recorded_with=data.get("recorded_with"), ignore=list(ignore),
        reset=data.get("reset") or {}, steps=list(data.get("steps") or []),
    )


def golden_files(manifest: Manifest) -> list[Path]:
    """A manifest's golden files, in seed order."""
    folder = golden_dir(manifest)
    if not folder.is_dir():
        return []
    return sorted(folder.glob("seed-*.json"), key=_seed_order)


def _seed_order(path: Path) -> tuple[int, int, str]:
    parts = path.stem.split("-")
    try:
        seed = int(parts[1])
    except (IndexError, ValueError):
        return (1, 0, path.name)
    repeat = int(parts[2][1:]) if len(parts) > 2 and parts[2][1:].isdigit() else 0
    return (0, seed * 1000 + repeat, path.name)
