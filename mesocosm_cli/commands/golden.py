"""``mesocosm golden record|check``: the env's regression suite from the command line.

``record`` plays episodes with any agent (as ``run local`` does) and writes each one as a
golden file under ``.mesocosm/golden/<domain>/`` beside the manifest; ``check`` replays
every golden file against the env as it is now, with no model, and exits 1 naming the
first differing step of each that changed. Thin over :mod:`pytest_mesocosm.golden`.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import click

from mesocosm_cli.commands.run_local import SeedList, interpreter
from mesocosm_cli.exit_codes import FAILED, CliError
from mesocosm_cli.group import MesocosmGroup
from mesocosm_cli.localenv import find_manifest
from pytest_mesocosm.engine.config import DEFAULT_RUNS_DIR, BenchConfig

_DEFAULT = BenchConfig()


def _common(command: Any) -> Any:
    for option in reversed([
        click.option("--manifest", "manifest_path", type=click.Path(path_type=Path),
                      help="benchanything.json or its folder (default: ./benchanything.json, "
                      "else auxiliary/ or files/)."),
        click.option("--env-url", metavar="URL", help="Use the adapter running at URL "
                     "(default: start the manifest's adapter for the command)."),
        click.option("--python", metavar="PATH", help="Interpreter for adapter.py."),
        click.option("--out", "runs_dir", type=click.Path(file_okay=False, path_type=Path),
                     default=DEFAULT_RUNS_DIR, show_default=True,
                     help="Runs folder for the adapter log (and record's traces)."),
    ]):
        command = option(command)
    return command


@click.group(cls=MesocosmGroup)
def golden() -> None:
    """Record episodes as golden files and check the env still answers the same."""


@golden.command()
@_common
@click.option("--model", default="script:solver.py:policy", show_default=True,
              help="The agent whose actions are recorded: script:FILE.py:FUNCTION, "
              "replay:TRACE.jsonl or any LiteLLM model id.")
@click.option("--episodes", type=click.IntRange(min=1), default=_DEFAULT.episodes,
              show_default=True, help="Number of episodes (seeds 0..N-1).")
@click.option("--seeds", type=SeedList(), help='Integer seeds, e.g. "1 2 3".')
def record(**opts: Any) -> None:
    """Play episodes and write them as golden files."""
    from pytest_mesocosm import load_manifest, run_bench
    from pytest_mesocosm.engine.config import build_config
    from pytest_mesocosm.golden.check import record_goldens

    manifest = load_manifest(find_manifest(opts.pop("manifest_path")))
    opts["python"] = interpreter(opts["python"])
    config = build_config(opts)
    run = run_bench(manifest, config)
    if run.interrupted:
        raise CliError("interrupted; no golden file written", 130)
    written = asyncio.run(record_goldens(manifest, config, run.results,
                                         log_path=run.run_dir / "golden-adapter.log"))
    skipped = len(run.results) - len(written)
    for path in written:
        click.echo(f"recorded {path}")
    if skipped:
        click.echo(f"{skipped} episodes ended in env_error/model_error and were not recorded")
    if not written:
        raise CliError("no episode could be recorded; see the run's errors above", FAILED)


@golden.command()
@_common
@click.option("--ignore", multiple=True, metavar="PATH",
              help="A volatile path to ignore, e.g. info.timestamp (repeatable; added to each "
              "file's own 'ignore').")
def check(ignore: tuple[str, ...], **opts: Any) -> None:
    """Replay every golden file against the env; exit 1 on the first difference of each."""
    from pytest_mesocosm import load_manifest
    from pytest_mesocosm.engine.config import build_config
    from pytest_mesocosm.golden.check import check_goldens
    from pytest_mesocosm.golden.store import golden_dir

    manifest = load_manifest(find_manifest(opts.pop("manifest_path")))
    opts["python"] = interpreter(opts["python"])
    config = build_config(opts)
    config.runs_dir.mkdir(parents=True, exist_ok=True)
    checks = asyncio.run(check_goldens(manifest, config, ignore=ignore,
                                       log_path=config.runs_dir / "golden-adapter.log"))
    if not checks:
        raise CliError(f"no golden files in {golden_dir(manifest)}; record some with "
                       "`mesocosm golden record`", FAILED)
    changed = [c for c in checks if c.difference is not None]
    for item in checks:
        if item.difference is None:
            click.echo(f"same     {item.label}  {item.path}")
        else:
            click.echo(f"CHANGED  {item.difference.headline(item.label)}\n{item.difference.diff}")
    if changed:
        raise CliError(f"{len(changed)} of {len(checks)} golden files differ: "
                       + ", ".join(c.label for c in changed), FAILED)
    click.echo(f"{len(checks)} golden files: the env answers as recorded")
