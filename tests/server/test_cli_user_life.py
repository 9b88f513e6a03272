"""The ``mesocosm`` platform commands through the whole life of users, against a real
``mesocosm server`` process (the server kit's ``platform`` fixture), the Wordle
example's adapter and the fake Ollama: nothing of the project is stood in.

Most commands run in-process through click's runner (each user with their own
credentials file); the hosted reference's "End-to-end platform flow" and
``pytest --mesocosm-platform`` run as real processes.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cli_kit import PASSWORD, User, one_line
from devenv_kit import make_repo
from platform_kit import WORDLE, Platform, child_env, wordle_domain

from pytest_mesocosm.engine.export import validate_export

MODEL = "ollama/llama3.2"
DOMAIN = "wordle-life"


@pytest.fixture(scope="module")
def home(platform: Platform, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The users' folder, one per server (so one per backend)."""
    return tmp_path_factory.mktemp("home")


@pytest.fixture(scope="module")
def alice(platform: Platform, home: Path) -> User:
    user = User(home, "alice")
    user.login(platform)
    return user


@pytest.fixture(scope="module")
def domain(alice: User, wordle_url: str, home: Path) -> dict[str, Any]:
    """The Wordle example registered by alice with ``register --auto-id`` (its folder
    name becomes the id, in the vow too)."""
    config = wordle_domain("placeholder", wordle_url)
    folder = home / DOMAIN
    folder.mkdir()
    (folder / "domain.py").write_text(f"DOMAIN_CONFIG = {config!r}\n")
    result = alice.ok("register", str(folder / "domain.py"), "--auto-id", "--publish")
    assert result.stdout.splitlines() == [
        f"[register] domain '{DOMAIN}' registered  status=published",
        f"[register] domain '{DOMAIN}' published",
    ]
    again = alice.ok("register", str(folder / "domain.py"), "--auto-id")
    assert "registered  status=published" in again.stdout
    return config


def test_team_life(platform: Platform, alice: User, home: Path) -> None:
    bob, carol = User(home, "bob"), User(home, "carol")
    bob.login(platform)
    carol.login(platform)
    made = alice.ok("team", "create", "--name", "Crew", "--use").stdout
    team_id, code = re.fullmatch(r"team_id=(\S+)\njoin_code=(\w{4})  \(1/4 members\)\n",
                                 made).groups()
    assert json.loads(alice.creds.read_text())["active_team_id"] == team_id
    shown = json.loads(alice.ok("team", "code", "show", team_id).stdout)
    assert (shown["join_code"], shown["role"]) == (code, "owner")
    assert bob.ok("team", "join", code.lower()).stdout == (
        f"Joined Crew (2/4) team_id={team_id}\n")
    assert carol.ok("team", "join", code).stdout == f"Joined Crew (3/4) team_id={team_id}\n"
    assert bob.ok("team", "list").stdout == f"{team_id}  Crew  (3/4)  member\n"
    assert alice.ok("team", "list").stdout == f"{team_id}  Crew  (3/4)  owner  code={code}\n"
    assert alice.ok("team", "runs", team_id).stdout.strip() == "[]"
    new_code = alice.ok("team", "code", "regenerate", team_id).stdout
    assert re.fullmatch(r"join_code=\w{4}\n", new_code)

    refused = bob("team", "members", "remove", team_id, "--user-id", str(carol.user_id()))
    assert refused.exit_code == 5
    assert one_line(refused) == (f"HTTP 403 for DELETE {platform.bench}/v1/teams/{team_id}/"
                                 f"members/{carol.user_id()}: Only the team owner can remove "
                                 "members")
    assert alice.ok("team", "members", "remove", team_id, "--user-id",
                    str(carol.user_id())).stdout == "Member removed.\n"
    owner_leaves = alice("team", "leave", team_id)
    assert owner_leaves.exit_code == 5
    assert one_line(owner_leaves).endswith(
        ": Owner must transfer ownership or delete the team before leaving")
    assert alice.ok("team", "transfer", team_id, "--user-id",
                    str(bob.user_id())).stdout == "Ownership transferred.\n"
    assert alice.ok("team", "leave", team_id).stdout == "Left team.\n"
    assert "active_team_id" not in json.loads(alice.creds.read_text())
    not_member = alice("team", "show", team_id)
    assert one_line(not_member) == (f"HTTP 403 for GET {platform.bench}/v1/teams/{team_id}: "
                                    "Not a member of this team")
    assert bob.ok("team", "delete", team_id).stdout == "Team deleted.\n"
    assert bob.ok("team", "list").stdout == ""


def test_run_create_wait_get_episodes_export(
    platform: Platform, alice: User, domain: dict[str, Any], home: Path
) -> None:
    version = domain["binding_vow"]["version"]
    result = alice.ok("run", "create", "--domain", DOMAIN, "--vow-version", version, "--model",
                      MODEL, "--episodes", "3", "--parallel", "3", "--visibility", "private",
                      "--solo", "--wait")
    run_id = re.search(r"run (\S+) started", result.stderr).group(1)  # type: ignore[union-attr]
    assert f"run {run_id}  status completed  model {MODEL}  domain {DOMAIN}  episodes 3" \
        in result.stdout
    assert "win_rate *" in result.stdout and "scored 3/3 episodes" in result.stdout
    assert "gate: PASSED" in result.stdout

    got = json.loads(alice.ok("run", "get", run_id).stdout)
    assert got["run"]["status"] == "completed" and len(got["episodes"]) == 3
    assert got["aggregate_scores"] == got["run"]["scores"]
    listed = json.loads(alice.ok("run", "episodes", run_id, "--traces").stdout)
    assert listed["run_id"] == run_id
    assert set(listed["traces_by_episode"]) == {ep["id"] for ep in listed["episodes"]}
    assert all(events[0]["event_type"] == "episode_start"
               for events in listed["traces_by_episode"].values())

    target = home / "showcase" / "replay.json"
    assert alice.ok("run", "export", run_id, "-o", str(target)).stdout == f"Wrote {target}\n"
    document = json.loads(target.read_text())
    validate_export(document)
    assert document["run"]["id"] == run_id and len(document["replay"]) == 3


def test_guest_runs_until_the_limit(platform: Platform, domain: dict[str, Any],
                                    home: Path) -> None:
    guest = User(home, "guest")
    created = guest.ok("auth", "guest", "--bench-url", platform.bench).stdout
    assert created.startswith("Guest session created (expires ")
    assert json.loads(guest.ok("auth", "whoami").stdout)["type"] == "guest"
    args = ("run", "create", "--domain", DOMAIN, "--vow-version",
            domain["binding_vow"]["version"], "--model", MODEL)
    for _ in range(5):
        assert json.loads(guest.ok(*args).stdout)["status"] in ("running", "pending")
    limited = guest(*args)
    assert limited.exit_code == 5
    assert one_line(limited) == (f"HTTP 429 for POST {platform.bench}/v1/runs: Guest run limit "
                                 "reached (5 runs per day). Sign in to continue.")
    member_only = guest("team", "list")
    assert one_line(member_only) == (
        "This command requires a member account. Run: mesocosm auth login")


def test_eval_test_plays_one_episode(platform: Platform, alice: User,
                                    domain: dict[str, Any], home: Path) -> None:
    episode = json.loads(alice.ok("eval", "test", "--domain-id", DOMAIN, "--model", MODEL,
                                  "--seed", "4").stdout)
    assert (episode["seed"], episode["status"]) == (4, "completed")
    bob = User(home, "bob")
    bob.login(platform)
    refused = bob("eval", "test", "--domain-id", DOMAIN, "--model", MODEL)
    assert refused.exit_code == 5
    assert json.loads(refused.stdout)["status_code"] == 403
    assert one_line(refused) == (f"HTTP 403 for POST {platform.bench}/v1/test/episode: "
                                 "Not allowed to test this domain")


def test_eval_run_waits_and_gates(alice: User, domain: dict[str, Any]) -> None:
    result = alice("eval", "run", "--domain-id", DOMAIN, "--model", MODEL, "--num-episodes",
                   "2", "--seed-set", "[1,2]", "--wait", "--threshold", "win_rate>=0.9")
    assert result.exit_code == 1, result.output
    assert "scored 2/2 episodes" in result.stdout and "gate: FAILED" in result.stdout
    assert result.stderr.splitlines()[-1].startswith("Error: gate failed: win_rate>=0.9 missed")
    assert "Traceback" not in result.output
    started = json.loads(alice.ok("eval", "run", "--domain-id", DOMAIN, "--model", MODEL)
                         .stdout)
    assert started["config"]["binding_vow_version"] == domain["binding_vow"]["version"]


def test_http_error_classes_are_one_line(
    platform: Platform, alice: User, domain: dict[str, Any], home: Path
) -> None:
    bench = platform.bench
    bad_vow = alice("run", "create", "--domain", DOMAIN, "--vow-version", "9.9.9",
                    "--model", MODEL)
    assert one_line(bad_vow) == (
        f"HTTP 422 for POST {bench}/v1/runs: Binding vow version mismatch: domain has "
        f"'{domain['binding_vow']['version']}', requested '9.9.9'")
    missing = alice("run", "get", "no-such-run")
    assert json.loads(missing.stdout) == {"error": "http_error", "status_code": 404,
                                          "detail": "Run 'no-such-run' not found"}
    assert one_line(missing) == f"HTTP 404 for GET {bench}/v1/runs/no-such-run: Run " \
        "'no-such-run' not found"
    stranger = User(home, "stranger")
    expired = stranger("team", "list", "--bench-url", bench, SWECC_BENCH_TOKEN="not-a-jwt")
    assert one_line(expired) == f"HTTP 401 for GET {bench}/v1/teams: Authentication required"
    guest_token = platform.guest()
    as_member = stranger("team", "list", "--bench-url", bench, SWECC_BENCH_TOKEN=guest_token)
    assert one_line(as_member) == (f"HTTP 403 for GET {bench}/v1/teams: SWECC member account "
                                   "required")
    taken = alice("team", "join", "ZZZZ")
    assert one_line(taken) == f"HTTP 404 for POST {bench}/v1/teams/join: Invalid join code"
    assert {r.exit_code for r in (bad_vow, missing, expired, as_member, taken)} == {5}


def test_reference_flow_script_runs_unchanged(platform: Platform, home: Path) -> None:
    """The hosted docs' "End-to-end platform flow" as a shell script of real processes,
    placeholders filled in: a local git repository of the Wordle example is submitted,
    its domain id read from ``env list`` once onboarding is done, then benched."""
    work = home / "script"
    work.mkdir()
    repo = make_repo(work / "my-env")
    script = (
        "set -e\n"
        "mesocosm auth login\n"
        f'mesocosm env submit --name "My env" --github-url {repo}\n'
        "for i in $(seq 240); do mesocosm env list | grep -q '  ready  ' && break; "
        "sleep 0.5; done\n"
        "mesocosm env list\n"
        "DOMAIN_ID=$(mesocosm env list | sed -n 's/.*domain=//p')\n"
        "RUN_ID=$(mesocosm run create --domain $DOMAIN_ID --vow-version 1.0.0 "
        f"--model {MODEL} --episodes 2 "
        "| python -c 'import json,sys; print(json.load(sys.stdin)[\"id\"])')\n"
        "mesocosm run get $RUN_ID\n"
        "mesocosm run export $RUN_ID -o showcase/replay.json\n"
    )
    shim = work / "bin"
    shim.mkdir()
    (shim / "mesocosm").write_text(
        f"#!/bin/sh\nexec {sys.executable} -c 'from mesocosm_cli.main import cli; cli()' \"$@\"\n")
    (shim / "mesocosm").chmod(0o755)
    env = child_env({"SWECC_BENCH_CREDENTIALS": str(work / "creds.json"),
                     "SWECC_SERVER_URL": platform.root,
                     "PATH": f"{shim}{os.pathsep}{os.environ['PATH']}"})
    done = subprocess.run(["bash", "-c", script], cwd=work, input=f"alice\n{PASSWORD}\n",
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Logged in. Member JWT saved." in done.stdout
    assert "  ready  solo  My env  domain=" in done.stdout
    assert "Wrote showcase/replay.json" in done.stdout
    document = json.loads((work / "showcase" / "replay.json").read_text())
    validate_export(document)
    assert document["binding_vow_version"] == "1.0.0" and len(document["replay"]) == 2


def test_pytest_mesocosm_platform_runs_one_platform_run(
    platform: Platform, alice: User, domain: dict[str, Any], tmp_path: Path
) -> None:
    repo = tmp_path / "wordle"
    shutil.copytree(WORDLE, repo)
    token = json.loads(alice.creds.read_text())["token"]
    with platform.client(token) as client:
        before = {r["id"] for r in client.get("/v1/me/runs", params={"limit": 100}).json()}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--mesocosm",
         "--mesocosm-platform", platform.bench, "--mesocosm-domain", DOMAIN,
         "--mesocosm-model", MODEL, "--mesocosm-episodes", "3", "-n", "2", "-rA"],
        cwd=repo, capture_output=True, text=True, timeout=300,
        env=child_env({"SWECC_BENCH_TOKEN": token}),
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "3 passed" in done.stdout
    assert "win_rate *" in done.stdout and "scored 3/3 episodes" in done.stdout
    with platform.client(token) as client:
        after = client.get("/v1/me/runs", params={"limit": 100}).json()
    new = [r for r in after if r["id"] not in before]
    assert len(new) == 1, new
    assert new[0]["config"]["seed_set"] == [0, 1, 2]


def test_pytest_mesocosm_platform_refusal_is_one_message_per_item(
    platform: Platform, alice: User, tmp_path: Path
) -> None:
    repo = tmp_path / "wordle"
    shutil.copytree(WORDLE, repo)
    token = json.loads(alice.creds.read_text())["token"]
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist",
         "--mesocosm", "--mesocosm-platform", platform.bench, "--mesocosm-domain", "nowhere",
         "--mesocosm-episodes", "2"],
        cwd=repo, capture_output=True, text=True, timeout=120,
        env=child_env({"SWECC_BENCH_TOKEN": token}),
    )
    assert done.returncode == 1, done.stdout[-3000:]
    refusal = (f"Wordle: HTTP 422 for POST {platform.bench}/v1/runs: Domain 'nowhere' not "
               "found")
    assert done.stdout.count(refusal) >= 2, done.stdout[-3000:]
    assert "2 errors" in done.stdout and "Traceback" not in done.stdout
