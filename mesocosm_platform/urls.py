"""Where the CLI sends requests: the one home of the URL resolution order.

The hosted ``mesocosm`` CLI documents these orders, and this module keeps them exactly
(first match wins):

member bench-api URL
    ``--bench-url`` / ``--base-url`` -> ``MESOCOSM_BASE_URL``, ``SWECC_BENCH_URL``,
    ``BENCH_API_URL`` -> saved ``bench_url`` -> derived from the saved ``server_url``
    -> ``MESOCOSM_LOCAL`` (``http://127.0.0.1:8010``) -> ``https://api.swecc.org/bench``
guest bench-api URL (``auth guest``)
    the flag -> the same environment variables -> production. Saved credentials and
    ``MESOCOSM_LOCAL`` are ignored on purpose: a guest session belongs to the URL it asks.
login server URL (``auth login``)
    ``--server-url`` -> ``SWECC_SERVER_URL`` -> ``MESOCOSM_LOCAL`` (``http://127.0.0.1:8000``)
    -> ``https://api.swecc.org``
local profile bench-api URL (``doctor --local``)
    the flag -> the same environment variables -> ``http://127.0.0.1:8010``
env adapter URL (``doctor --local``)
    ``MESOCOSM_ENV_URL`` -> ``MESOCOSM_ADAPTER_URL`` -> ``http://127.0.0.1:8765``

Every resolver returns where the URL came from too, so ``doctor`` can say which setting
to change. No click here: the platform client and the server's tests use it as well.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from pytest_mesocosm.engine.config import DEFAULT_ADAPTER_URL

PROD_SERVER_URL = "https://api.swecc.org"
PROD_BENCH_URL = "https://api.swecc.org/bench"
LOCAL_SERVER_URL = "http://127.0.0.1:8000"
LOCAL_BENCH_URL = "http://127.0.0.1:8010"
LOCAL_ADAPTER_URL = DEFAULT_ADAPTER_URL  # one default, the engine's

BENCH_URL_VARS = ("MESOCOSM_BASE_URL", "SWECC_BENCH_URL", "BENCH_API_URL")
SERVER_URL_VAR = "SWECC_SERVER_URL"
ADAPTER_URL_VARS = ("MESOCOSM_ENV_URL", "MESOCOSM_ADAPTER_URL")
LOCAL_VAR = "MESOCOSM_LOCAL"

PROD_HOST = urlsplit(PROD_SERVER_URL).hostname
BENCH_PATH = urlsplit(PROD_BENCH_URL).path
LOCAL_SERVER_PORT = 8000
LOCAL_BENCH_PORT = 8010
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "0.0.0.0"})
TRUTHY = frozenset({"1", "true", "yes", "on"})


@dataclass(frozen=True)
class ResolvedURL:
    """A URL and the setting it came from (a flag, a variable, the credentials, a default)."""

    url: str
    source: str


def is_truthy(value: str | None) -> bool:
    """``1``, ``true``, ``yes`` or ``on`` in any case, as the hosted CLI reads its switches."""
    return value is not None and value.strip().lower() in TRUTHY


def local_mode(env: Mapping[str, str]) -> bool:
    return is_truthy(env.get(LOCAL_VAR))


def normalize(url: str) -> str:
    """Drop surrounding blanks and trailing slashes: ``{base}/v1/...`` is built by joining."""
    return url.strip().rstrip("/")


def _first_set(env: Mapping[str, str], names: tuple[str, ...]) -> ResolvedURL | None:
    for name in names:
        value = env.get(name, "").strip()
        if value:
            return ResolvedURL(normalize(value), name)
    return None


def _flag(flag: str | None, name: str) -> ResolvedURL | None:
    return ResolvedURL(normalize(flag), name) if flag and flag.strip() else None


def derive_bench_url(server_url: str) -> str:
    """The bench-api that goes with a login server.

    Production keeps bench-api under ``/bench`` of the same host; a local login server on
    port 8000 has its bench-api on port 8010 of the same host. Any other server is taken
    to follow the production layout (``{server}/bench``).
    """
    server = normalize(server_url)
    parts = urlsplit(server)
    if parts.hostname in LOOPBACK_HOSTS and parts.port == LOCAL_SERVER_PORT:
        host = f"[{parts.hostname}]" if ":" in (parts.hostname or "") else parts.hostname
        return f"{parts.scheme}://{host}:{LOCAL_BENCH_PORT}"
    if parts.path.rstrip("/").endswith(BENCH_PATH):
        return server
    return server + BENCH_PATH


def resolve_bench_url(
    flag: str | None = None,
    *,
    env: Mapping[str, str],
    saved_bench_url: str | None = None,
    saved_server_url: str | None = None,
    flag_name: str = "--bench-url",
) -> ResolvedURL:
    """The member bench-api URL, in the documented order (see the module docstring)."""
    found = _flag(flag, flag_name) or _first_set(env, BENCH_URL_VARS)
    if found:
        return found
    if saved_bench_url and saved_bench_url.strip():
        return ResolvedURL(normalize(saved_bench_url), "credentials bench_url")
    if saved_server_url and saved_server_url.strip():
        return ResolvedURL(derive_bench_url(saved_server_url), "credentials server_url")
    if local_mode(env):
        return ResolvedURL(LOCAL_BENCH_URL, LOCAL_VAR)
    return ResolvedURL(PROD_BENCH_URL, "default")


def resolve_local_bench_url(
    flag: str | None = None, *, env: Mapping[str, str], flag_name: str = "--base-url"
) -> ResolvedURL:
    """The bench-api of the local profile (``doctor --local``): flag, variables, else :8010."""
    return _flag(flag, flag_name) or _first_set(env, BENCH_URL_VARS) or ResolvedURL(
        LOCAL_BENCH_URL, "local profile"
    )


def resolve_guest_bench_url(
    flag: str | None = None, *, env: Mapping[str, str], flag_name: str = "--bench-url"
) -> ResolvedURL:
    """The bench-api URL ``auth guest`` asks: flag or variables only, else production."""
    return _flag(flag, flag_name) or _first_set(env, BENCH_URL_VARS) or ResolvedURL(
        PROD_BENCH_URL, "default"
    )


def resolve_server_url(flag: str | None = None, *, env: Mapping[str, str]) -> ResolvedURL:
    """The login server ``auth login`` talks to."""
    found = _flag(flag, "--server-url") or _first_set(env, (SERVER_URL_VAR,))
    if found:
        return found
    if local_mode(env):
        return ResolvedURL(LOCAL_SERVER_URL, LOCAL_VAR)
    return ResolvedURL(PROD_SERVER_URL, "default")


def resolve_adapter_url(env: Mapping[str, str]) -> ResolvedURL:
    """The env adapter ``doctor --local`` probes."""
    return _first_set(env, ADAPTER_URL_VARS) or ResolvedURL(LOCAL_ADAPTER_URL, "default")


def check_bench_url(url: str) -> list[str]:
    """Hints for a bench-api URL that looks wrong; empty when nothing stands out."""
    hints: list[str] = []
    parts = urlsplit(normalize(url))
    path = parts.path.rstrip("/")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return [f"{url!r} is not an http(s) URL; pass e.g. --base-url {PROD_BENCH_URL}"]
    under_bench = path == BENCH_PATH or path.startswith(BENCH_PATH + "/")
    if parts.hostname == PROD_HOST and not under_bench:
        hints.append(
            f"{url} is the production host without {BENCH_PATH}: bench-api lives at "
            f"{PROD_BENCH_URL}; pass --base-url {PROD_BENCH_URL} (or set MESOCOSM_BASE_URL)"
        )
    if parts.hostname in LOOPBACK_HOSTS and parts.port == LOCAL_SERVER_PORT:
        hints.append(
            f"{url} is the local login server's port; the local bench-api listens on "
            f"{LOCAL_BENCH_PORT} ({LOCAL_BENCH_URL})"
        )
    if path.endswith("/v1"):
        hints.append(f"{url} ends in /v1; give the base URL, the CLI adds /v1/... itself")
    if parts.scheme == "http" and parts.hostname == PROD_HOST:
        hints.append(f"{url} uses http; production answers on https ({PROD_BENCH_URL})")
    return hints
