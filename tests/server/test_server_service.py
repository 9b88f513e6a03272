"""Serving: health, OpenAPI, both addresses, the key file, trailing slashes."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

import httpx
from platform_kit import Platform, child_env


def test_health_on_root_bench_and_local_port(platform: Platform) -> None:
    for url in (f"{platform.root}/health", f"{platform.bench}/health",
                f"{platform.local}/health"):
        answer = httpx.get(url)
        assert answer.status_code == 200
        assert answer.json() == {"status": "ok", "version": "0.1.0"}


def test_openapi_is_served_with_the_hosted_title(platform: Platform) -> None:
    answer = httpx.get(f"{platform.bench}/openapi.json")
    assert answer.status_code == 200
    document = answer.json()
    assert document["info"]["title"] == "BenchAnything"
    assert "/v1/runs" in document["paths"]
    assert httpx.get(f"{platform.local}/openapi.json").status_code == 200


def test_trailing_slash_and_unknown_paths_are_404_never_redirects(platform: Platform) -> None:
    assert httpx.get(f"{platform.bench}/v1/domains/").status_code == 404
    answer = httpx.get(f"{platform.bench}/v1/nothing")
    assert (answer.status_code, answer.json()) == (404, {"detail": "Not Found"})
    answer = httpx.delete(f"{platform.bench}/health")
    assert (answer.status_code, answer.json()) == (405, {"detail": "Method Not Allowed"})


def test_signing_key_is_kept_owner_only(platform: Platform) -> None:
    key = Path(platform.data_dir) / "server.key"
    if platform.database_url.startswith("sqlite:///"):
        key = Path(platform.database_url[len("sqlite:///"):]).parent / "server.key"
    assert key.is_file()
    assert stat.S_IMODE(key.stat().st_mode) == 0o600


def test_users_list_shows_the_members(platform: Platform) -> None:
    result = platform.cli("users", "list")
    assert result.returncode == 0
    names = [line.split("\t")[1] for line in result.stdout.splitlines()]
    assert names[:3] == ["alice", "bob", "carol"]


def test_adding_a_taken_name_is_a_one_line_error(platform: Platform) -> None:
    result = platform.cli("users", "add", "alice", stdin="x\n")
    assert result.returncode == 1
    assert result.stderr.strip() == "Error: user alice already exists; pick another name"
    result = platform.cli("users", "add", "dave", stdin="\n")
    assert result.returncode == 1
    assert "the password is empty" in result.stderr


def test_the_cli_imports_no_server_code_until_the_command_runs() -> None:
    code = ("import sys, mesocosm_cli.main; "
            "print(sorted(m for m in ('mesocosm_server', 'sqlalchemy', 'alembic') "
            "if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=child_env(), check=True)
    assert result.stdout.strip() == "[]"
