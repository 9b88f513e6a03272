"""Render runs into one self-contained HTML file: templates, CSS, JS and data inlined.

The file makes no network request (no CDN, no fonts, no images by URL), so it opens from
a CI artifact or a mail attachment. The replay data goes to the page as gzipped JSON in
base64 (a 1,000-episode run's traces shrink about tenfold; ``bench/report_size.py``): the
viewer unpacks it with the browser's own ``DecompressionStream``, and base64 cannot close
the script element, whatever the traces hold. The viewer writes trace text with
``textContent`` only; everything else is autoescaped by Jinja2.
"""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2

from pytest_mesocosm.engine.traces import dumps, utc_iso
from pytest_mesocosm.report.model import OUTCOMES, run_view
from pytest_mesocosm.report.source import RunSource, load_source


def pack(data: Any) -> str:
    """``data`` as gzipped JSON in base64, the form the viewer unpacks."""
    return base64.b64encode(gzip.compress(dumps(data).encode("utf-8"), mtime=0)).decode("ascii")


def unpack(text: str) -> Any:
    """The inverse of :func:`pack` (for tests and tools that read a report back)."""
    return json.loads(gzip.decompress(base64.b64decode(text)).decode("utf-8"))


def _asset(name: str) -> str:
    return (resources.files("pytest_mesocosm.report") / "assets" / name).read_text(
        encoding="utf-8"
    )


def _fmt(value: Any, digits: int = 3) -> str:
    """Numbers as people read them in a table; ``-`` for no value."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}g}" if abs(value) >= 1000 else f"{value:.{digits}f}"
    return str(value)


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("pytest_mesocosm.report", "templates"),
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["fmt"] = _fmt
    return env


def render_report(
    sources: Sequence[RunSource],
    *,
    baselines: Sequence[RunSource | None] = (),
    title: str | None = None,
) -> str:
    """The HTML text of a report on ``sources`` (one section per run); ``baselines[i]``,
    when given, is the run ``sources[i]`` is compared with."""
    paired = list(baselines) + [None] * (len(sources) - len(baselines))
    runs = [run_view(source, i, before) for i, (source, before) in
            enumerate(zip(sources, paired, strict=True))]
    data = {"runs": [{"index": r["index"], "name": r["name"], "replays": r.pop("replays")}
                     for r in runs]}
    template = _environment().get_template("report.html.j2")
    return template.render(
        title=title or " + ".join(dict.fromkeys(r["name"] for r in runs)) or "mesocosm run",
        generated_at=utc_iso(), runs=runs, outcomes=OUTCOMES,
        css=_asset("report.css"), js=_asset("report.js"), data=pack(data),
    )


def write_report(
    paths: Sequence[Path],
    out: Path,
    *,
    baselines: Sequence[Path | None] = (),
    title: str | None = None,
) -> Path:
    """Read runs (folders, results.json or exports), and the baselines of those that have
    one, and write their report to ``out``."""
    sources = [load_source(p) for p in paths]
    before = [load_source(b) if b is not None else None for b in baselines]
    html = render_report(sources, baselines=before, title=title)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html, encoding="utf-8")
    return out
