"""`mesocosm init` writes a working env repo; `mesocosm validate` checks JSON offline."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest
from click.testing import Result

from mesocosm_cli.scaffold import FILES
from pytest_mesocosm.engine.export import validate_export

Invoke = Callable[..., Result]
Mesocosm = Callable[..., subprocess.CompletedProcess[str]]
TARGETS = [dest for _, dest in FILES]
WORDLE = Path(__file__).resolve().parents[2] / "examples" / "wordle"


def _load(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_init_writes_every_file(invoke: Invoke, cli_env: Path) -> None:
    result = invoke("init")
    assert result.exit_code == 0, result.output
    for dest in TARGETS:
        assert (cli_env / dest).is_file(), dest
        assert f"created  {dest}\n" in result.output
    assert "mesocosm run local --model script:solver.py:policy" in result.output


def test_init_keeps_existing_files_unless_forced(invoke: Invoke, cli_env: Path) -> None:
    invoke("init", "--dir", "repo")
    mine = cli_env / "repo" / "env.py"
    mine.write_text("# my own env\n")
    again = invoke("init", "--dir", "repo")
    assert again.exit_code == 0
    assert mine.read_text() == "# my own env\n"
    for dest in TARGETS:
        assert f"skipped  {dest} (exists; --force overwrites it)" in again.output
    forced = invoke("init", "--dir", "repo", "--force")
    assert forced.exit_code == 0
    assert "overwritten env.py" in forced.output
    assert "class GuessNumberEnv" in mine.read_text()


def test_init_fills_gaps_only(invoke: Invoke, cli_env: Path) -> None:
    (cli_env / "benchanything.json").write_text("{}")
    result = invoke("init")
    assert "skipped  benchanything.json" in result.output
    assert "created  adapter.py" in result.output
    assert (cli_env / "benchanything.json").read_text() == "{}"


def test_init_into_a_file_is_a_usage_error(invoke: Invoke, cli_env: Path) -> None:
    (cli_env / "taken").write_text("x")
    result = invoke("init", "--dir", "taken")
    assert result.exit_code == 2 and "'taken'" in result.stderr


def test_init_where_it_cannot_write(invoke: Invoke, cli_env: Path) -> None:
    (cli_env / "repo").mkdir()
    (cli_env / "repo" / "showcase").write_text("a file where a folder goes")
    result = invoke("init", "--dir", "repo")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: cannot write the scaffold in repo")
    assert len(result.stderr.strip().splitlines()) == 1


def test_scaffold_contents(invoke: Invoke, cli_env: Path) -> None:
    invoke("init")
    workflow = (cli_env / ".github" / "workflows" / "mesocosm.yml").read_text()
    assert "pytest --mesocosm --mesocosm-model script:solver.py:policy" in workflow
    assert "pip install -r requirements.txt" in workflow
    assert (cli_env / "requirements.txt").read_text().split() == ["pytest-mesocosm"]
    assert "from pytest_mesocosm.sdk import" in (cli_env / "env.py").read_text()
    ignored = (cli_env / ".gitignore").read_text().splitlines()
    assert "**/.mesocosm/*" in ignored and "!**/.mesocosm/golden/" in ignored  # goldens kept
    for source in ("env.py", "adapter.py", "solver.py"):
        compile((cli_env / source).read_text(), source, "exec")
    validate_export(json.loads((cli_env / "showcase" / "replay.example.json").read_text()))


def test_scaffold_game_is_seeded_and_the_solver_always_wins(
    invoke: Invoke, cli_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    invoke("init")
    monkeypatch.syspath_prepend(str(cli_env))
    env_module = _load(cli_env / "env.py", "scaffold_env")
    policy = _load(cli_env / "solver.py", "scaffold_solver").policy
    secrets = []
    for seed in range(25):
        env = env_module.GuessNumberEnv()
        observation = env.reset(seed=seed)["data"]
        secrets.append(env._secret)
        for _ in range(7):
            result = env.step(policy(observation))
            observation = result.observation
            if result.terminated:
                break
        assert result.info == {"won": 1.0, "guesses": len(observation["history"])}, seed
    assert len(set(secrets)) > 10
    replay = env_module.GuessNumberEnv()
    assert replay.reset(seed=7) == env_module.GuessNumberEnv().reset(seed=7)


@pytest.mark.parametrize(("action", "message"), [("forty", "is not a whole number"),
                                                 ("101", "outside 1..100")])
def test_scaffold_game_rejects_bad_guesses(
    invoke: Invoke, cli_env: Path, monkeypatch: pytest.MonkeyPatch, action: str, message: str
) -> None:
    invoke("init")
    monkeypatch.syspath_prepend(str(cli_env))
    env_module = _load(cli_env / "env.py", "scaffold_env_invalid")
    env = env_module.GuessNumberEnv()
    env.reset(seed=1)
    with pytest.raises(env_module.InvalidAction, match=message):
        env.step(action)


# ------------------------------------------------------------------ validate


def test_validate_the_scaffold(invoke: Invoke, cli_env: Path) -> None:
    invoke("init")
    result = invoke("validate", "benchanything.json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {
        "ok": True, "issues": [], "suggested_fixes": [], "rules_version": "1",
        "schema": "benchanything_manifest",
    }


def test_validate_a_folder_and_ignore_base_url(invoke: Invoke) -> None:
    result = invoke("validate", str(WORDLE), "--base-url", "http://unused.invalid")
    assert result.exit_code == 0 and json.loads(result.stdout)["ok"] is True


def test_validate_invalid_json(invoke: Invoke, cli_env: Path) -> None:
    (cli_env / "bad.json").write_text('{"adapter": "adapter.py",\n  "name": }')
    result = invoke("validate", "bad.json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False
    assert report["issues"] == ["bad.json: invalid JSON at line 2, column 11: Expecting value"]


def test_validate_missing_file(invoke: Invoke) -> None:
    result = invoke("validate", "nope.json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["issues"] == ["nope.json: no such file"]


def test_validate_text_format_one_line_per_issue(invoke: Invoke, cli_env: Path) -> None:
    manifest = json.loads((WORDLE / "benchanything.json").read_text())
    manifest["binding_vow"]["episode"]["max_steps"] = 0
    manifest["scoring"]["primary_metric"] = "nope"
    (cli_env / "m.json").write_text(json.dumps(manifest))
    (cli_env / "adapter.py").write_text("")
    result = invoke("validate", "m.json", "--format", "text")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == "m.json: 2 problems (benchanything_manifest, rules 1)"
    issues = [line.strip() for line in lines[1:] if not line.startswith("    fix:")]
    assert issues[0] == "binding_vow.episode.max_steps: must be >= 1, got 0"
    assert any(i.startswith("scoring.primary_metric: ") for i in issues)
    assert all(line.startswith("    fix: ") for line in lines[2::2])


def test_validate_stdin_detects_a_register_body(invoke: Invoke) -> None:
    manifest = json.loads((WORDLE / "benchanything.json").read_text())
    body = {"id": "wordle", "name": "Wordle", "owner_id": 7, "endpoint": "http://env:8765",
            "binding_vow": manifest["binding_vow"], "scoring": manifest["scoring"]}
    result = invoke("validate", "-", input=json.dumps(body))
    assert result.exit_code == 0
    assert json.loads(result.stdout)["schema"] == "domain_register"
    body["endpoint"] = "not a url"
    result = invoke("validate", "-", "--format", "text", input=json.dumps(body))
    assert result.exit_code == 1
    assert "endpoint: must be an http(s) URL" in result.stdout


def test_init_and_validate_as_real_processes(mesocosm: Mesocosm, cli_env: Path) -> None:
    made = mesocosm("init", "--dir", "proc")
    assert made.returncode == 0, made.stderr
    checked = mesocosm("validate", "proc/benchanything.json")
    assert checked.returncode == 0 and json.loads(checked.stdout)["ok"] is True
    broken = mesocosm("validate", "-", input="[1, 2")
    assert broken.returncode == 1 and json.loads(broken.stdout)["ok"] is False
    assert broken.stderr == ""


def test_scaffold_python_files_are_lint_clean(invoke: Invoke, cli_env: Path) -> None:
    invoke("init")
    ruff = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "--isolated", "--select",
         "E,F,W,B,UP", "--line-length", "100", "env.py", "adapter.py", "solver.py"],
        cwd=cli_env, capture_output=True, text=True,
    )
    assert ruff.returncode == 0, ruff.stdout + ruff.stderr


def test_generated_manifests_carry_the_hosted_tier_and_validate_warns_without_it(
    invoke: Invoke, cli_env: Path
) -> None:
    invoke("init")
    manifest = cli_env / "benchanything.json"
    data = json.loads(manifest.read_text())
    assert data["binding_vow"]["tier"] == "tier1"  # the hosted runner requires it
    for example in WORDLE.parent.glob("*/benchanything.json"):
        assert json.loads(example.read_text())["binding_vow"]["tier"] == "tier1", example
    assert invoke("validate", "benchanything.json").stderr == ""

    del data["binding_vow"]["tier"]
    manifest.write_text(json.dumps(data))
    result = invoke("validate", "benchanything.json")
    assert result.exit_code == 0 and json.loads(result.stdout)["ok"] is True  # still valid
    assert result.stderr == (
        "warning: binding_vow.tier is missing: the hosted platform refuses a manifest without "
        'it; add "tier": "tier1" (or "tier2") to binding_vow\n'
    )
