"""``mesocosm cache stats|prune``: look into and trim a manifest's recorded model calls.

The cassette folder is ``cassettes/`` beside ``benchanything.json`` (written by
``run local --cache use`` and ``pytest --mesocosm-cache use``); thin over
:mod:`pytest_mesocosm.agents.cassette`.
"""

from __future__ import annotations

from pathlib import Path

import click

from mesocosm_cli.exit_codes import USAGE, CliError
from mesocosm_cli.group import MesocosmGroup
from mesocosm_cli.localenv import find_manifest

_manifest_option = click.option(
    "--manifest", "manifest_path", type=click.Path(path_type=Path),
    help="benchanything.json or its folder (default: ./benchanything.json, else auxiliary/ "
    "or files/); its cassettes/ folder is the one looked at.",
)


def _folder(manifest_path: Path | None) -> Path:
    from pytest_mesocosm.agents.cassette import CASSETTE_DIR

    return find_manifest(manifest_path).parent / CASSETTE_DIR


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB"):
        if n < 1024 or unit == "MB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} MB"


@click.group(cls=MesocosmGroup)
def cache() -> None:
    """Recorded model calls (cassettes): what is there, and trimming it."""


@cache.command()
@_manifest_option
def stats(manifest_path: Path | None) -> None:
    """Entries, size on disk, and the tokens and cost they recorded, per model."""
    from pytest_mesocosm.agents.cassette import cassette_stats

    found = cassette_stats(_folder(manifest_path))
    click.echo(f"cassettes: {found.folder}")
    if not found.models:
        click.echo("nothing recorded yet: run with --cache use (or --mesocosm-cache use)")
        return
    rows = [("model", "entries", "size", "tokens", "cost")]
    for model, one in sorted(found.models.items()):
        rows.append((model, str(one.entries), _size(one.bytes), f"{one.tokens:,}",
                     f"${one.cost:.4f}"))
    rows.append(("total", str(found.entries), _size(found.bytes), "", ""))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


@cache.command()
@_manifest_option
@click.option("--model", help="Remove every entry of this model id (e.g. ollama/llama3.2).")
@click.option("--unused-days", type=click.FloatRange(min=0), metavar="DAYS",
              help="Remove entries not read or written for DAYS days (0: all).")
@click.option("--dry-run", is_flag=True, help="Only list what would be removed.")
def prune(manifest_path: Path | None, model: str | None, unused_days: float | None,
          dry_run: bool) -> None:
    """Remove recorded calls of a model, or those no run has used lately."""
    from pytest_mesocosm.agents.cassette import prune as prune_entries

    if model is None and unused_days is None:
        raise CliError("say what to prune: --model MODEL and/or --unused-days DAYS", USAGE)
    folder = _folder(manifest_path)
    doomed = prune_entries(folder, model=model, unused_days=unused_days, dry_run=dry_run)
    verb = "would remove" if dry_run else "removed"
    click.echo(f"{verb} {len(doomed)} entries from {folder}")
