"""``mesocosm report``: one self-contained HTML file to read a run and replay its episodes.

Thin over :mod:`pytest_mesocosm.report`; accepts a run folder, its results.json or a
run export (``mesocosm run export -o x.json``), so local and platform runs read alike.
"""

from __future__ import annotations

from pathlib import Path

import click

from pytest_mesocosm.engine.traces import RESULTS_FILE


def default_output(source: Path) -> Path:
    """``report.html`` inside a run folder; ``x.html`` next to an export ``x.json``."""
    if source.is_dir():
        return source / "report.html"
    if source.name == RESULTS_FILE:
        return source.with_name("report.html")
    return source.with_suffix(".html")


@click.command()
@click.argument("source", metavar="RUN_DIR", type=click.Path(exists=True, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the HTML (default: report.html in the run folder, or the "
              "export's name with .html).")
@click.option("--baseline", type=click.Path(exists=True, path_type=Path), metavar="OTHER_RUN",
              help="An earlier run (folder, results.json or export) to compare with, seed by seed.")
def report(source: Path, output: Path | None, baseline: Path | None) -> None:
    """Write an HTML report with a replay viewer for a run folder or a run export."""
    from pytest_mesocosm.report.render import write_report

    out = write_report([source], output or default_output(source), baselines=[baseline])
    click.echo(f"report: {out} ({out.stat().st_size / 1024:.0f} KB)")
