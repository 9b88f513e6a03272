"""``mesocosm env``: developer environments submitted from GitHub (platform commands)."""

from __future__ import annotations

import click

from mesocosm_cli.context import bench_url_option
from mesocosm_cli.group import MesocosmGroup, platform_pending

_team = click.option("--team", metavar="TEAM_ID",
                     help="Explicit team id (overrides the active team).")
_solo = click.option("--solo", is_flag=True, help="Solo scope: no team_id.")


@click.group(cls=MesocosmGroup)
@bench_url_option
def env() -> None:
    """Submit, list and delete developer environments."""


@env.command()
@click.option("--name", required=True, help="Human-readable environment name.")
@click.option("--github-url", required=True, metavar="URL",
              help="Public GitHub repo URL; the platform clones it and reads benchanything.json.")
@click.option("--description", default="", show_default=False, help="Optional description.")
@_team
@_solo
@bench_url_option
@click.pass_context
def submit(ctx: click.Context, /, **_options: object) -> None:
    """Submit GitHub repo as developer environment."""
    platform_pending(ctx)


@env.command(name="list")
@_team
@_solo
@bench_url_option
@click.pass_context
def list_(ctx: click.Context, /, **_options: object) -> None:
    """List your developer environments."""
    platform_pending(ctx)


@env.command()
@click.argument("env_id", metavar="ENV_ID")
@bench_url_option
@click.pass_context
def delete(ctx: click.Context, env_id: str) -> None:
    """Delete a developer environment (member auth)."""
    platform_pending(ctx)
