"""``mesocosm team``: teams on the platform, and the active team saved in the credentials.

Every command but ``use`` and ``clear`` needs a member token; ``use`` and ``clear`` only
edit ``active_team_id`` in the credentials file. Output lines are the hosted CLI's.
"""

from __future__ import annotations

import click

from mesocosm_cli.context import CliContext, bench_url_option, pass_cli
from mesocosm_cli.group import MesocosmGroup
from mesocosm_cli.output import echo_json
from mesocosm_platform.credentials import save_credentials

_team_id = click.argument("team_id", metavar="TEAM_ID")
_user_id = click.option("--user-id", required=True, type=int, metavar="USER_ID",
                        help="The member's integer user id (see `team show`).")


@click.group(cls=MesocosmGroup)
@bench_url_option
def team() -> None:
    """Create, join and manage teams; set the active team."""


def _set_active(obj: CliContext, team_id: str | None) -> None:
    """Save ``active_team_id``, and the bench URL in use when the file has none."""
    creds = obj.credentials
    creds.active_team_id = team_id
    if team_id is not None and not creds.bench_url:
        creds.bench_url = obj.bench_url().url
    save_credentials(creds, obj.credentials_path)


@team.command()
@click.option("--name", required=True, help="Display name for the new team.")
@click.option("--use", is_flag=True, help="Save the new team as active_team_id.")
@bench_url_option
@pass_cli
def create(obj: CliContext, name: str, use: bool) -> None:
    """Create team; optionally set active."""
    with obj.api(member=True) as api:
        made = api.create_team(name)
    click.echo(f"team_id={made['team_id']}")
    click.echo(f"join_code={made.get('join_code')}  "
               f"({made.get('member_count')}/{made.get('max_members')} members)")
    if use:
        _set_active(obj, made["team_id"])


@team.command()
@click.argument("code", metavar="CODE")
@bench_url_option
@pass_cli
def join(obj: CliContext, code: str) -> None:
    """Join team using invite code."""
    with obj.api(member=True) as api:
        joined = api.join_team(code)
    click.echo(f"Joined {joined.get('name')} ({joined.get('member_count')}/"
               f"{joined.get('max_members')}) team_id={joined.get('team_id')}")


@team.command(name="list")
@bench_url_option
@pass_cli
def list_(obj: CliContext) -> None:
    """List teams you belong to."""
    with obj.api(member=True) as api:
        teams = api.list_teams()
    for row in teams:
        line = (f"{row.get('team_id')}  {row.get('name')}  "
                f"({row.get('member_count')}/{row.get('max_members')})  {row.get('role')}")
        if row.get("join_code"):
            line += f"  code={row['join_code']}"
        click.echo(line)


@team.command()
@_team_id
@bench_url_option
@pass_cli
def show(obj: CliContext, team_id: str) -> None:
    """Print team details as JSON."""
    with obj.api(member=True) as api:
        echo_json(api.get_team(team_id))


@team.command()
@_team_id
@bench_url_option
@pass_cli
def use(obj: CliContext, team_id: str) -> None:
    """Set active team in credentials."""
    _set_active(obj, team_id)
    click.echo(f"Active team set to {team_id}")


@team.command()
@bench_url_option
@pass_cli
def clear(obj: CliContext) -> None:
    """Clear active team; use solo default."""
    if obj.credentials.active_team_id is not None:
        _set_active(obj, None)
    click.echo("Active team cleared (solo default).")


@team.command()
@_team_id
@bench_url_option
@pass_cli
def runs(obj: CliContext, team_id: str) -> None:
    """List runs for a team."""
    with obj.api(member=True) as api:
        echo_json(api.team_runs(team_id))


@team.group(cls=MesocosmGroup)
@bench_url_option
def code() -> None:
    """Show or rotate a team's join code."""


@code.command(name="show")
@_team_id
@bench_url_option
@pass_cli
def code_show(obj: CliContext, team_id: str) -> None:
    """Show team including join code."""
    with obj.api(member=True) as api:
        echo_json(api.get_team(team_id))


@code.command()
@_team_id
@bench_url_option
@pass_cli
def regenerate(obj: CliContext, team_id: str) -> None:
    """Rotate team join invite code."""
    with obj.api(member=True) as api:
        click.echo(f"join_code={api.regenerate_join_code(team_id).get('join_code')}")


@team.group(cls=MesocosmGroup)
@bench_url_option
def members() -> None:
    """Manage team members (owner)."""


@members.command()
@_team_id
@_user_id
@bench_url_option
@pass_cli
def remove(obj: CliContext, team_id: str, user_id: int) -> None:
    """Remove member from team (owner)."""
    with obj.api(member=True) as api:
        api.remove_member(team_id, user_id)
    click.echo("Member removed.")


@team.command()
@_team_id
@_user_id
@bench_url_option
@pass_cli
def transfer(obj: CliContext, team_id: str, user_id: int) -> None:
    """Transfer team ownership to user."""
    with obj.api(member=True) as api:
        api.transfer_team(team_id, user_id)
    click.echo("Ownership transferred.")


@team.command()
@_team_id
@bench_url_option
@pass_cli
def leave(obj: CliContext, team_id: str) -> None:
    """Leave a team you belong to."""
    with obj.api(member=True) as api:
        api.leave_team(team_id)
    _forget(obj, team_id)
    click.echo("Left team.")


@team.command()
@_team_id
@bench_url_option
@pass_cli
def delete(obj: CliContext, team_id: str) -> None:
    """Delete a team (owner)."""
    with obj.api(member=True) as api:
        api.delete_team(team_id)
    _forget(obj, team_id)
    click.echo("Team deleted.")


def _forget(obj: CliContext, team_id: str) -> None:
    """A team left or deleted stops being the active one (runs would be refused with 403)."""
    if obj.credentials.active_team_id == team_id:
        _set_active(obj, None)
