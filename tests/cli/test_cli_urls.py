"""The URL resolution order of the hosted CLI, as a table: every row is one documented rule."""

from __future__ import annotations

import pytest

from mesocosm_platform.urls import (
    LOCAL_ADAPTER_URL,
    LOCAL_BENCH_URL,
    LOCAL_SERVER_URL,
    PROD_BENCH_URL,
    PROD_SERVER_URL,
    ResolvedURL,
    check_bench_url,
    derive_bench_url,
    is_truthy,
    resolve_adapter_url,
    resolve_bench_url,
    resolve_guest_bench_url,
    resolve_local_bench_url,
    resolve_server_url,
)

FLAG = "https://flag.example/bench"
E1, E2, E3 = "https://e1.example/bench", "https://e2.example/bench", "https://e3.example/bench"
SAVED = "https://saved.example/bench"
ALL_ENV = {"MESOCOSM_BASE_URL": E1, "SWECC_BENCH_URL": E2, "BENCH_API_URL": E3}

# (id, flag, env, saved bench_url, saved server_url, expected url, expected source)
MEMBER = [
    ("flag beats everything", FLAG, {**ALL_ENV, "MESOCOSM_LOCAL": "1"}, SAVED, PROD_SERVER_URL,
     FLAG, "--bench-url"),
    ("MESOCOSM_BASE_URL first", None, ALL_ENV, SAVED, None, E1, "MESOCOSM_BASE_URL"),
    ("SWECC_BENCH_URL second", None, {"SWECC_BENCH_URL": E2, "BENCH_API_URL": E3}, SAVED, None,
     E2, "SWECC_BENCH_URL"),
    ("BENCH_API_URL third", None, {"BENCH_API_URL": E3}, SAVED, None, E3, "BENCH_API_URL"),
    ("env beats saved and local", None, {"BENCH_API_URL": E3, "MESOCOSM_LOCAL": "1"}, SAVED,
     None, E3, "BENCH_API_URL"),
    ("empty env value is unset", None, {"MESOCOSM_BASE_URL": "  ", "SWECC_BENCH_URL": E2}, None,
     None, E2, "SWECC_BENCH_URL"),
    ("saved bench_url", None, {}, SAVED, "http://127.0.0.1:8000", SAVED,
     "credentials bench_url"),
    ("saved bench_url beats MESOCOSM_LOCAL", None, {"MESOCOSM_LOCAL": "1"}, SAVED, None, SAVED,
     "credentials bench_url"),
    ("derived from prod server", None, {}, None, "https://api.swecc.org", PROD_BENCH_URL,
     "credentials server_url"),
    ("derived from prod server with slash", None, {}, None, "https://api.swecc.org/",
     PROD_BENCH_URL, "credentials server_url"),
    ("derived from local server", None, {}, None, "http://127.0.0.1:8000", LOCAL_BENCH_URL,
     "credentials server_url"),
    ("derived from localhost server", None, {}, None, "http://localhost:8000",
     "http://localhost:8010", "credentials server_url"),
    ("derived from another server", None, {}, None, "https://bench.team.example",
     "https://bench.team.example/bench", "credentials server_url"),
    ("server_url beats MESOCOSM_LOCAL", None, {"MESOCOSM_LOCAL": "1"}, None,
     "https://api.swecc.org", PROD_BENCH_URL, "credentials server_url"),
    ("MESOCOSM_LOCAL=1", None, {"MESOCOSM_LOCAL": "1"}, None, None, LOCAL_BENCH_URL,
     "MESOCOSM_LOCAL"),
    ("MESOCOSM_LOCAL=TRUE", None, {"MESOCOSM_LOCAL": "TRUE"}, None, None, LOCAL_BENCH_URL,
     "MESOCOSM_LOCAL"),
    ("MESOCOSM_LOCAL=yes", None, {"MESOCOSM_LOCAL": "yes"}, None, None, LOCAL_BENCH_URL,
     "MESOCOSM_LOCAL"),
    ("MESOCOSM_LOCAL=On", None, {"MESOCOSM_LOCAL": "On"}, None, None, LOCAL_BENCH_URL,
     "MESOCOSM_LOCAL"),
    ("MESOCOSM_LOCAL=0 is off", None, {"MESOCOSM_LOCAL": "0"}, None, None, PROD_BENCH_URL,
     "default"),
    ("MESOCOSM_LOCAL=false is off", None, {"MESOCOSM_LOCAL": "false"}, None, None,
     PROD_BENCH_URL, "default"),
    ("nothing set: production", None, {}, None, None, PROD_BENCH_URL, "default"),
    ("trailing slash dropped", "http://127.0.0.1:8010/", {}, None, None, LOCAL_BENCH_URL,
     "--bench-url"),
]


@pytest.mark.parametrize(
    ("flag", "env", "saved_bench", "saved_server", "url", "source"),
    [row[1:] for row in MEMBER],
    ids=[row[0] for row in MEMBER],
)
def test_member_bench_url(
    flag: str | None, env: dict[str, str], saved_bench: str | None, saved_server: str | None,
    url: str, source: str,
) -> None:
    got = resolve_bench_url(
        flag, env=env, saved_bench_url=saved_bench, saved_server_url=saved_server
    )
    assert got == ResolvedURL(url, source)


def test_base_url_flag_is_named_as_given() -> None:
    got = resolve_bench_url(FLAG, env=ALL_ENV, flag_name="--base-url")
    assert got == ResolvedURL(FLAG, "--base-url")


GUEST = [
    ("flag", FLAG, ALL_ENV, FLAG, "--bench-url"),
    ("env in order", None, {"SWECC_BENCH_URL": E2, "BENCH_API_URL": E3}, E2, "SWECC_BENCH_URL"),
    ("MESOCOSM_LOCAL ignored", None, {"MESOCOSM_LOCAL": "1"}, PROD_BENCH_URL, "default"),
    ("nothing: production", None, {}, PROD_BENCH_URL, "default"),
]


@pytest.mark.parametrize(
    ("flag", "env", "url", "source"), [r[1:] for r in GUEST], ids=[r[0] for r in GUEST]
)
def test_guest_bench_url(flag: str | None, env: dict[str, str], url: str, source: str) -> None:
    assert resolve_guest_bench_url(flag, env=env) == ResolvedURL(url, source)


def test_guest_bench_url_takes_no_saved_credentials() -> None:
    # The signature itself has no saved_* parameters: the guest order cannot reach them.
    with pytest.raises(TypeError):
        resolve_guest_bench_url(None, env={}, saved_bench_url=SAVED)  # type: ignore[call-arg]


SERVER = [
    ("flag", "https://login.example", {"SWECC_SERVER_URL": "https://x.example",
                                       "MESOCOSM_LOCAL": "1"}, "https://login.example",
     "--server-url"),
    ("SWECC_SERVER_URL", None, {"SWECC_SERVER_URL": "https://x.example/", "MESOCOSM_LOCAL": "1"},
     "https://x.example", "SWECC_SERVER_URL"),
    ("MESOCOSM_LOCAL", None, {"MESOCOSM_LOCAL": "yes"}, LOCAL_SERVER_URL, "MESOCOSM_LOCAL"),
    ("production", None, {}, PROD_SERVER_URL, "default"),
]


@pytest.mark.parametrize(
    ("flag", "env", "url", "source"), [r[1:] for r in SERVER], ids=[r[0] for r in SERVER]
)
def test_login_server_url(flag: str | None, env: dict[str, str], url: str, source: str) -> None:
    assert resolve_server_url(flag, env=env) == ResolvedURL(url, source)


ADAPTER = [
    ("MESOCOSM_ENV_URL first", {"MESOCOSM_ENV_URL": "http://a:1", "MESOCOSM_ADAPTER_URL":
                                "http://b:2"}, "http://a:1", "MESOCOSM_ENV_URL"),
    ("MESOCOSM_ADAPTER_URL alias", {"MESOCOSM_ADAPTER_URL": "http://b:2"}, "http://b:2",
     "MESOCOSM_ADAPTER_URL"),
    ("default :8765", {"MESOCOSM_LOCAL": "1"}, LOCAL_ADAPTER_URL, "default"),
]


@pytest.mark.parametrize(("env", "url", "source"), [r[1:] for r in ADAPTER],
                         ids=[r[0] for r in ADAPTER])
def test_adapter_url(env: dict[str, str], url: str, source: str) -> None:
    assert resolve_adapter_url(env) == ResolvedURL(url, source)


LOCAL_PROFILE = [
    ("flag", FLAG, ALL_ENV, FLAG, "--base-url"),
    ("env", None, {"BENCH_API_URL": E3}, E3, "BENCH_API_URL"),
    ("default :8010", None, {}, LOCAL_BENCH_URL, "local profile"),
]


@pytest.mark.parametrize(("flag", "env", "url", "source"), [r[1:] for r in LOCAL_PROFILE],
                         ids=[r[0] for r in LOCAL_PROFILE])
def test_local_profile_bench_url(
    flag: str | None, env: dict[str, str], url: str, source: str
) -> None:
    assert resolve_local_bench_url(flag, env=env) == ResolvedURL(url, source)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1", True), ("true", True), ("TRUE", True), ("Yes", True), ("on", True), (" on ", True),
     ("0", False), ("false", False), ("no", False), ("off", False), ("", False), ("2", False),
     (None, False)],
)
def test_truthy_switch(value: str | None, expected: bool) -> None:
    assert is_truthy(value) is expected


@pytest.mark.parametrize(
    ("server", "bench"),
    [("https://api.swecc.org", PROD_BENCH_URL), ("https://api.swecc.org/bench", PROD_BENCH_URL),
     ("http://127.0.0.1:8000/", LOCAL_BENCH_URL), ("http://[::1]:8000", "http://[::1]:8010"),
     ("http://127.0.0.1:9000", "http://127.0.0.1:9000/bench")],
)
def test_derive_bench_url(server: str, bench: str) -> None:
    assert derive_bench_url(server) == bench


# (url, a fragment every hint list must contain, or None for "no hints")
BENCH_URL_CHECKS = [
    ("https://api.swecc.org", "without /bench"),
    ("https://api.swecc.org/", "without /bench"),
    ("https://api.swecc.org/v1", "without /bench"),
    ("https://api.swecc.org/benchmark", "without /bench"),
    ("https://api.swecc.org/bench", None),
    ("https://api.swecc.org/bench/", None),
    ("http://api.swecc.org/bench", "uses http"),
    ("http://127.0.0.1:8000", "login server's port"),
    ("http://127.0.0.1:8010/v1", "ends in /v1"),
    ("http://127.0.0.1:8010", None),
    ("https://bench.team.example", None),
    ("ftp://api.swecc.org/bench", "not an http(s) URL"),
    ("api.swecc.org/bench", "not an http(s) URL"),
]


@pytest.mark.parametrize(("url", "fragment"), BENCH_URL_CHECKS)
def test_check_bench_url(url: str, fragment: str | None) -> None:
    hints = check_bench_url(url)
    if fragment is None:
        assert hints == []
    else:
        assert any(fragment in hint for hint in hints), hints


def test_production_without_bench_names_the_fix() -> None:
    (hint,) = check_bench_url("https://api.swecc.org")
    assert "--base-url https://api.swecc.org/bench" in hint
