"""Exit codes, and the one place where the engine's errors become them.

A command raises what it raises; the root group turns any
:class:`~pytest_mesocosm.errors.MesocosmError` into a one-line ``Error: ...`` and the code
below, so scripts and CI can tell a missed gate from a broken setup without parsing text.
"""

from __future__ import annotations

from typing import IO, Any

import click

from mesocosm_platform.credentials import CredentialsError
from pytest_mesocosm.errors import (
    AdapterError,
    AgentConfigError,
    AgentError,
    ManifestError,
    MesocosmError,
    PlatformError,
    ResumeError,
    ScoringError,
)
from pytest_mesocosm.scoring.decide import INCONCLUSIVE_EXIT

OK = 0
FAILED = 1  # a check said no: a missed threshold, an invalid manifest, a doctor issue
USAGE = 2  # a bad flag or setting (click's own code), or a command not built yet
ENV = 3  # the environment adapter could not be started or reached
MODEL = 4  # the model or policy could not play
PLATFORM = 5  # the bench platform answered an error
INCONCLUSIVE = INCONCLUSIVE_EXIT  # 6: a threshold undecided, with --inconclusive error
INTERRUPTED = 130  # Ctrl-C, as shells report SIGINT

# First match wins, so subclasses come before their bases.
_CODES: tuple[tuple[type[MesocosmError], int], ...] = (
    (ManifestError, USAGE),
    (ResumeError, USAGE),
    (AgentConfigError, USAGE),
    (ScoringError, USAGE),
    (CredentialsError, USAGE),
    (AdapterError, ENV),
    (AgentError, MODEL),
    (PlatformError, PLATFORM),
)


class CliError(click.ClickException):
    """A one-line user-facing error with a chosen exit code."""

    def __init__(self, message: str, exit_code: int = FAILED):
        super().__init__(message)
        self.exit_code = exit_code  # type: ignore[misc]  # click reads it from the instance


def exit_code_for(exc: MesocosmError) -> int:
    for kind, code in _CODES:
        if isinstance(exc, kind):
            return code
    return FAILED


class PlainCliError(CliError):
    """A CliError printed as is, without ``Error:``: the hosted CLI's platform error lines
    (``HTTP 403 for POST .../v1/teams: Not a member of this team``), which scripts match."""

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(self.format_message(), err=True, file=file)


def as_cli_error(exc: MesocosmError) -> CliError:
    message = str(exc) or type(exc).__name__
    if isinstance(exc, PlatformError) and not isinstance(exc, CredentialsError):
        return PlainCliError(message, exit_code_for(exc))
    return CliError(message, exit_code_for(exc))
