"""``mesocosm auth``: member login, guest sessions, the saved token.

Unlike the hosted CLI, ``login`` and ``guest`` keep the file's ``active_team_id`` (and any
key a newer CLI wrote): they replace the session, not the user's choices.
"""

from __future__ import annotations

import getpass
import sys

import click

from mesocosm_cli.context import CliContext, bench_url_option, pass_cli
from mesocosm_cli.exit_codes import CliError
from mesocosm_cli.group import MesocosmGroup
from mesocosm_cli.output import echo_json
from mesocosm_platform.credentials import clear_credentials, save_credentials
from mesocosm_platform.urls import resolve_bench_url


@click.group(cls=MesocosmGroup)
@bench_url_option
def auth() -> None:
    """Log in, guest sessions, saved token."""


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""


def _read_password() -> str:
    """Hidden prompt on a terminal; one line of stdin otherwise (``echo pw | mesocosm ...``)."""
    if sys.stdin is not None and sys.stdin.isatty():
        return str(click.prompt("Password", hide_input=True, default="", show_default=False))
    click.echo("Password: ", nl=False, err=True)
    line = sys.stdin.readline() if sys.stdin is not None else ""
    click.echo(err=True)
    return line.rstrip("\r\n")


@auth.command()
@click.option("--server-url", metavar="URL",
              help="Login server (else SWECC_SERVER_URL, MESOCOSM_LOCAL -> "
              "http://127.0.0.1:8000, else https://api.swecc.org).")
@bench_url_option
@pass_cli
def login(obj: CliContext, server_url: str | None) -> None:
    """Log in; prompts for username and password (the password may come on stdin)."""
    server = obj.server_url(server_url).url
    username = str(click.prompt("Username", default=_os_user() or None, err=True)).strip()
    if not username:
        raise CliError("Username cannot be empty.")
    password = _read_password()
    if not password:
        raise CliError("Password cannot be empty.")
    from mesocosm_platform.api import member_login

    token = member_login(server, username, password, timeout=obj.timeout)
    bench = resolve_bench_url(obj.url_flag, env=obj.env, saved_server_url=server,
                              flag_name=obj.url_flag_name).url
    creds = obj.credentials
    creds.mode, creds.token, creds.server_url, creds.bench_url = "member", token, server, bench
    save_credentials(creds, obj.credentials_path)
    click.echo("Logged in. Member JWT saved.")


@auth.command()
@bench_url_option
@pass_cli
def token(obj: CliContext) -> None:
    """Print saved member JWT for curl or scripts."""
    creds = obj.credentials
    if not creds.token or creds.mode == "guest":
        raise CliError("No member session. Run: mesocosm auth login")
    click.echo(creds.token)


@auth.command()
@bench_url_option
@pass_cli
def guest(obj: CliContext) -> None:
    """Create guest session on bench-api."""
    url = obj.guest_bench_url().url
    with obj.anonymous_api(url) as api:
        session = api.guest_session()
    creds = obj.credentials
    creds.mode, creds.token, creds.bench_url = "guest", session["guest_token"], url
    creds.server_url = None
    save_credentials(creds, obj.credentials_path)
    click.echo(f"Guest session created (expires {session.get('expires_at')}).")


@auth.command()
@bench_url_option
@pass_cli
def whoami(obj: CliContext) -> None:
    """Show current principal via GET /v1/me."""
    with obj.api(anonymous=True) as api:
        me = api.me()
    echo_json(me)
    if me.get("type") == "anonymous" and obj.auth().mode == "guest":
        raise CliError(
            f"Guest token was not recognized at this bench-api URL ({api.base_url}); "
            "run `mesocosm auth guest` again, or pass the URL it was created at with --bench-url"
        )


@auth.command()
@pass_cli
def logout(obj: CliContext) -> None:
    """Clear saved credentials file."""
    clear_credentials(obj.credentials_path)
    click.echo("Credentials cleared.")
