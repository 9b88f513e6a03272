"""Cassettes: recorded model calls as plain files a repo can commit and review.

One folder per manifest (``cassettes/`` beside ``benchanything.json``), one sub-folder
per model, one JSON file per distinct request, named by the SHA-256 of the request::

    cassettes/ollama-llama3.2/3f5c...e1.json   {"key", "request", "response"}

The key is the exact request (model id, messages, temperature, max tokens, response
schema, forced tool, thinking switch), so a changed prompt or observation is another
file. Files are written with sorted keys and fixed indentation (the same request and
answer always give the same bytes), atomically (a temporary file renamed over the
target), so pytest-xdist workers or Ray actors recording into one folder never leave a
torn file; two writers of one key both write a whole, valid answer. No timestamps, no
transport settings: API keys and auth headers are never part of a request, and values
of ``*KEY*``/``*TOKEN*``/``*SECRET*``/``*PASSWORD*`` environment variables are blanked
out of anything written.
"""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import json
import os
import re
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pytest_mesocosm.agents.transport import Completion, ModelRequest

CASSETTE_DIR = "cassettes"
_SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|CREDENTIAL", re.I)
_REDACTED = "[redacted]"
_SLUG = re.compile(r"[^A-Za-z0-9._-]+")


def request_record(model: str, request: ModelRequest) -> dict[str, Any]:
    """The request as stored and hashed: everything the model is sent, nothing else."""
    data = asdict(request)
    data["model"] = model
    return data


def request_key(record: dict[str, Any]) -> str:
    text = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def model_slug(model: str) -> str:
    return _SLUG.sub("-", model).strip("-") or "model"


@dataclass
class Entry:
    """One recorded call: where it lives, what was asked, what came back."""

    path: Path
    request: dict[str, Any]
    response: dict[str, Any]

    def completion(self) -> Completion:
        known = {"text", "prompt_tokens", "completion_tokens", "cost", "reasoning",
                 "tool_arguments"}
        return Completion(**{k: v for k, v in self.response.items() if k in known})


class Cassette:
    """The recorded calls of one manifest's folder, read and written file by file."""

    def __init__(self, folder: Path):
        self.folder = folder

    def path_for(self, model: str, key: str) -> Path:
        return self.folder / model_slug(model) / f"{key}.json"

    def read(self, path: Path) -> Entry | None:
        """The entry at ``path``; None when absent or unreadable (a torn merge, say)."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return Entry(path, dict(data["request"]), dict(data["response"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def write(
        self, path: Path, request: dict[str, Any], completion: Completion,
        *, replace_before: float | None = None,
    ) -> Entry | None:
        """Record one answer atomically; first writer wins, and the winner is returned.

        Without ``replace_before`` an existing entry is kept (two workers asking the same
        request at once: both episodes go on with the one recorded answer, so a replay
        follows every episode's path). With it, an entry older than that time is replaced
        (``refresh``), a newer one - written by another worker of this run - is kept.
        Returns the entry kept instead of ``completion``, or None when ours was written.
        """
        response = asdict(completion)
        text = json.dumps({"key": path.stem, "request": request, "response": response},
                          sort_keys=True, indent=1, ensure_ascii=False) + "\n"
        text = redact(text)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            if replace_before is not None and not self._newer(path, replace_before):
                os.replace(tmp, path)
                return None
            try:
                os.link(tmp, path)  # atomic, and never over an existing file
                return None
            except FileExistsError:
                winner = self.read(path)
                if winner is None:  # unreadable (a torn merge): ours replaces it
                    os.replace(tmp, path)
                return winner
        finally:
            with contextlib.suppress(OSError):
                os.unlink(tmp)

    @staticmethod
    def _newer(path: Path, moment: float) -> bool:
        try:
            return path.stat().st_mtime >= moment
        except OSError:
            return False

    def touch(self, path: Path) -> None:
        """Mark an entry as used now (what ``prune --unused-days`` reads)."""
        with contextlib.suppress(OSError):
            os.utime(path)

    def has_entries(self, model: str) -> bool:
        return next((self.folder / model_slug(model)).glob("*.json"), None) is not None

    def entries(self, model: str | None = None) -> list[Entry]:
        """Every readable entry, of one model or all, in file-name order."""
        if not self.folder.is_dir():
            return []
        folders = ([self.folder / model_slug(model)] if model is not None
                   else sorted(p for p in self.folder.iterdir() if p.is_dir()))
        found = []
        for sub in folders:
            for path in sorted(sub.glob("*.json")) if sub.is_dir() else []:
                entry = self.read(path)
                if entry is not None:
                    found.append(entry)
        return found


def redact(text: str) -> str:
    """``text`` without the values of secret-looking environment variables."""
    for name, value in os.environ.items():
        if len(value) >= 8 and _SECRET_NAME.search(name) and value in text:
            text = text.replace(value, _REDACTED)
    return text


# -- what changed: the nearest recorded request ----------------------------------------


def nearest_difference(record: dict[str, Any], entries: list[Entry]) -> str:
    """How ``record`` differs from the most similar recorded request, in one phrase."""
    if not entries:
        return "nothing is recorded for this model"
    best = max(entries, key=lambda e: _similarity(record, e.request))
    return _difference(record, best.request) + f" ({best.path.name[:12]})"


def _similarity(new: dict[str, Any], old: dict[str, Any]) -> tuple[int, int, float]:
    fields_equal = sum(new.get(k) == old.get(k) for k in new if k != "messages")
    a, b = new.get("messages") or [], old.get("messages") or []
    leading = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        leading += 1
    ratio = 0.0
    if leading < min(len(a), len(b)):
        ratio = difflib.SequenceMatcher(
            None, _text(a[leading]), _text(b[leading]), autojunk=False
        ).quick_ratio()
    return leading, fields_equal, ratio


def _text(message: Any) -> str:
    content = message.get("content") if isinstance(message, dict) else message
    return content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)


def _difference(new: dict[str, Any], old: dict[str, Any]) -> str:
    for name in sorted(k for k in new if k != "messages"):
        if new.get(name) != old.get(name):
            return f"nearest recorded request has {name} {old.get(name)!r}, now {new.get(name)!r}"
    a, b = new.get("messages") or [], old.get("messages") or []
    for index, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            role = x.get("role", "?") if isinstance(x, dict) else "?"
            return (f"the {role} message (#{index + 1}) differs from the nearest recorded one: "
                    + _excerpt(_text(y), _text(x)))
    return f"nearest recorded request has {len(b)} messages, now {len(a)}"


def _excerpt(old: str, new: str, context: int = 30) -> str:
    """Recorded and new text around their first difference."""
    pairs = enumerate(zip(old, new, strict=False))
    at = next((i for i, (x, y) in pairs if x != y), min(len(old), len(new)))
    start = max(at - context, 0)

    def cut(text: str) -> str:
        return (("..." if start else "") + text[start:at + context]
                + ("..." if len(text) > at + context else ""))

    return f"recorded {cut(old)!r}, now {cut(new)!r}"


# -- stats and pruning (``mesocosm cache stats|prune``) ---------------------------------


@dataclass
class ModelStats:
    entries: int = 0
    bytes: int = 0
    tokens: int = 0
    cost: float = 0.0


@dataclass
class CassetteStats:
    folder: Path
    models: dict[str, ModelStats] = field(default_factory=dict)

    @property
    def entries(self) -> int:
        return sum(m.entries for m in self.models.values())

    @property
    def bytes(self) -> int:
        return sum(m.bytes for m in self.models.values())


def cassette_stats(folder: Path) -> CassetteStats:
    stats = CassetteStats(folder)
    for entry in Cassette(folder).entries():
        model = str(entry.request.get("model") or entry.path.parent.name)
        one = stats.models.setdefault(model, ModelStats())
        one.entries += 1
        one.bytes += entry.path.stat().st_size
        one.tokens += int(entry.response.get("prompt_tokens") or 0)
        one.tokens += int(entry.response.get("completion_tokens") or 0)
        one.cost += float(entry.response.get("cost") or 0.0)
    return stats


def prune(folder: Path, *, model: str | None = None, unused_days: float | None = None,
          dry_run: bool = False) -> list[Path]:
    """Delete the entries of ``model``, or those not read or written for ``unused_days``."""
    cutoff = None if unused_days is None else time.time() - unused_days * 86400
    doomed = [
        e.path for e in Cassette(folder).entries(model)
        if cutoff is None or e.path.stat().st_mtime < cutoff
    ]
    if not dry_run:
        for path in doomed:
            path.unlink(missing_ok=True)
        for sub in {p.parent for p in doomed}:
            with contextlib.suppress(OSError):
                sub.rmdir()  # only when it is now empty
    return doomed
