"""The one object every command finds in ``ctx.obj``: environment, URL flags, credentials.

Commands never read ``os.environ`` or the credentials file themselves; they ask this
object, so the documented resolution order (:mod:`mesocosm_platform.urls`) is applied the same
way everywhere and tests can hand the CLI a controlled environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from mesocosm_platform.credentials import (
    Auth,
    Credentials,
    credentials_path,
    load_credentials,
    resolve_auth,
)
from mesocosm_platform.errors import MemberRequired, NotAuthenticated
from mesocosm_platform.urls import (
    ResolvedURL,
    local_mode,
    resolve_adapter_url,
    resolve_bench_url,
    resolve_guest_bench_url,
    resolve_server_url,
)

if TYPE_CHECKING:
    from mesocosm_platform.api import BenchApi


@dataclass
class CliContext:
    """Per-invocation state; ``url_flag`` is the ``--bench-url``/``--base-url`` given, if any."""

    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    url_flag: str | None = None
    url_flag_name: str = "--bench-url"
    _credentials: Credentials | None = None

    @property
    def local(self) -> bool:
        return local_mode(self.env)

    @property
    def credentials_path(self) -> Path:
        return credentials_path(self.env)

    @property
    def credentials(self) -> Credentials:
        """Loaded on first use: commands that never need them never touch the file."""
        if self._credentials is None:
            self._credentials = load_credentials(self.credentials_path)
        return self._credentials

    def bench_url(self) -> ResolvedURL:
        creds = self.credentials
        return resolve_bench_url(
            self.url_flag,
            env=self.env,
            saved_bench_url=creds.bench_url,
            saved_server_url=creds.server_url,
            flag_name=self.url_flag_name,
        )

    def guest_bench_url(self) -> ResolvedURL:
        return resolve_guest_bench_url(self.url_flag, env=self.env, flag_name=self.url_flag_name)

    def server_url(self, flag: str | None = None) -> ResolvedURL:
        return resolve_server_url(flag, env=self.env)

    def adapter_url(self) -> ResolvedURL:
        return resolve_adapter_url(self.env)

    def auth(self) -> Auth:
        return resolve_auth(self.credentials, self.env)

    @property
    def timeout(self) -> float:
        from mesocosm_platform.client import request_timeout

        return request_timeout(self.env)

    def api(self, *, member: bool = False, anonymous: bool = False) -> BenchApi:
        """A client for the bench API with the resolved token; ``member`` refuses guests,
        ``anonymous`` allows no token at all (reads of public runs, ``whoami``)."""
        auth = self.auth()
        if auth.mode is None and not anonymous:
            raise NotAuthenticated()
        if member and auth.mode == "guest":
            raise MemberRequired()
        from mesocosm_platform.api import BenchApi

        return BenchApi(self.bench_url().url, token=auth.token, timeout=self.timeout)

    def anonymous_api(self, url: str) -> BenchApi:
        """A client without a token (``auth guest`` asks for one)."""
        from mesocosm_platform.api import BenchApi

        return BenchApi(url, timeout=self.timeout)


pass_cli = click.make_pass_decorator(CliContext, ensure=True)


def _remember_url(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """Option callback: a URL flag given at any level lands in the shared context."""
    if value:
        obj = ctx.ensure_object(CliContext)
        obj.url_flag = value
        obj.url_flag_name = f"--{param.name.replace('_', '-')}" if param.name else "--bench-url"
    return value


def bench_url_option(func: Any) -> Any:
    """``--bench-url``: accepted on a group (the reference's "parent flag") and its leaves."""
    return click.option(
        "--bench-url",
        metavar="URL",
        expose_value=False,
        is_eager=True,
        callback=_remember_url,
        help="bench-api base URL for this invocation (else MESOCOSM_BASE_URL, SWECC_BENCH_URL, "
        "BENCH_API_URL, saved credentials, MESOCOSM_LOCAL, https://api.swecc.org/bench).",
    )(func)


def base_url_option(func: Any) -> Any:
    """``--base-url``: the same role as ``--bench-url`` on doctor, validate, eval, run get."""
    return click.option(
        "--base-url",
        metavar="URL",
        expose_value=False,
        is_eager=True,
        callback=_remember_url,
        help="bench-api base URL (else MESOCOSM_BASE_URL, SWECC_BENCH_URL, BENCH_API_URL, "
        "saved credentials, MESOCOSM_LOCAL, https://api.swecc.org/bench).",
    )(func)
