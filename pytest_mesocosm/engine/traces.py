"""Per-episode trace files (JSONL) and the run folder that holds them with results.json.

A run folder is ``<runs_dir>/<run_id>/`` with ``results.json`` and ``traces/<label>.jsonl``
(``seed-3.jsonl``, ``seed-3-r2.jsonl`` for a repeat). Run ids sort by time:
``20261121-064502-3f2a`` (UTC, plus a random suffix so parallel runs never collide).

A trace has one JSON object per line, ``{"event": ..., "t": seconds since the writer
was created, ...fields}``, flushed line by line so a crash loses nothing already
written. The episode loop writes these events:

``episode_start``  episode_id, seed, repeat, model, domain (the writer adds ``started_at``,
                   the wall-clock ISO time, so exports can date every event)
``observation``    step, data, content_type (after reset: step 0; system_prompt if any)
``model_call``     step, messages, raw_text, reasoning, prompt_tokens, completion_tokens,
                   cost, latency, cached (null: no cache; true: read from the cassette,
                   no call made; false: called and recorded)
``action``         step, action
``step_result``    step, action, observation, reward, terminated, truncated, info
``invalid_action`` step, action, raw_text, reason
``episode_end``    status, reason, error, total_reward, steps, invalid_actions,
                   prompt_tokens, completion_tokens, cost, model_calls, cache_hits,
                   cache_misses, saved_tokens, saved_cost, wall_seconds, terminal_info

Values that JSON cannot hold are converted, never refused: bytes become base64,
NaN/inf become the strings "nan"/"inf"/"-inf", dataclasses and enums become their
dict/value, anything else its ``str()``.
"""

from __future__ import annotations

import base64
import dataclasses
import enum
import json
import math
import os
import secrets
import time
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO

from pytest_mesocosm.engine.outcomes import EpisodeResult
from pytest_mesocosm.errors import MesocosmError
from pytest_mesocosm.scoring.metrics import RunMetrics

RESULTS_SCHEMA = "mesocosm.results/1"
RESULTS_FILE = "results.json"
TRACES_DIR = "traces"
_SEPARATORS = (",", ":")


class TraceError(MesocosmError):
    """A run folder or trace file is missing or unreadable."""


def utc_iso(epoch: float | None = None) -> str:
    """An ISO-8601 UTC timestamp (``2026-11-21T06:45:02.123Z``), like the platform's."""
    moment = datetime.fromtimestamp(time.time() if epoch is None else epoch, timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _default(value: Any) -> Any:
    """json.dumps fallback for values JSON has no type for."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if hasattr(value, "model_dump"):  # pydantic models
        return value.model_dump(mode="json")
    return str(value)


def json_safe(value: Any, _depth: int = 0) -> Any:
    """A copy of ``value`` that strict JSON can hold (the slow path; see module doc)."""
    if _depth > 50:
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, Mapping):
        return {
            k if isinstance(k, str) else str(k): json_safe(v, _depth + 1) for k, v in value.items()
        }
    if isinstance(value, list):
        return [json_safe(v, _depth + 1) for v in value]
    return json_safe(_default(value), _depth + 1)


def dumps(record: Any, indent: int | None = None) -> str:
    """JSON text of ``record``; fast when it is plain, converted when it is not."""
    separators = None if indent else _SEPARATORS
    try:
        return json.dumps(
            record, separators=separators, indent=indent, allow_nan=False,
            ensure_ascii=False, default=_default,
        )
    except (ValueError, TypeError):  # NaN/inf, odd keys, cycles: take the careful path
        return json.dumps(
            json_safe(record), separators=separators, indent=indent, ensure_ascii=False
        )


class TraceWriter:
    """Appends trace events of one episode to a JSONL file, one flushed line per event."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.started_at = time.time()
        self._t0 = time.monotonic()
        self._file: TextIO | None = open(self.path, "w", encoding="utf-8")  # noqa: SIM115

    def write(self, event: str, **fields: Any) -> None:
        """Write one event line and flush it."""
        if self._file is None:
            raise TraceError(f"trace {self.path} is closed; cannot write event {event!r}")
        record = {"event": event, "t": round(time.monotonic() - self._t0, 6), **fields}
        if event == "episode_start":
            record.setdefault("started_at", utc_iso(self.started_at))
        self._file.write(dumps(record) + "\n")
        self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> TraceWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def read_trace(path: Path) -> list[dict[str, Any]]:
    """Read a trace; a torn last line (a crash mid-write) is dropped, other bad lines raise."""
    try:
        lines = Path(path).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as exc:
        raise TraceError(f"cannot read trace {path}: {exc.strerror or exc}") from exc
    events: list[dict[str, Any]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError as exc:
            if number == len(lines):
                break
            raise TraceError(f"trace {path} line {number} is not JSON: {exc.msg}") from exc
    return events


def new_run_id() -> str:
    """``20261121-064502-3f2a``: UTC time (sortable) and 4 random hex digits (unique)."""
    return time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + "-" + secrets.token_hex(2)


def trace_name(label: str) -> str:
    """File-safe name of an episode label: ``seed=3-r2`` -> ``seed-3-r2``."""
    safe = "".join(c if c.isalnum() or c in "._-" else "-" for c in label).strip(".")
    return safe or "episode"


def write_json_atomic(path: Path, data: Any, indent: int | None = 2) -> None:
    """Write JSON next to ``path`` and rename it into place: readers never see half a file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(dumps(data, indent=indent) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


class RunFolder:
    """One run on disk: ``results.json`` plus ``traces/``; see the module doc."""

    def __init__(self, path: Path, run_id: str | None = None, created_at: str | None = None):
        self.path = Path(path)
        self.run_id = run_id or self.path.name
        self.created_at = created_at or utc_iso()

    @classmethod
    def create(cls, runs_dir: Path, run_id: str | None = None) -> RunFolder:
        """Make a new, empty run folder; a given ``run_id`` must not exist yet."""
        runs_dir = Path(runs_dir)
        runs_dir.mkdir(parents=True, exist_ok=True)
        for _ in range(100):
            rid = run_id or new_run_id()
            try:
                (runs_dir / rid).mkdir()
            except FileExistsError as exc:
                if run_id:
                    raise TraceError(
                        f"run folder {runs_dir / rid} already exists; pick another run id"
                    ) from exc
                continue
            folder = cls(runs_dir / rid, rid)
            folder.traces_dir.mkdir()
            return folder
        raise TraceError(f"could not make a new run folder in {runs_dir}")

    @classmethod
    def open(cls, path: Path) -> RunFolder:
        """An existing run folder (a folder with results.json, or results.json itself)."""
        path = Path(path)
        if path.name == RESULTS_FILE:
            path = path.parent
        data = read_results(path / RESULTS_FILE)
        return cls(path, data.get("run_id"), data.get("created_at"))

    @property
    def traces_dir(self) -> Path:
        return self.path / TRACES_DIR

    @property
    def results_path(self) -> Path:
        return self.path / RESULTS_FILE

    def trace_path(self, label: str) -> Path:
        """Where an episode's trace goes, by its label (``seed=3-r2``) or episode id."""
        return self.traces_dir / f"{trace_name(label)}.jsonl"

    def write_results(
        self,
        config: Any,
        results: Iterable[EpisodeResult],
        metrics: Any = None,
        extra: Mapping[str, Any] | None = None,
        *,
        complete: bool = True,
    ) -> Path:
        """Write results.json atomically; ``complete=False`` marks an interrupted run.

        ``config`` and ``metrics`` may be dicts or objects with ``to_dict()``
        (BenchConfig, RunMetrics); ``extra`` adds top-level keys such as
        ``{"manifest": {"id", "name", "binding_vow": {"version"}}}``.
        """
        data: dict[str, Any] = {
            "schema": RESULTS_SCHEMA,
            "run_id": self.run_id,
            "created_at": self.created_at,
            "updated_at": utc_iso(),
            "complete": complete,
            "config": _as_dict(config),
            "results": [r.to_dict() for r in results],
            "metrics": _as_dict(metrics),
        }
        for key, value in (extra or {}).items():
            data.setdefault(key, value)
        write_json_atomic(self.results_path, data)
        return self.results_path


def _as_dict(value: Any) -> Any:
    return value.to_dict() if hasattr(value, "to_dict") else value


def read_results(path: Path) -> dict[str, Any]:
    """Read and check a results.json (or the run folder holding one)."""
    path = Path(path)
    if path.is_dir():
        path = path / RESULTS_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise TraceError(
            f"{path} not found; give a run folder (.mesocosm/runs/<run_id>) or its results.json"
        ) from exc
    except (OSError, ValueError) as exc:
        raise TraceError(f"cannot read {path}: {exc}") from exc
    if not isinstance(data, dict) or data.get("schema") != RESULTS_SCHEMA:
        found = data.get("schema") if isinstance(data, dict) else type(data).__name__
        raise TraceError(
            f"{path} is not a mesocosm results file (schema {found!r}, "
            f"expected {RESULTS_SCHEMA!r}); give the results.json of a run folder"
        )
    return data


def results_of(data: Mapping[str, Any], path: Path) -> list[EpisodeResult]:
    """The episode results stored in a results.json already read from ``path``."""
    try:
        return [EpisodeResult.from_dict(r) for r in data.get("results", [])]
    except (KeyError, TypeError, ValueError) as exc:
        raise TraceError(f"{path}: an episode entry is malformed ({exc!r})") from exc


def load_results(path: Path) -> tuple[dict[str, Any], list[EpisodeResult], RunMetrics | None]:
    """Read a results.json (or its run folder), e.g. a baseline: ``(config, results, metrics)``.

    ``metrics`` is ``None`` when the run was written without them (interrupted early).
    """
    data = read_results(path)
    try:
        metrics = RunMetrics.from_dict(data["metrics"]) if data.get("metrics") else None
    except (KeyError, TypeError, ValueError) as exc:
        raise TraceError(f"{path}: the metrics entry is malformed ({exc!r})") from exc
    return data.get("config") or {}, results_of(data, path), metrics
