"""How platform commands print: JSON as the hosted CLI does, and its JSON error documents.

The hosted CLI has two families: its argparse commands (auth, team, env, run create/export,
register) print ``json.dumps(indent=2)`` with ASCII escapes; its Typer commands (run get,
run episodes, eval) keep non-ASCII and, on failure, print a JSON error document on stdout.
Scripts parse both, so both are kept; the one-line error still goes to stderr.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from mesocosm_platform.errors import ApiError, PlatformUnreachable

CONNECTION_HINT = "Is the bench-api server running and reachable at MESOCOSM_BASE_URL?"


def echo_json(data: Any, *, ascii: bool = True) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=ascii))


@contextmanager
def json_errors() -> Iterator[None]:
    """Print an HTTP or connection error as the Typer commands' JSON document, then re-raise
    (the root group prints the one line and picks the exit code)."""
    try:
        yield
    except ApiError as exc:
        echo_json({"error": "http_error", "status_code": exc.status, "detail": exc.detail},
                  ascii=False)
        raise
    except PlatformUnreachable as exc:
        echo_json({"error": "connection_error", "kind": exc.kind, "detail": str(exc),
                   "url": exc.url, "hint": CONNECTION_HINT}, ascii=False)
        raise
