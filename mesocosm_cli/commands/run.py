"""``mesocosm run``: bench locally (``run local``) or on the platform (create/export/get/episodes).

``run local`` lives in :mod:`mesocosm_cli.commands.run_local`; the platform subcommands
are declared here with the reference's flags and wait for the platform client.
"""

from __future__ import annotations

import click

from mesocosm_cli.commands.run_local import local
from mesocosm_cli.context import base_url_option, bench_url_option
from mesocosm_cli.group import MesocosmGroup, platform_pending

_run_id = click.argument("run_id", metavar="RUN_ID")


@click.group(cls=MesocosmGroup)
@bench_url_option
def run() -> None:
    """Bench locally or start and inspect platform runs."""


run.add_command(local)


@run.command()
@click.option("--domain", required=True, help="Target domain id.")
@click.option("--vow-version", required=True, help="Binding vow version, e.g. 1.0.0.")
@click.option("--model", required=True, help="Model id, e.g. gemini/gemini-3.1-flash-lite.")
@click.option("--episodes", type=int, default=1, show_default=True, help="Episode count.")
@click.option("--parallel", type=int, default=1, show_default=True, help="Max parallel episodes.")
@click.option("--system-prompt", help="Optional system prompt in agent_config.")
@click.option("--temperature", type=float, default=0.0, show_default=True,
              help="Agent temperature.")
@click.option("--max-tokens", type=int, default=512, show_default=True,
              help="Max tokens per step.")
@click.option("--team", metavar="TEAM_ID", help="Explicit team id on the run.")
@click.option("--solo", is_flag=True, help="Do not attach the active team.")
@click.option("--visibility", type=click.Choice(["private", "gallery_public"]),
              help="Who may see the run.")
@click.option("--env-id", help="Developer environment id to pin env URL/runtime.")
@bench_url_option
@click.pass_context
def create(ctx: click.Context, /, **_options: object) -> None:
    """Start platform bench run via API."""
    platform_pending(ctx)


@run.command()
@_run_id
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="Write the JSON to this file (default: stdout).")
@bench_url_option
@click.pass_context
def export(ctx: click.Context, /, **_options: object) -> None:
    """Download run JSON for showcase or replay."""
    platform_pending(ctx)


@run.command()
@_run_id
@base_url_option
@click.pass_context
def get(ctx: click.Context, run_id: str) -> None:
    """Fetch run status and aggregate scores."""
    platform_pending(ctx)


@run.command()
@_run_id
@click.option("--traces", is_flag=True, help="Also fetch run traces keyed by episode.")
@base_url_option
@click.pass_context
def episodes(ctx: click.Context, run_id: str, traces: bool) -> None:
    """List episodes for a run; optional traces."""
    platform_pending(ctx)
