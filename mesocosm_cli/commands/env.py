"""``mesocosm env``: developer environments submitted from GitHub.

``submit`` and ``list`` attach the active team unless ``--solo`` (``--team`` overrides it).
Beyond the hosted CLI: ``list`` shows each environment's domain id (what ``run create
--domain`` needs), and ``submit --wait`` follows onboarding to ``ready`` or ``failed``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

from mesocosm_cli.context import CliContext, bench_url_option, pass_cli
from mesocosm_cli.exit_codes import FAILED, CliError
from mesocosm_cli.group import MesocosmGroup
from mesocosm_cli.output import echo_json
from mesocosm_platform.states import TERMINAL_ENV_STATUSES

if TYPE_CHECKING:
    from mesocosm_platform.api import BenchApi

_team = click.option("--team", metavar="TEAM_ID",
                     help="Explicit team id (overrides the active team).")
_solo = click.option("--solo", is_flag=True, help="Solo scope: no team_id.")


def team_for(obj: CliContext, team: str | None, solo: bool) -> str | None:
    """``--team``, else nothing with ``--solo``, else the saved active team."""
    if team and solo:
        raise click.UsageError("--team and --solo exclude each other; pass one of them")
    if solo:
        return None
    return team or obj.credentials.active_team_id


@click.group(cls=MesocosmGroup)
@bench_url_option
def env() -> None:
    """Submit, list and delete developer environments."""


@env.command()
@click.option("--name", required=True, help="Human-readable environment name.")
@click.option("--github-url", required=True, metavar="URL",
              help="Public GitHub repo URL; the platform clones it and reads benchanything.json. "
                   "A local folder is sent as its absolute path (servers started with "
                   "--allow-local-endpoints accept it).")
@click.option("--description", default="", show_default=False, help="Optional description.")
@_team
@_solo
@click.option("--wait", is_flag=True,
              help="Follow onboarding (pending -> cloning -> ready/failed); exit 1 if it fails.")
@click.option("--timeout", type=click.FloatRange(min=1), default=900, show_default=True,
              help="With --wait: seconds to wait for onboarding.")
@bench_url_option
@pass_cli
def submit(obj: CliContext, name: str, github_url: str, description: str, team: str | None,
           solo: bool, wait: bool, timeout: float) -> None:
    """Submit GitHub repo as developer environment."""
    if Path(github_url).expanduser().is_dir():  # a local clone, for a server on this machine
        github_url = str(Path(github_url).expanduser().resolve())
    body = {"name": name, "description": description, "github_url": github_url}
    team_id = team_for(obj, team, solo)
    if team_id:
        body["team_id"] = team_id
    with obj.api(member=True) as api:
        made = api.submit_env(body)
        echo_json(made)
        if wait:
            _follow_onboarding(api, str(made["id"]), timeout)


def _follow_onboarding(api: BenchApi, env_id: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    last = None
    while True:
        state = api.poll_env(env_id)
        status = state.get("status")
        if status != last:
            click.echo(f"environment {env_id}: {status}", err=True)
            last = status
        if status in TERMINAL_ENV_STATUSES:
            break
        if time.monotonic() >= deadline:
            raise CliError(f"environment {env_id} is still {status} after {timeout:g} s; "
                           "check it later with `mesocosm env list`", FAILED)
        time.sleep(1.0)
    if status == "failed":
        raise CliError(f"environment {env_id} failed: {state.get('error_message')}", FAILED)
    click.echo(f"environment {env_id} ready: domain={state.get('domain_id')}  "
               f"env_url={state.get('env_url')}", err=True)


@env.command(name="list")
@_team
@_solo
@bench_url_option
@pass_cli
def list_(obj: CliContext, team: str | None, solo: bool) -> None:
    """List your developer environments (with their domain ids)."""
    team_id = team_for(obj, team, solo)
    params = {"scope": "team", "team_id": team_id} if team_id else {}
    with obj.api(member=True) as api:
        envs = api.list_envs(params)
    for row in envs:
        click.echo(f"{row.get('id')}  {row.get('status')}  {row.get('scope')}  {row.get('name')}"
                   f"  domain={row.get('domain_id') or '-'}")


@env.command()
@click.argument("env_id", metavar="ENV_ID")
@bench_url_option
@pass_cli
def delete(obj: CliContext, env_id: str) -> None:
    """Delete a developer environment (member auth)."""
    with obj.api(member=True) as api:
        api.delete_env(env_id)
    click.echo("Environment deleted.")
