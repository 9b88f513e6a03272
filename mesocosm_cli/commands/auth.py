"""``mesocosm auth``: member login, guest sessions, the saved token.

``login``, ``guest`` and ``whoami`` talk to the platform and wait for its client;
``token`` and ``logout`` only read or delete the credentials file, so they work now.
"""

from __future__ import annotations

import click

from mesocosm_cli.context import CliContext, bench_url_option, pass_cli
from mesocosm_cli.exit_codes import CliError
from mesocosm_cli.group import MesocosmGroup, platform_pending
from mesocosm_platform.credentials import clear_credentials


@click.group(cls=MesocosmGroup)
@bench_url_option
def auth() -> None:
    """Log in, guest sessions, saved token."""


@auth.command()
@click.option("--server-url", metavar="URL",
              help="Login server (else SWECC_SERVER_URL, MESOCOSM_LOCAL -> "
              "http://127.0.0.1:8000, else https://api.swecc.org).")
@bench_url_option
@click.pass_context
def login(ctx: click.Context, server_url: str | None) -> None:
    """Log in; prompts for username and password."""
    platform_pending(ctx)


@auth.command()
@bench_url_option
@pass_cli
def token(obj: CliContext) -> None:
    """Print saved member JWT for curl or scripts."""
    creds, path = obj.credentials, obj.credentials_path
    if not creds.token:
        raise CliError(f"no saved token in {path}; run `mesocosm auth login` first")
    if creds.mode == "guest":
        raise CliError(
            f"{path} holds a guest session; `auth token` prints a member JWT: "
            "run `mesocosm auth login`"
        )
    click.echo(creds.token)


@auth.command()
@bench_url_option
@click.pass_context
def guest(ctx: click.Context) -> None:
    """Create guest session on bench-api."""
    platform_pending(ctx)


@auth.command()
@bench_url_option
@click.pass_context
def whoami(ctx: click.Context) -> None:
    """Show current principal via GET /v1/me."""
    platform_pending(ctx)


@auth.command()
@pass_cli
def logout(obj: CliContext) -> None:
    """Clear saved credentials file."""
    path = obj.credentials_path
    if clear_credentials(path):
        click.echo(f"deleted {path}")
    else:
        click.echo(f"no credentials at {path}; nothing to clear")
