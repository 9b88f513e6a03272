"""``mesocosm team``: teams on the platform, and the active team saved in the credentials.

``use`` and ``clear`` only edit ``active_team_id`` in the credentials file (no API call),
so they work now; the rest wait for the platform client.
"""

from __future__ import annotations

import click

from mesocosm_cli.context import CliContext, bench_url_option, pass_cli
from mesocosm_cli.group import MesocosmGroup, platform_pending
from mesocosm_platform.credentials import save_credentials

_team_id = click.argument("team_id", metavar="TEAM_ID")
_user_id = click.option("--user-id", required=True, metavar="USER_ID", help="The member's user id.")


@click.group(cls=MesocosmGroup)
@bench_url_option
def team() -> None:
    """Create, join and manage teams; set the active team."""


@team.command()
@click.option("--name", required=True, help="Display name for the new team.")
@click.option("--use", is_flag=True, help="Save the new team as active_team_id.")
@bench_url_option
@click.pass_context
def create(ctx: click.Context, name: str, use: bool) -> None:
    """Create team; optionally set active."""
    platform_pending(ctx)


@team.command()
@click.argument("code", metavar="CODE")
@bench_url_option
@click.pass_context
def join(ctx: click.Context, code: str) -> None:
    """Join team using invite code."""
    platform_pending(ctx)


@team.command(name="list")
@bench_url_option
@click.pass_context
def list_(ctx: click.Context) -> None:
    """List teams you belong to."""
    platform_pending(ctx)


@team.command()
@_team_id
@bench_url_option
@click.pass_context
def show(ctx: click.Context, team_id: str) -> None:
    """Print team details as JSON."""
    platform_pending(ctx)


@team.command()
@_team_id
@bench_url_option
@pass_cli
def use(obj: CliContext, team_id: str) -> None:
    """Set active team in credentials."""
    creds = obj.credentials
    creds.active_team_id = team_id
    save_credentials(creds, obj.credentials_path)
    click.echo(f"active team: {team_id} (saved in {obj.credentials_path})")


@team.command()
@bench_url_option
@pass_cli
def clear(obj: CliContext) -> None:
    """Clear active team; use solo default."""
    creds = obj.credentials
    if creds.active_team_id is None:
        click.echo("no active team; runs and environments are solo")
        return
    creds.active_team_id = None
    save_credentials(creds, obj.credentials_path)
    click.echo("active team cleared; runs and environments are solo")


@team.command()
@_team_id
@bench_url_option
@click.pass_context
def runs(ctx: click.Context, team_id: str) -> None:
    """List runs for a team."""
    platform_pending(ctx)


@team.group(cls=MesocosmGroup)
def code() -> None:
    """Show or rotate a team's join code."""


@code.command(name="show")
@_team_id
@bench_url_option
@click.pass_context
def code_show(ctx: click.Context, team_id: str) -> None:
    """Show team including join code."""
    platform_pending(ctx)


@code.command()
@_team_id
@bench_url_option
@click.pass_context
def regenerate(ctx: click.Context, team_id: str) -> None:
    """Rotate team join invite code."""
    platform_pending(ctx)


@team.group(cls=MesocosmGroup)
def members() -> None:
    """Manage team members (owner)."""


@members.command()
@_team_id
@_user_id
@bench_url_option
@click.pass_context
def remove(ctx: click.Context, team_id: str, user_id: str) -> None:
    """Remove member from team (owner)."""
    platform_pending(ctx)


@team.command()
@_team_id
@_user_id
@bench_url_option
@click.pass_context
def transfer(ctx: click.Context, team_id: str, user_id: str) -> None:
    """Transfer team ownership to user."""
    platform_pending(ctx)


@team.command()
@_team_id
@bench_url_option
@click.pass_context
def leave(ctx: click.Context, team_id: str) -> None:
    """Leave a team you belong to."""
    platform_pending(ctx)


@team.command()
@_team_id
@bench_url_option
@click.pass_context
def delete(ctx: click.Context, team_id: str) -> None:
    """Delete a team (owner)."""
    platform_pending(ctx)
