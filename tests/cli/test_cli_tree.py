"""The command tree mirrors the hosted CLI's reference: names, order, flags, honest stubs."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import click
import pytest
from click.testing import Result
from support import closed_port_url as closed_url

from mesocosm_cli.exit_codes import exit_code_for
from mesocosm_cli.main import cli
from mesocosm_platform.credentials import CredentialsError
from pytest_mesocosm import __version__
from pytest_mesocosm.engine.traces import TraceError
from pytest_mesocosm.errors import (
    AdapterStartError,
    AgentConfigError,
    EnvError,
    ManifestError,
    MesocosmError,
    ModelError,
    PlatformError,
)
from pytest_mesocosm.scoring.gate import ThresholdError

Invoke = Callable[..., Result]

TOP_LEVEL = ["auth", "team", "init", "run", "env", "register", "doctor", "validate", "eval"]
OURS = ["cache", "report", "server", "golden"]  # after the reference's commands

# Every command of the reference and the flags it documents (positionals in upper case).
REFERENCE: dict[str, set[str]] = {
    "auth login": {"--server-url", "--bench-url"},
    "auth token": {"--bench-url"},
    "auth guest": {"--bench-url"},
    "auth whoami": {"--bench-url"},
    "auth logout": set(),
    "team create": {"--name", "--use", "--bench-url"},
    "team join": {"CODE", "--bench-url"},
    "team list": {"--bench-url"},
    "team show": {"TEAM_ID"},
    "team use": {"TEAM_ID"},
    "team clear": set(),
    "team runs": {"TEAM_ID"},
    "team code show": {"TEAM_ID"},
    "team code regenerate": {"TEAM_ID"},
    "team members remove": {"TEAM_ID", "--user-id"},
    "team transfer": {"TEAM_ID", "--user-id"},
    "team leave": {"TEAM_ID"},
    "team delete": {"TEAM_ID"},
    "init": {"--dir", "--force", "--bench-url"},
    "run local": {"--manifest", "--domain-id", "--model", "--env-url", "--episodes", "--seeds",
                  "--system-prompt", "--temperature", "--max-tokens", "--parallel", "--quiet",
                  "--bench-url"},
    "run create": {"--domain", "--vow-version", "--model", "--episodes", "--parallel",
                   "--system-prompt", "--temperature", "--max-tokens", "--team", "--solo",
                   "--visibility", "--env-id", "--bench-url"},
    "run export": {"RUN_ID", "-o", "--output", "--bench-url"},
    "run get": {"RUN_ID", "--base-url"},
    "run episodes": {"RUN_ID", "--traces", "--base-url"},
    "env submit": {"--name", "--github-url", "--description", "--team", "--solo", "--bench-url"},
    "env list": {"--team", "--solo", "--bench-url"},
    "env delete": {"ENV_ID", "--bench-url"},
    "register": {"DOMAIN_FILE", "--auto-id", "--publish", "--bench-url"},
    "doctor": {"--base-url", "--local"},
    "validate": {"FILE", "--base-url"},
    "eval test": {"--domain-id", "--vow-version", "--model", "--env-url", "--seed",
                  "--temperature", "--max-tokens", "--base-url"},
    "eval run": {"--domain-id", "--vow-version", "--model", "--num-episodes", "--seed-set",
                 "--temperature", "--max-tokens", "--max-parallel", "--require-published",
                 "--allow-draft", "--base-url"},
}

# Platform commands with arguments that satisfy their required flags.
PLATFORM = [
    ["auth", "login"], ["auth", "guest"], ["auth", "whoami"],
    ["team", "create", "--name", "x"], ["team", "join", "abcd"], ["team", "list"],
    ["team", "show", "t"], ["team", "runs", "t"], ["team", "code", "show", "t"],
    ["team", "code", "regenerate", "t"], ["team", "members", "remove", "t", "--user-id", "7"],
    ["team", "transfer", "t", "--user-id", "7"], ["team", "leave", "t"], ["team", "delete", "t"],
    ["run", "create", "--domain", "d", "--vow-version", "1.0.0", "--model", "m"],
    ["run", "export", "r", "-o", "out.json"], ["run", "get", "r"], ["run", "episodes", "r"],
    ["env", "submit", "--name", "n", "--github-url", "https://github.com/a/b"],
    ["env", "list"], ["env", "delete", "e"], ["register", "domain.py", "--auto-id"],
    ["eval", "test", "--domain-id", "d", "--model", "m"],
    ["eval", "run", "--domain-id", "d", "--model", "m", "--seed-set", "[1,2]"],
]


def _command(path: str) -> click.Command:
    ctx = click.Context(cli)
    command: click.Command = cli
    for name in path.split():
        assert isinstance(command, click.Group)
        found = command.get_command(ctx, name)
        assert found is not None, f"`mesocosm {path}` is missing"
        command = found
    return command


def _flags(command: click.Command) -> set[str]:
    flags: set[str] = set()
    for param in command.params:
        if isinstance(param, click.Option):
            flags.update(param.opts + param.secondary_opts)
        else:
            flags.add(param.human_readable_name)
    return flags


@pytest.mark.parametrize("path", list(REFERENCE))
def test_reference_flags_are_declared(path: str) -> None:
    missing = REFERENCE[path] - _flags(_command(path))
    assert not missing, f"`mesocosm {path}` lacks {sorted(missing)}"


def test_root_help_shows_the_tree_in_reference_order(invoke: Invoke) -> None:
    result = invoke("--help")
    assert result.exit_code == 0
    body = result.output.split("Commands:")[1]
    top = [line.split()[0] for line in body.splitlines() if line.startswith("  ")
           and not line.startswith("   ")]
    assert top == TOP_LEVEL + OURS
    for nested in ("    login", "    local", "      regenerate", "    submit", "    test"):
        assert nested in body


def test_run_alone_shows_its_subcommands(invoke: Invoke) -> None:
    result = invoke("run")
    assert result.exit_code == 0
    names = [line.split()[0] for line in result.output.split("Commands:")[1].splitlines()
             if line.strip()]
    assert names == ["local", "create", "export", "get", "episodes"]


def test_version(invoke: Invoke) -> None:
    assert invoke("-V").output == f"mesocosm {__version__}\n"


@pytest.mark.parametrize("args", PLATFORM, ids=[" ".join(a[:3]) for a in PLATFORM])
def test_platform_commands_fail_in_one_line_when_nothing_answers(
    invoke: Invoke, args: list[str], tmp_path: Path
) -> None:
    (tmp_path / "work" / "domain.py").write_text("DOMAIN_CONFIG = {'id': 'd'}\n")
    dead = closed_url()
    env = {"MESOCOSM_BASE_URL": dead, "SWECC_SERVER_URL": dead, "SWECC_BENCH_TOKEN": "t"}
    result = invoke(*args, env=env, input="ada\npw\n")
    assert result.exit_code == 5, result.output
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"cannot reach {dead}/"), result.stderr
    assert "Traceback" not in result.output


def test_platform_commands_without_a_session_say_how_to_log_in(invoke: Invoke) -> None:
    result = invoke("team", "list")
    assert (result.exit_code, result.stderr) == (
        5, "Not authenticated. Run: mesocosm auth login  (member)  or  mesocosm auth guest\n")


@pytest.mark.parametrize("where", ["root", "group", "leaf"])
def test_bench_url_works_at_the_root_the_group_and_the_leaf(invoke: Invoke, where: str) -> None:
    dead = closed_url()
    flag = ["--bench-url", dead]
    args = {"root": [*flag, "team", "list"], "group": ["team", *flag, "list"],
            "leaf": ["team", "list", *flag]}[where]
    result = invoke(*args, env={"SWECC_BENCH_TOKEN": "t"})
    assert result.exit_code == 5
    assert result.stderr.startswith(f"cannot reach {dead}/v1/teams (ConnectError")


def test_base_url_works_at_the_root(invoke: Invoke) -> None:
    dead = closed_url()
    result = invoke("--base-url", dead, "run", "get", "r1")
    assert result.exit_code == 5
    assert json.loads(result.stdout)["url"] == f"{dead}/v1/runs/r1"


def test_missing_required_flag_is_a_usage_error(invoke: Invoke) -> None:
    result = invoke("team", "create")
    assert result.exit_code == 2 and "--name" in result.stderr


def test_real_process_tree_and_platform_error(
    mesocosm: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    helped = mesocosm("--help")
    assert helped.returncode == 0 and "register" in helped.stdout
    done = mesocosm("env", "list")
    assert done.returncode == 5
    assert done.stderr == (
        "Not authenticated. Run: mesocosm auth login  (member)  or  mesocosm auth guest\n"
    )


def test_help_stays_light() -> None:
    # The CLI starts for every command; engine, model and server stacks load only when used.
    probe = (
        "import sys, mesocosm_cli.main; "
        "print(sorted(m for m in ('litellm', 'aiohttp', 'fastapi', 'uvicorn', 'pydantic', "
        "'jsonschema', 'httpx') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("error", "code"),
    [(ManifestError("m"), 2), (AgentConfigError("a"), 2), (ThresholdError("t"), 2),
     (CredentialsError("c"), 2), (AdapterStartError("s"), 3), (EnvError("e", status=500), 3),
     (ModelError("o"), 4), (PlatformError("p", status=403), 5), (TraceError("x"), 1)],
)
def test_exit_code_table(error: MesocosmError, code: int) -> None:
    assert exit_code_for(error) == code
