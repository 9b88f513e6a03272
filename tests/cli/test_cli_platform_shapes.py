"""Platform commands against a scripted loopback bench-api: the bodies they send, the lines
they print, the hosted quirks they fix. (The whole life of a user against a real
``mesocosm server`` is in tests/cli/test_cli_platform_e2e.py.)"""

from __future__ import annotations

import json
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

from click.testing import Result

from mesocosm_platform.credentials import Credentials, load_credentials, save_credentials

Invoke = Callable[..., Result]

SCORING = {"primary_metric": "win_rate", "higher_is_better": True,
           "metrics": [{"name": "win_rate", "type": "terminal_field", "field": "won",
                        "aggregation": "pass_rate", "pass_threshold": 0.5}]}


def _creds(cli_env: Path) -> Path:
    return cli_env.parent / "home" / "bench_credentials.json"


def _member(cli_env: Path, url: str, **extra: Any) -> None:
    save_credentials(Credentials(mode="member", token="jwt", bench_url=url, **extra),
                     _creds(cli_env))


def test_login_reads_the_password_on_stdin_and_keeps_the_active_team(
    invoke: Invoke, cli_env: Path, scripted: Any
) -> None:
    save_credentials(Credentials(mode="guest", token="old", active_team_id="t-1"),
                     _creds(cli_env))
    scripted.script("GET /auth/csrf/", (200, {"X-CSRFToken": "c", "Set-Cookie": "csrftoken=c"},
                                        {"detail": "CSRF cookie set"}))
    scripted.script("POST /auth/login/", (200, {"Set-Cookie": "sessionid=s"}, {"detail": "ok"}))
    scripted.script("GET /auth/jwt/", (200, {}, {"token": "member-jwt"}))
    result = invoke("auth", "login", "--server-url", scripted.url, input="ada\nsecret\n")
    assert result.exit_code == 0, result.output
    assert result.stdout == "Logged in. Member JWT saved.\n"
    assert scripted.requests("POST /auth/login/")[0].body == {"username": "ada",
                                                               "password": "secret"}
    saved = json.loads(_creds(cli_env).read_text())
    assert saved == {"mode": "member", "token": "member-jwt", "server_url": scripted.url,
                     "bench_url": f"{scripted.url}/bench", "active_team_id": "t-1"}
    assert stat.S_IMODE(_creds(cli_env).stat().st_mode) == 0o600


def test_login_refusal_is_one_line(invoke: Invoke, cli_env: Path, scripted: Any) -> None:
    scripted.script("GET /auth/csrf/", (200, {}, {"detail": "CSRF cookie set"}))
    scripted.script("POST /auth/login/", (400, {}, {"detail": "Invalid credentials."}))
    result = invoke("auth", "login", "--server-url", scripted.url, input="ada\nbad\n")
    assert result.exit_code == 5
    assert result.stderr.splitlines()[-1] == "Invalid username or password"
    assert not _creds(cli_env).exists()


def test_guest_keeps_the_active_team(invoke: Invoke, cli_env: Path, scripted: Any) -> None:
    save_credentials(Credentials(mode="member", token="m", active_team_id="t-9"), _creds(cli_env))
    scripted.script("POST /v1/auth/guest", (200, {}, {"guest_token": "g",
                                                      "expires_at": "2026-12-08T00:00:00+00:00"}))
    result = invoke("auth", "guest", "--bench-url", scripted.url)
    assert result.stdout == "Guest session created (expires 2026-12-08T00:00:00+00:00).\n"
    saved = load_credentials(_creds(cli_env))
    assert (saved.mode, saved.token, saved.bench_url, saved.active_team_id) == (
        "guest", "g", scripted.url, "t-9")


def test_team_create_use_then_run_create_attaches_it(
    invoke: Invoke, cli_env: Path, scripted: Any
) -> None:
    _member(cli_env, scripted.url)
    scripted.script("POST /v1/teams", (201, {}, {"team_id": "T1", "name": "Crew", "slug": "crew",
                                                 "join_code": "AB12", "member_count": 1,
                                                 "max_members": 4, "role": "owner"}))
    result = invoke("team", "create", "--name", "Crew", "--use")
    assert result.stdout == "team_id=T1\njoin_code=AB12  (1/4 members)\n"
    assert load_credentials(_creds(cli_env)).active_team_id == "T1"
    scripted.script("POST /v1/runs", (202, {}, {"id": "R1", "status": "running"}),
                    (202, {}, {"id": "R2", "status": "running"}))
    result = invoke("run", "create", "--domain", "d", "--vow-version", "1.0.0", "--model", "m")
    assert json.loads(result.stdout) == {"id": "R1", "status": "running"}
    invoke("run", "create", "--domain", "d", "--vow-version", "1.0.0", "--model", "m", "--solo")
    first, second = (s.body for s in scripted.requests("POST /v1/runs"))
    assert first == {"domain_id": "d", "binding_vow_version": "1.0.0",
                     "agent_config": {"model": "m", "system_prompt": None, "temperature": 0.0,
                                      "max_tokens": 512},
                     "num_episodes": 1, "max_parallel": 1, "visibility": "gallery_public",
                     "team_id": "T1"}
    assert "team_id" not in second


def test_run_create_checks_the_episode_cap_before_calling(
    invoke: Invoke, cli_env: Path, scripted: Any
) -> None:
    _member(cli_env, scripted.url)
    result = invoke("run", "create", "--domain", "d", "--vow-version", "1", "--model", "m",
                    "--episodes", "21")
    assert (result.exit_code, result.stderr) == (
        1, "Error: --episodes (21) exceeds the platform maximum (20).\n")
    assert scripted.seen == []


def test_env_list_shows_domain_ids(invoke: Invoke, cli_env: Path, scripted: Any) -> None:
    _member(cli_env, scripted.url)
    scripted.script("GET /v1/developer/environments", (200, {}, [
        {"id": "E1", "status": "ready", "scope": "solo", "name": "Wordle", "domain_id": "D1"},
        {"id": "E2", "status": "pending", "scope": "solo", "name": "New", "domain_id": None}]))
    result = invoke("env", "list")
    assert result.stdout == ("E1  ready  solo  Wordle  domain=D1\n"
                             "E2  pending  solo  New  domain=-\n")


def test_env_submit_wait_prints_the_failure(
    invoke: Invoke, cli_env: Path, scripted: Any
) -> None:
    _member(cli_env, scripted.url)
    scripted.script("POST /v1/developer/environments", (201, {}, {"id": "E1",
                                                                  "status": "pending"}))
    scripted.script("GET /v1/developer/environments/E1/poll",
                    (200, {}, {"id": "E1", "status": "cloning"}),
                    (200, {}, {"id": "E1", "status": "failed",
                               "error_message": "benchanything.json not found"}))
    result = invoke("env", "submit", "--name", "n", "--github-url", "https://github.com/a/b",
                    "--wait")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["id"] == "E1"
    assert "environment E1: cloning" in result.stderr
    assert result.stderr.splitlines()[-1] == (
        "Error: environment E1 failed: benchanything.json not found")


def test_register_auto_id_renames_the_vow_and_updates_a_published_domain(
    invoke: Invoke, cli_env: Path, scripted: Any
) -> None:
    _member(cli_env, scripted.url)
    folder = cli_env / "my-domain"
    folder.mkdir()
    (folder / "domain.py").write_text(
        "DOMAIN_CONFIG = {'id': 'x', 'name': 'X', 'owner_id': 'me',\n"
        "                 'binding_vow': {'domain_id': 'x', 'version': '1.0.0'},\n"
        "                 'endpoint': {'mode': 'remote', 'url': 'http://e'}, 'scoring': {}}\n")
    scripted.script("POST /v1/domains", (409, {}, {"detail": "Domain 'my-domain' already exists"}))
    scripted.script("PATCH /v1/domains/my-domain",
                    (409, {}, {"detail": "Only draft domains can be updated"}),
                    (200, {}, {"id": "my-domain", "status": "draft"}))
    scripted.script("POST /v1/domains/my-domain/unpublish", (200, {}, {"status": "draft"}))
    scripted.script("POST /v1/domains/my-domain/publish", (200, {}, {"status": "published"}))
    result = invoke("register", str(folder / "domain.py"), "--auto-id")
    assert result.exit_code == 0, result.output
    assert result.stdout == "[register] domain 'my-domain' registered  status=published\n"
    posted = scripted.requests("POST /v1/domains")[0].body
    assert posted["id"] == posted["binding_vow"]["domain_id"] == "my-domain"
    assert "owner_id" not in posted
    assert scripted.requests("PATCH /v1/domains/my-domain")[1].body["name"] == "X"


def _finished_run(scripted: Any, won: list[bool], **domain: Any) -> None:
    run = {"id": "R1", "status": "running",
           "config": {"domain_id": "d", "num_episodes": len(won),
                      "agent_config": {"model": "m"}}}
    episodes = [{"id": f"e{i}", "seed": i, "status": "completed", "steps": 3,
                 "total_reward": float(w), "terminal_info": {"won": w},
                 "started_at": "2026-12-01T00:00:00", "ended_at": "2026-12-01T00:00:02"}
                for i, w in enumerate(won)]
    scripted.script("POST /v1/runs", (202, {}, run))
    scripted.script("GET /v1/domains/d", (200, {}, {"id": "d", "scoring": SCORING, **domain}))
    scripted.script("GET /v1/runs/R1", (200, {}, {**run, "status": "completed"}))
    scripted.script("GET /v1/runs/R1/episodes", (200, {}, episodes))


def test_run_create_wait_ends_with_the_local_table_and_gate(
    invoke: Invoke, cli_env: Path, scripted: Any
) -> None:
    _member(cli_env, scripted.url)
    _finished_run(scripted, [True, False, True, True])
    result = invoke("run", "create", "--domain", "d", "--vow-version", "1.0.0", "--model", "m",
                    "--episodes", "4", "--wait", "--threshold", "win_rate>=0.9")
    assert result.exit_code == 1
    assert "win_rate *  0.750" in result.stdout
    assert "scored 4/4 episodes (completed 4," in result.stdout
    assert "gate: FAILED" in result.stdout
    assert result.stderr.splitlines()[-1].startswith("Error: gate failed: win_rate>=0.9 missed")


def test_eval_run_wait_passes_its_gate(invoke: Invoke, cli_env: Path, scripted: Any) -> None:
    _member(cli_env, scripted.url)
    _finished_run(scripted, [True, True], status="published",
                  binding_vow={"version": "1.0.0"})
    scripted.script("GET /v1/domains/d", (200, {}, {"id": "d", "scoring": SCORING}))
    result = invoke("eval", "run", "--domain-id", "d", "--model", "m", "--num-episodes", "2",
                    "--seed-set", "[0,1]", "--wait", "--threshold", "win_rate>=0.9")
    assert result.exit_code == 0, result.output
    assert "gate: PASSED" in result.stdout
    body = scripted.requests("POST /v1/runs")[0].body
    assert body["seed_set"] == [0, 1] and body["binding_vow_version"] == "1.0.0"
    assert "team_id" not in body and "visibility" not in body


def test_run_get_error_is_json_on_stdout_and_one_line_on_stderr(
    invoke: Invoke, cli_env: Path, scripted: Any
) -> None:
    _member(cli_env, scripted.url)
    scripted.script("GET /v1/runs/nope", (404, {}, {"detail": "Run 'nope' not found"}))
    result = invoke("run", "get", "nope")
    assert result.exit_code == 5
    assert json.loads(result.stdout) == {"error": "http_error", "status_code": 404,
                                         "detail": "Run 'nope' not found"}
    assert result.stderr == f"HTTP 404 for GET {scripted.url}/v1/runs/nope: Run 'nope' not found\n"


def test_eval_test_failed_episode_exits_1(invoke: Invoke, cli_env: Path, scripted: Any) -> None:
    _member(cli_env, scripted.url)
    scripted.script("POST /v1/test/episode", (200, {}, {"id": "e", "status": "failed",
                                                        "terminal_info": {"error": "boom"}}))
    result = invoke("eval", "test", "--domain-id", "d", "--model", "m", "--vow-version", "1")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["status"] == "failed"
    assert result.stderr == 'Error: episode failed: {"error": "boom"}\n'


def test_eval_run_refuses_a_bad_seed_set(invoke: Invoke, cli_env: Path) -> None:
    result = invoke("eval", "run", "--domain-id", "d", "--model", "m", "--seed-set", "[1, 'x']",
                    env={"SWECC_BENCH_TOKEN": "t"})
    assert (result.exit_code, result.stderr) == (
        1, "Error: --seed-set must be a JSON array of integers, e.g. '[1,2,3]'\n")


def test_guest_file_on_a_member_command(invoke: Invoke, cli_env: Path, scripted: Any) -> None:
    save_credentials(Credentials(mode="guest", token="g", bench_url=scripted.url),
                     _creds(cli_env))
    result = invoke("team", "list")
    assert (result.exit_code, result.stderr) == (
        5, "This command requires a member account. Run: mesocosm auth login\n")
    assert scripted.seen == []
