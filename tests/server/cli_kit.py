"""A person at a terminal for the CLI tests: their own credentials file, the real
``mesocosm`` CLI run in-process through click's runner."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result
from platform_kit import Platform

from mesocosm_cli.main import cli

PASSWORD = "pw-secret"
_CLEARED = ("MESOCOSM_BASE_URL", "SWECC_BENCH_URL", "BENCH_API_URL", "MESOCOSM_LOCAL",
            "SWECC_BENCH_TOKEN", "SWECC_BENCH_GUEST_TOKEN", "SWECC_SERVER_URL",
            "BENCH_AUTH_DISABLED")


class User:
    """One person at a terminal: their own credentials file, the real CLI in-process."""

    def __init__(self, home: Path, name: str):
        self.name = name
        self.creds = home / f"{name}.json"

    def __call__(self, *args: str, input: str | None = None, **env: str) -> Result:
        environ: dict[str, str | None] = dict.fromkeys(_CLEARED)
        environ.update({"SWECC_BENCH_CREDENTIALS": str(self.creds),
                        "LITELLM_LOCAL_MODEL_COST_MAP": "True", **env})
        return CliRunner(catch_exceptions=False).invoke(cli, list(args), input=input,
                                                        env=environ)

    def ok(self, *args: str, input: str | None = None) -> Result:
        result = self(*args, input=input)
        assert result.exit_code == 0, f"{args}: {result.output}"
        return result

    def login(self, platform: Platform) -> None:
        result = self.ok("auth", "login", "--server-url", platform.root,
                         input=f"{self.name}\n{PASSWORD}\n")
        assert result.stdout == "Logged in. Member JWT saved.\n"

    def user_id(self) -> int:
        return int(json.loads(self.ok("auth", "whoami").stdout)["user_id"])


def one_line(result: Result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    return lines[0]
