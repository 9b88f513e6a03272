"""``mesocosm server``: run a self-hosted bench platform, and manage its members.

The server package is imported only when the command runs, so the rest of the CLI
starts without FastAPI, SQLAlchemy or Alembic.
"""

from __future__ import annotations

import sys
from typing import Any

import click


def _settings(**given: Any) -> Any:
    from pydantic import ValidationError

    from mesocosm_server.settings import ServerSettings

    chosen = {k: v for k, v in given.items() if v is not None}
    try:
        return ServerSettings(**chosen)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(p) for p in error["loc"])
        raise click.ClickException(
            f"setting {field}: {error['msg']} (flag --{field.replace('_', '-')} or "
            f"MESOCOSM_SERVER_{field.upper()})") from exc


def _database_option(f: Any) -> Any:
    return click.option("--database-url", default=None, metavar="URL",
                        help="sqlite:///path or postgresql+psycopg://...; default "
                             "./.mesocosm/server.db (MESOCOSM_SERVER_DATABASE_URL).")(f)


@click.group(invoke_without_command=True)
@click.option("--host", default=None, help="Address of the login routes and /bench "
              "(default 127.0.0.1; MESOCOSM_SERVER_HOST).")
@click.option("--port", type=int, default=None, help="Port (default 8000).")
@click.option("--bench-port", type=int, default=None,
              help="The bench API alone on 127.0.0.1 (default 8010, as MESOCOSM_LOCAL "
                   "expects); 0 turns it off.")
@_database_option
@click.option("--workers", type=click.IntRange(min=0), default=None,
              help="Episodes played at once by this server (default 10); 0 serves the API "
                   "only, for servers sharing a PostgreSQL database with worker servers.")
@click.option("--allow-local-endpoints", is_flag=True, default=None,
              help="Let domains point at loopback and private addresses (one machine, tests).")
@click.option("--models", default=None, metavar="A,B",
              help="Comma list of allowed models; empty (default): every model.")
@click.option("--admins", default=None, metavar="A,B",
              help="Comma list of member usernames who may read GET /v1/admin/status "
                   "(every user's failures); default: nobody.")
@click.pass_context
def server(ctx: click.Context, models: str | None, admins: str | None, **flags: Any) -> None:
    """Serve a bench platform that answers the hosted API: SQLite by default, one command."""
    if ctx.invoked_subcommand is not None:
        return
    if models is not None:
        flags["models"] = [m.strip() for m in models.split(",") if m.strip()]
    if admins is not None:
        flags["admins"] = [a.strip() for a in admins.split(",") if a.strip()]
    settings = _settings(**flags)
    from mesocosm_server.serve import serve

    where = f"http://{settings.host}:{settings.port}"
    click.echo(f"mesocosm server: login at {where}/auth/, bench API at {where}/bench"
               + (f" and http://127.0.0.1:{settings.bench_port}" if settings.bench_port else "")
               + f"; database {settings.sqlalchemy_url.split('@')[-1]}", err=True)
    try:
        serve(settings)
    except OSError as exc:
        raise click.ClickException(f"cannot serve: {exc}; pick another --port") from exc


@server.group()
def users() -> None:
    """Member accounts of this server."""


@users.command("add")
@click.argument("name")
@_database_option
def users_add(name: str, database_url: str | None) -> None:
    """Add member NAME; the password is asked for, or read from stdin when piped."""
    from mesocosm_server.users import UserExists, add_user

    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\n")
    if not password:
        raise click.ClickException("the password is empty: type one, or pipe it on stdin")
    try:
        user_id = add_user(_settings(database_url=database_url), name.strip(), password)
    except UserExists as exc:
        raise click.ClickException(f"user {exc} already exists; pick another name") from exc
    click.echo(f"added {name} (user_id {user_id})")


@users.command("list")
@_database_option
def users_list(database_url: str | None) -> None:
    """List the members: id, name, when added."""
    from mesocosm_server.users import list_users

    for user_id, name, created in list_users(_settings(database_url=database_url)):
        click.echo(f"{user_id}\t{name}\t{created}")
