"""The credentials file: where it is, how it is written (0600, atomic), which token wins."""

from __future__ import annotations

import json
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from mesocosm_cli.context import CliContext
from mesocosm_platform.credentials import (
    Auth,
    Credentials,
    CredentialsError,
    clear_credentials,
    credentials_path,
    load_credentials,
    resolve_auth,
    save_credentials,
)
from mesocosm_platform.urls import LOCAL_SERVER_URL, PROD_BENCH_URL, ResolvedURL


def test_default_path_is_under_home() -> None:
    assert credentials_path({"HOME": "/h"}) == Path("/h/.config/swecc/bench_credentials.json")


def test_variable_overrides_the_path() -> None:
    env = {"HOME": "/h", "SWECC_BENCH_CREDENTIALS": "/elsewhere/c.json"}
    assert credentials_path(env) == Path("/elsewhere/c.json")


def test_variable_may_use_tilde() -> None:
    env = {"HOME": "/h", "SWECC_BENCH_CREDENTIALS": "~/c.json"}
    assert credentials_path(env) == Path("/h/c.json")


def test_missing_file_means_no_credentials(tmp_path: Path) -> None:
    assert load_credentials(tmp_path / "none.json") == Credentials()


def test_round_trip_keeps_unknown_keys(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "creds.json"
    data = {"mode": "member", "token": "jwt", "server_url": "https://api.swecc.org",
            "bench_url": "https://api.swecc.org/bench", "active_team_id": "t1",
            "newer_cli_key": {"a": 1}}
    save_credentials(Credentials.from_dict(data), path)
    assert json.loads(path.read_text()) == data
    assert load_credentials(path).to_dict() == data


def test_written_0600_and_atomically(tmp_path: Path) -> None:
    path = tmp_path / "creds.json"
    path.write_text("{}")
    path.chmod(0o644)
    save_credentials(Credentials(mode="guest", token="g"), path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["creds.json"]  # no temp file left
    assert load_credentials(path) == Credentials(mode="guest", token="g")


def test_fresh_folder_is_private(tmp_path: Path) -> None:
    path = tmp_path / "cfg" / "creds.json"
    save_credentials(Credentials(token="t"), path)
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_unwritable_folder_names_the_variable(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(CredentialsError, match="SWECC_BENCH_CREDENTIALS"):
        save_credentials(Credentials(token="t"), blocker / "creds.json")


@pytest.mark.parametrize(
    ("content", "message"),
    [('{"mode": "member",', "is not valid JSON (line 1 column 19)"),
     ("[1, 2]", "holds list, not a JSON object"),
     (b"\xff\xfe\x00", "is not valid JSON")],
)
def test_broken_file_is_one_clear_error(tmp_path: Path, content: str | bytes, message: str) -> None:
    path = tmp_path / "creds.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    with pytest.raises(CredentialsError) as info:
        load_credentials(path)
    text = str(info.value)
    assert message in text and str(path) in text and "mesocosm auth logout" in text
    assert "\n" not in text


def test_clear(tmp_path: Path) -> None:
    path = tmp_path / "creds.json"
    assert clear_credentials(path) is False
    save_credentials(Credentials(token="t"), path)
    assert clear_credentials(path) is True
    assert not path.exists()


SAVED_MEMBER = Credentials(mode="member", token="saved-jwt")
SAVED_GUEST = Credentials(mode="guest", token="saved-guest")

AUTH = [
    ("auth disabled wins", SAVED_MEMBER, {"BENCH_AUTH_DISABLED": "yes",
                                          "SWECC_BENCH_GUEST_TOKEN": "g"},
     Auth("disabled", "", "BENCH_AUTH_DISABLED")),
    ("guest token forces guest", SAVED_MEMBER, {"SWECC_BENCH_GUEST_TOKEN": "g",
                                                "SWECC_BENCH_TOKEN": "m"},
     Auth("guest", "g", "SWECC_BENCH_GUEST_TOKEN")),
    ("member token beats the file", SAVED_GUEST, {"SWECC_BENCH_TOKEN": "m"},
     Auth("member", "m", "SWECC_BENCH_TOKEN")),
    ("saved member", SAVED_MEMBER, {}, Auth("member", "saved-jwt", "credentials")),
    ("saved guest", SAVED_GUEST, {"BENCH_AUTH_DISABLED": "0"},
     Auth("guest", "saved-guest", "credentials")),
    ("saved token without mode is member", Credentials(token="t"), {},
     Auth("member", "t", "credentials")),
    ("nothing", Credentials(), {"SWECC_BENCH_TOKEN": " "}, Auth(None, None, "none")),
]


@pytest.mark.parametrize(("creds", "env", "expected"), [r[1:] for r in AUTH],
                         ids=[r[0] for r in AUTH])
def test_which_token(creds: Credentials, env: dict[str, str], expected: Auth) -> None:
    assert resolve_auth(creds, env) == expected


def test_bearer_header() -> None:
    assert Auth("member", "abc", "x").headers == {"Authorization": "Bearer abc"}
    assert Auth("disabled", "", "x").headers == {"Authorization": "Bearer "}
    assert Auth(None, None, "none").headers == {}


# ------------------------------------------------------------------ through the CLI

Invoke = Callable[..., Result]


def _creds_file(cli_env: Path) -> Path:
    return cli_env.parent / "home" / "bench_credentials.json"


def test_team_use_and_clear_edit_only_the_active_team(invoke: Invoke, cli_env: Path) -> None:
    path = _creds_file(cli_env)
    save_credentials(Credentials(mode="member", token="jwt", extra={"kept": True}), path)
    result = invoke("team", "use", "team-42")
    assert result.exit_code == 0, result.output
    assert result.output == "Active team set to team-42\n"
    saved = json.loads(path.read_text())
    # as the hosted CLI, `team use` also records the bench URL in use when the file has none
    assert saved == {"mode": "member", "token": "jwt", "active_team_id": "team-42", "kept": True,
                     "bench_url": "https://api.swecc.org/bench"}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    result = invoke("team", "clear")
    assert (result.exit_code, result.output) == (0, "Active team cleared (solo default).\n")
    assert "active_team_id" not in json.loads(path.read_text())


def test_auth_token_prints_the_member_jwt(invoke: Invoke, cli_env: Path) -> None:
    save_credentials(SAVED_MEMBER, _creds_file(cli_env))
    result = invoke("auth", "token")
    assert (result.exit_code, result.stdout) == (0, "saved-jwt\n")


@pytest.mark.parametrize("saved", [SAVED_GUEST, None])
def test_auth_token_refuses_guest_or_nothing(
    invoke: Invoke, cli_env: Path, saved: Credentials | None
) -> None:
    if saved is not None:
        save_credentials(saved, _creds_file(cli_env))
    result = invoke("auth", "token")
    assert result.exit_code == 1
    assert result.stderr == "Error: No member session. Run: mesocosm auth login\n"


def test_auth_logout_deletes_the_file(invoke: Invoke, cli_env: Path) -> None:
    path = _creds_file(cli_env)
    save_credentials(SAVED_MEMBER, path)
    assert invoke("auth", "logout").output == "Credentials cleared.\n"
    assert not path.exists()
    result = invoke("auth", "logout")
    assert (result.exit_code, result.output) == (0, "Credentials cleared.\n")


def test_broken_credentials_file_is_a_usage_error(invoke: Invoke, cli_env: Path) -> None:
    _creds_file(cli_env).write_text("{oops")
    result = invoke("team", "use", "t1")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: the credentials file ")
    assert len(result.stderr.strip().splitlines()) == 1


def test_context_combines_file_and_environment(tmp_path: Path) -> None:
    path = tmp_path / "creds.json"
    save_credentials(Credentials(mode="guest", token="g", server_url="http://127.0.0.1:8000"),
                     path)
    env = {"SWECC_BENCH_CREDENTIALS": str(path), "MESOCOSM_LOCAL": "1",
           "SWECC_BENCH_TOKEN": "member-from-ci"}
    obj = CliContext(env=env)
    assert obj.credentials_path == path and obj.local is True
    assert obj.bench_url() == ResolvedURL("http://127.0.0.1:8010", "credentials server_url")
    assert obj.guest_bench_url() == ResolvedURL(PROD_BENCH_URL, "default")
    assert obj.server_url() == ResolvedURL(LOCAL_SERVER_URL, "MESOCOSM_LOCAL")
    assert obj.auth() == Auth("member", "member-from-ci", "SWECC_BENCH_TOKEN")
    obj.url_flag, obj.url_flag_name = "https://other.example/bench/", "--base-url"
    assert obj.bench_url() == ResolvedURL("https://other.example/bench", "--base-url")
    assert obj.guest_bench_url() == ResolvedURL("https://other.example/bench", "--base-url")
