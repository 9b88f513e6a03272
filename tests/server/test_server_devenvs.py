"""Developer environments end to end: local git repositories submitted to a real
``mesocosm server`` process, onboarded into their own virtualenvs, their adapters run
isolated and benched by the server's worker; broken ones fail with the reason.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cli_kit import User, one_line
from devenv_kit import (
    adapter_pids,
    commit,
    make_repo,
    reachable_folder,
    sandbox_python,
    wait_onboarded,
)
from platform_kit import Platform

from mesocosm_server.devenvs.layout import devenv_root
from mesocosm_server.settings import ServerSettings

MODEL = "ollama/llama3.2"
SECRET = "sk-test-never-shown-to-adapters-5f1c"
ENVS = "/v1/developer/environments"


@pytest.fixture(scope="module")
def sandbox_root(database_url: str) -> Iterator[Path]:
    """One per backend's server."""
    folder = reachable_folder("mesocosm-devenvs-")
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def server(database_url: str, ollama: str, sandbox_root: Path) -> Iterator[Platform]:
    """A server whose data folder any user may enter: only the files' own modes keep
    its database and key from the adapters."""
    data = sandbox_root / "data"
    data.mkdir()
    data.chmod(0o755)
    url = f"sqlite:///{data / 'server.db'}" if database_url.startswith("sqlite") else (
        database_url)
    platform = Platform(data, url, env={
        "OLLAMA_HOST": ollama, "OPENAI_API_KEY": SECRET,
        "MESOCOSM_SERVER_DEVENV_DIR": str(sandbox_root / "envs"),
        "MESOCOSM_SERVER_DEVENV_PYTHON": sandbox_python(),
        "MESOCOSM_SERVER_LEASE_SECONDS": "3"})
    platform.add_users("alice", "bob")
    platform.start()
    yield platform
    platform.stop()


@pytest.fixture(scope="module")
def alice(server: Platform, tmp_path_factory: pytest.TempPathFactory) -> User:
    user = User(tmp_path_factory.mktemp("home"), "alice")
    user.login(server)
    return user


@pytest.fixture(scope="module")
def token(server: Platform) -> str:
    return server.login("alice")


def submit(server: Platform, token: str, repo: Path, name: str) -> dict[str, Any]:
    with server.client(token) as client:
        made = client.post(ENVS, json={"name": name, "github_url": str(repo)})
        assert made.status_code in (200, 201), made.text
        return wait_onboarded(client, made.json()["id"])


def submission_folder(sandbox_root: Path, env_id: str, version: int = 1) -> Path:
    """The newest onboarding attempt's folder of that submission."""
    found = sorted((sandbox_root / "envs" / env_id).glob(f"v{version}.*"),
                   key=lambda p: int(p.name.split(".")[1]))
    return found[-1] if found else sandbox_root / "envs" / env_id / f"v{version}.none"


def test_cli_submit_bench_list_delete(server: Platform, alice: User, tmp_path: Path,
                                      sandbox_root: Path) -> None:
    repo = make_repo(tmp_path / "wordle")
    made = alice.ok("env", "submit", "--name", "wordle", "--github-url", str(repo), "--wait")
    env = json.loads(made.stdout)
    assert (env["status"], env["submission_version"], env["scope"]) == ("pending", 1, "solo")
    assert made.stderr.splitlines()[-1].startswith(f"environment {env['id']} ready: domain=")
    listed = alice.ok("env", "list").stdout.strip()
    domain_id = listed.rsplit("domain=", 1)[1]
    assert listed.startswith(f"{env['id']}  ready  solo  wordle")

    bench = alice.ok("run", "create", "--domain", domain_id, "--vow-version", "1.0.0",
                     "--model", MODEL, "--episodes", "5", "--wait")
    assert "status completed" in bench.stdout and "scored 5/5 episodes" in bench.stdout
    folder = submission_folder(sandbox_root, env["id"])
    first = adapter_pids(folder)
    assert first, "the adapter that played the run should still be up"
    for pid in first:  # it dies; the next run starts it again
        os.kill(pid, signal.SIGKILL)
    pinned = alice.ok("run", "create", "--domain", domain_id, "--vow-version", "1.0.0",
                      "--model", MODEL, "--env-id", env["id"], "--episodes", "1", "--wait")
    assert "scored 1/1 episodes" in pinned.stdout
    again = adapter_pids(folder)
    assert again and not set(again) & set(first)
    assert alice.ok("env", "delete", env["id"]).stdout == "Environment deleted.\n"
    deadline = time.monotonic() + 10
    while adapter_pids(folder) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert adapter_pids(folder) == [] and not folder.parent.exists()
    gone = alice("env", "delete", env["id"])
    assert gone.exit_code == 5
    assert one_line(gone).endswith(f"Environment '{env['id']}' not found")
    with server.client() as client:
        assert client.get(f"/v1/domains/{domain_id}").json()["status"] == "archived"


BROKEN_MANIFEST = {
    "adapter": "adapter.py", "name": "Broken",
    "binding_vow": {"version": "one", "tier": "tier1", "observation_space": {"type": "json"},
                    "action_space": {"type": "text"}, "reward": {"type": "binary"}},
    "scoring": {"primary_metric": "nowhere", "metrics": [
        {"name": "win_rate", "type": "terminal_field", "field": "won",
         "aggregation": "pass_rate"}]},
}
SOURCE_ONLY = '[project]\nname = "helper"\nversion = "0.1"\n'
EXITS = "import sys\nprint('missing WORDLE_CONFIG, giving up', file=sys.stderr)\nsys.exit(3)\n"


def test_broken_repositories_fail_with_the_reason(server: Platform, token: str, alice: User,
                                                  tmp_path: Path, sandbox_root: Path) -> None:
    manifest = make_repo(tmp_path / "manifest", {
        "benchanything.json": json.dumps(BROKEN_MANIFEST)})
    requirements = make_repo(tmp_path / "requirements", {
        "requirements.txt": "./helper\n", "helper/pyproject.toml": SOURCE_ONLY})
    exits = make_repo(tmp_path / "exits", {"adapter.py": EXITS})
    no_manifest = make_repo(tmp_path / "bare")
    (no_manifest / "benchanything.json").unlink()
    commit(no_manifest, {}, "no manifest")

    failed = {name: submit(server, token, repo, name) for name, repo in (
        ("manifest", manifest), ("requirements", requirements), ("exits", exits),
        ("bare", no_manifest))}
    assert {state["status"] for state in failed.values()} == {"failed"}
    message = failed["manifest"]["error_message"]
    assert message.startswith("Invalid benchanything.json: ")
    assert "binding_vow.version" in message and "primary_metric" in message  # all at once
    assert failed["requirements"]["error_message"].startswith(
        "Installing requirements.txt failed (exit code ")
    assert "helper" in failed["requirements"]["error_message"]
    assert failed["exits"]["error_message"].startswith("Adapter failed to start: ")
    assert "exited with code 3" in failed["exits"]["error_message"]
    assert "missing WORDLE_CONFIG, giving up" in failed["exits"]["error_message"]
    assert failed["bare"]["error_message"].startswith("No benchanything.json found at the "
                                                      "repository root")
    assert all(state["domain_id"] is None for state in failed.values())
    for state in failed.values():
        assert adapter_pids(sandbox_root / "envs" / state["id"]) == []

    with server.client(token) as client:
        retried = client.post(f"{ENVS}/{failed['exits']['id']}/retry")
        assert (retried.status_code, retried.json()["status"]) == (200, "pending")
        assert wait_onboarded(client, failed["exits"]["id"])["status"] == "failed"

    again = alice("env", "submit", "--name", "exits", "--github-url", str(exits), "--wait")
    assert again.exit_code == 1 and "Traceback" not in again.output
    assert json.loads(again.stdout)["submission_version"] == 2  # the same env, resubmitted
    assert (f"Error: environment {failed['exits']['id']} failed: Adapter failed to start: "
            in again.stderr)
    assert again.stderr.rstrip().endswith("missing WORDLE_CONFIG, giving up")  # its log


SPY_ADAPTER = """\
import argparse, json, os, resource
from pathlib import Path

from env import WordleEnv
from pytest_mesocosm.sdk import serve

SERVER_FILES = {files!r}


def readable(path):
    try:
        Path(path).read_bytes()
    except OSError:
        return False
    return True


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    report = {{"environ": dict(os.environ), "uid": os.getuid(),
               "readable": {{path: readable(path) for path in SERVER_FILES}},
               "nofile": resource.getrlimit(resource.RLIMIT_NOFILE)[0],
               "memory": resource.getrlimit(resource.RLIMIT_AS)[0]}}
    print("REPORT " + json.dumps(report), flush=True)
    serve(WordleEnv, host="127.0.0.1", port=args.port)
"""


def test_adapter_sees_no_server_secret(server: Platform, token: str, tmp_path: Path,
                                       sandbox_root: Path) -> None:
    files = [str(server.data_dir / "server.key")]
    if server.database_url.startswith("sqlite"):
        files.append(str(server.data_dir / "server.db"))
    repo = make_repo(tmp_path / "spy", {"adapter.py": SPY_ADAPTER.format(files=files)})
    state = submit(server, token, repo, "spy")
    assert state["status"] == "ready", state
    log = (submission_folder(sandbox_root, state["id"]) / "adapter.log").read_text()
    report = json.loads(log.split("REPORT ", 1)[1].splitlines()[0])
    environ = report["environ"]
    assert not [k for k in environ if k.startswith(("MESOCOSM_", "OPENAI", "OLLAMA"))]
    assert SECRET not in json.dumps(environ) and server.database_url not in json.dumps(environ)
    assert set(environ) <= {"PATH", "VIRTUAL_ENV", "HOME", "TMPDIR", "LANG",
                            "PYTHONDONTWRITEBYTECODE", "PYTHONNOUSERSITE", "PYTHONUNBUFFERED",
                            "LC_CTYPE"}
    assert (report["nofile"], report["memory"]) == (1024, 2048 * 1024 * 1024)
    if os.geteuid() != 0:
        pytest.skip("not root: adapters run as the server's own user, which may read its "
                    "files; the user switch is checked only when the tests run as root")
    assert report["uid"] != 0
    assert report["readable"] == dict.fromkeys(files, False)


def _vow_version(repo: Path, version: str) -> dict[str, str]:
    manifest = json.loads((repo / "benchanything.json").read_text())
    manifest["binding_vow"]["version"] = version
    return {"benchanything.json": json.dumps(manifest)}


def _bench(client: httpx.Client, domain_id: str, version: str, **extra: Any) -> httpx.Response:
    return client.post("/v1/runs", json={
        "domain_id": domain_id, "binding_vow_version": version, "num_episodes": 2,
        "agent_config": {"model": MODEL}, "visibility": "private", **extra})


def _finished(client: httpx.Client, run_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        run: dict[str, Any] = client.get(f"/v1/runs/{run_id}").json()
        if run["status"] in ("completed", "failed") or time.monotonic() > deadline:
            return run
        time.sleep(0.2)


def test_resubmission_with_a_new_vow_version_keeps_old_runs(
    server: Platform, token: str, tmp_path: Path, sandbox_root: Path
) -> None:
    repo = make_repo(tmp_path / "wordle")
    first = submit(server, token, repo, "wordle")
    domain_id = first["domain_id"]
    with server.client(token) as client:
        old_run = _bench(client, domain_id, "1.0.0").json()
        assert _finished(client, old_run["id"])["status"] == "completed"

        commit(repo, _vow_version(repo, "1.1.0"), "vow 1.1.0")
        again = client.post(ENVS, json={"name": "wordle v2", "github_url": f"{repo}/"})
        assert again.status_code == 200, again.text
        body = again.json()
        assert (body["id"], body["status"], body["submission_version"]) == (
            first["id"], "pending", 2)
        assert body["resubmitted_at"] is not None and body["domain_id"] == domain_id
        assert wait_onboarded(client, first["id"])["status"] == "ready"

        domain = client.get(f"/v1/domains/{domain_id}").json()
        assert domain["binding_vow"]["version"] == "1.1.0"
        assert [v["version"] for v in domain["version_history"]] == ["1.1.0"]
        refused = _bench(client, domain_id, "1.0.0")
        assert refused.status_code == 422
        assert "domain has '1.1.0', requested '1.0.0'" in refused.json()["detail"]
        new_run = _bench(client, domain_id, "1.1.0").json()
        assert _finished(client, new_run["id"])["status"] == "completed"

        kept = client.get(f"/v1/runs/{old_run['id']}").json()
        assert (kept["status"], kept["config"]["binding_vow_version"]) == ("completed",
                                                                           "1.0.0")
        assert len(client.get(f"/v1/runs/{old_run['id']}/episodes").json()) == 2
        export = client.get(f"/v1/runs/{old_run['id']}/export").json()
        assert export["binding_vow_version"] == "1.0.0" and len(export["replay"]) == 2
        runs = client.get(f"{ENVS}/{first['id']}/runs").json()
        assert {r["id"] for r in runs} == {old_run["id"], new_run["id"]}
        usage = client.get(f"{ENVS}/{first['id']}/usage").json()
        assert (usage["total_runs"], usage["total_episodes"]) == (2, 4)
    assert not submission_folder(sandbox_root, first["id"], 1).exists()
    assert adapter_pids(submission_folder(sandbox_root, first["id"], 2))


def test_access_rules_and_run_checks(server: Platform, token: str, tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "wordle")
    ready = submit(server, token, repo, "mine")
    bob = server.login("bob")
    with server.client(bob) as client:
        assert client.get(f"{ENVS}/{ready['id']}").status_code == 403
        assert client.get(f"{ENVS}/{ready['id']}/poll").json() == {
            "detail": "Not allowed to access this environment"}
        assert client.delete(f"{ENVS}/{ready['id']}").status_code == 403
        assert client.get(ENVS).json() == []
        assert client.get(f"/v1/domains/{ready['domain_id']}/environments").json() == []
        refused = _bench(client, ready["domain_id"], "1.0.0", env_id=ready["id"])
        assert (refused.status_code, refused.json()["detail"]) == (
            403, "Not allowed to access this environment")
    with server.client() as anonymous:
        assert anonymous.get(f"{ENVS}/{ready['id']}").status_code == 403
        assert anonymous.post(ENVS, json={"name": "x", "github_url": "x"}).status_code == 401
    with server.client(token) as client:
        assert client.get(f"{ENVS}/nope").json() == {"detail": "Environment 'nope' not found"}
        detail = client.get(f"{ENVS}/{ready['id']}").json()
        assert detail["usage"] == {"domain_id": ready["domain_id"], "env_id": ready["id"],
                                   "total_runs": 0, "total_episodes": 0, "avg_score": None,
                                   "best_score": None, "leaderboard_entries": 0}
        assert detail["created_at"].endswith("+00:00")
        assert ready["id"] in {e["id"] for e in client.get(ENVS).json()}
        by_domain = client.get(ENVS, params={"domain_id": ready["domain_id"]}).json()
        assert [e["id"] for e in by_domain] == [ready["id"]]
        on_domain = client.get(f"/v1/domains/{ready['domain_id']}/environments").json()
        assert on_domain == [{"id": ready["id"], "name": "mine", "status": "ready",
                              "domain_id": ready["domain_id"], "env_url": ready["env_url"],
                              "scope": "solo", "team_id": None}]
        assert client.get(ENVS, params={"scope": "team"}).json() == {
            "detail": "team_id required for team scope"}
        again = client.post(f"{ENVS}/{ready['id']}/retry")
        assert (again.status_code, again.json()) == (409, {
            "detail": "Environment is already ready"})
        mismatch = _bench(client, "wordle-elsewhere", "1.0.0", env_id=ready["id"])
        assert (mismatch.status_code, mismatch.json()["detail"]) == (
            422, "env_id does not match run domain_id")
        elsewhere = client.post(ENVS, json={"name": "gl", "github_url": "GitLab.com/A/B.git/"})
        assert elsewhere.json()["github_url"] == "https://gitlab.com/a/b"  # hosted normalising
        assert wait_onboarded(client, elsewhere.json()["id"])["error_message"] == (
            "Repository URL 'https://gitlab.com/a/b' is not accepted: submit "
            "https://github.com/<owner>/<repo>")
        usage_url = f"/v1/developer/domains/{ready['domain_id']}/usage"
        usage = client.get(usage_url).json()
        assert usage["total_runs"] == 0 and usage["by_status"] == {}
    with server.client(None) as anonymous:  # public on the hosted service (its 11.6)
        assert anonymous.get(usage_url).status_code == 401
    with server.client(server.login("bob")) as other:
        refused = other.get(usage_url)
        assert (refused.status_code, refused.json()) == (
            403, {"detail": "Not allowed to read this domain's usage"})


def test_team_environments(server: Platform, token: str, tmp_path: Path,
                           sandbox_root: Path) -> None:
    bob = server.login("bob")
    with server.client(token) as client:
        team = client.post("/v1/teams", json={"name": "Envs"}).json()
        with server.client(bob) as other:
            assert other.post("/v1/teams/join", json={"code": team["join_code"]}).status_code \
                == 200
            refused = other.post(ENVS, json={"name": "x", "github_url": "/x",
                                             "team_id": "not-a-uuid"})
            assert (refused.status_code, refused.json()) == (422, {"detail": "Invalid team_id"})
        made = client.post(ENVS, json={"name": "shared", "team_id": team["team_id"],
                                       "github_url": str(make_repo(tmp_path / "shared"))})
        assert made.status_code == 201 and made.json()["scope"] == "team"
        env_id = made.json()["id"]
        state = wait_onboarded(client, env_id)
        assert state["status"] == "ready", state
        context = client.get("/v1/me/context").json()
        assert [t["env_count"] for t in context["teams"]
                if t["team_id"] == team["team_id"]] == [1]
    with server.client(bob) as other:
        seen = other.get(f"/v1/teams/{team['team_id']}/environments").json()
        assert [(e["id"], e["actor_type"], e["scope"]) for e in seen] == [
            (env_id, "member", "team")]
        listed = other.get(ENVS, params={"scope": "team", "team_id": team["team_id"]}).json()
        assert [e["id"] for e in listed] == [env_id]
        run = _bench(other, state["domain_id"], "1.0.0", team_id=team["team_id"]).json()
        assert run["env_id"] == env_id  # the team's only ready env on the domain
        assert _finished(other, run["id"])["status"] == "completed"
    folder = sandbox_root / "envs" / env_id
    assert adapter_pids(folder)
    with server.client(token) as client:
        assert client.delete(f"/v1/teams/{team['team_id']}").status_code == 204
        assert client.get(f"{ENVS}/{env_id}").status_code == 404
    assert adapter_pids(folder) == [] and not folder.exists()


SLOW_ADAPTER = """\
import argparse, time

from env import WordleEnv
from pytest_mesocosm.sdk import serve

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    time.sleep(4)
    serve(WordleEnv, host="127.0.0.1", port=args.port)
"""


def test_onboarding_survives_a_killed_server(server: Platform, token: str, tmp_path: Path,
                                             sandbox_root: Path) -> None:
    """kill -9 while the adapter starts; the restarted server reaps the orphan adapter
    and onboards again once the lease expires."""
    repo = make_repo(tmp_path / "slow", {"adapter.py": SLOW_ADAPTER})
    with server.client(token) as client:
        env_id = client.post(ENVS, json={"name": "slow", "github_url": str(repo)}).json()["id"]
        folder = sandbox_root / "envs" / env_id
        deadline = time.monotonic() + 60
        poll = f"{ENVS}/{env_id}/poll"
        while not adapter_pids(folder) and time.monotonic() < deadline:
            assert client.get(poll).json()["status"] in ("pending", "cloning")
            time.sleep(0.05)
        orphans = adapter_pids(folder)
        assert orphans, (client.get(poll).json(), server.log.read_text()[-3000:])
        busy = client.post(ENVS, json={"name": "slow", "github_url": str(repo)})
        assert (busy.status_code, busy.json()) == (409, {"detail": {
            "message": "This repository is already being onboarded", "environment_id": env_id}})
    server.kill()
    server.start()
    with server.client(token) as client:
        state = wait_onboarded(client, env_id)
    assert state["status"] == "ready", state
    assert not set(orphans) & set(adapter_pids(folder))
    with server.client(token) as client:
        run = _bench(client, state["domain_id"], "1.0.0").json()
        assert _finished(client, run["id"])["status"] == "completed"


def test_defaults_work_on_a_fresh_machine(ollama: str, tmp_path: Path) -> None:
    """No devenv setting at all: the server finds a folder and an interpreter the sandbox
    user can use by itself (as root, pytest's 0700 folders and a Python under /root are
    out of its reach)."""
    data = tmp_path / "server"
    platform = Platform(data, f"sqlite:///{data / 'server.db'}", env={"OLLAMA_HOST": ollama})
    platform.add_users("alice")
    root = devenv_root(ServerSettings(data_dir=data))
    platform.start()
    try:
        user = User(tmp_path, "alice")
        user.login(platform)
        repo = make_repo(tmp_path / "wordle")
        relative = os.path.relpath(repo)  # the CLI sends a local folder's absolute path
        made = user("env", "submit", "--name", "wordle", "--github-url", relative, "--wait")
        assert made.exit_code == 0, (made.output, platform.log.read_text()[-2000:])
        assert json.loads(made.stdout)["github_url"] == str(repo)
        domain_id = user.ok("env", "list").stdout.strip().rsplit("domain=", 1)[1]
        bench = user.ok("run", "create", "--domain", domain_id, "--vow-version", "1.0.0",
                        "--model", MODEL, "--episodes", "2", "--wait")
        assert "scored 2/2 episodes" in bench.stdout
        assert root.is_dir() and adapter_pids(root)
    finally:
        platform.stop()
        shutil.rmtree(root, ignore_errors=True)
        with contextlib.suppress(OSError):
            root.parent.rmdir()  # /var/lib/mesocosm when the tests made it (run as root)
    assert adapter_pids(root) == []
