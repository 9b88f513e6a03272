"""``mesocosm register``: the legacy domain.py registration (a platform command)."""

from __future__ import annotations

import click

from mesocosm_cli.context import bench_url_option
from mesocosm_cli.group import platform_pending


@click.command()
@click.argument("domain_file", metavar="DOMAIN_FILE", type=click.Path(dir_okay=False))
@click.option("--auto-id", is_flag=True, help="Set the domain id to the parent folder's name.")
@click.option("--publish", is_flag=True, help="Publish the domain after registering it.")
@bench_url_option
@click.pass_context
def register(ctx: click.Context, /, **_options: object) -> None:
    """Legacy register domain.py; prefer env submit."""
    platform_pending(ctx)
