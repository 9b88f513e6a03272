"""``mesocosm init``: scaffold an environment repo that validates, serves and plays at once."""

from __future__ import annotations

from pathlib import Path

import click

from mesocosm_cli.context import bench_url_option
from mesocosm_cli.exit_codes import CliError
from mesocosm_cli.scaffold import scaffold


@click.command()
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path),
              default=Path("."), show_default=True, help="Target directory (created if missing).")
@click.option("--force", is_flag=True, help="Overwrite existing scaffold files.")
@bench_url_option
def init(directory: Path, force: bool) -> None:
    """Scaffold benchanything.json, adapter, env, showcase."""
    try:
        written = scaffold(directory, force=force)
    except OSError as exc:
        raise CliError(
            f"cannot write the scaffold in {directory}: {exc.strerror or exc} "
            f"({exc.filename or directory}); pick another --dir or fix its permissions"
        ) from exc
    for item in written:
        if item.action == "skipped":
            click.echo(f"skipped  {item.path} (exists; --force overwrites it)")
        else:
            click.echo(f"{item.action:<8} {item.path}")
    where = "" if directory == Path(".") else f"cd {directory} && "
    click.echo(
        "\nnext:\n"
        f"  {where}mesocosm validate benchanything.json\n"
        "  mesocosm doctor --local\n"
        "  mesocosm run local --model script:solver.py:policy\n"
        "see LOCAL_DEV.md for the rest"
    )
