"""Faults met through ``mesocosm run local`` and ``doctor``: each one run as a real process.

Issue 8's front-end items: an explicit --parallel wins over the vow (B1), both forms of
--seeds (B3), --python taken from the working directory and on doctor (B4), Ctrl-C that
prints the partial results and nothing else (C3) with traces that say so (C4), an output
folder that cannot be made (C6), an adapter of another env (C8), exit codes that mean
what the help says (C10).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support import (
    EXAMPLES,
    FAKE_OLLAMA,
    cli,
    closed_port_url,
    free_port,
    no_harness_traceback,
    wait_for_port,
    write_counter_repo,
    write_policy,
)

from pytest_mesocosm import AdapterProcess

WORDLE = EXAMPLES / "wordle"


@pytest.fixture
def quiet_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """No adapter and no model answer at the default places."""
    env = {"MESOCOSM_ENV_URL": closed_port_url(), "OLLAMA_HOST": closed_port_url(),
           "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


def results(out: Path) -> dict[str, Any]:
    (found,) = out.rglob("results.json")
    data: dict[str, Any] = json.loads(found.read_text())
    return data


def one_error_line(proc: subprocess.CompletedProcess[str]) -> str:
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert no_harness_traceback(proc.stdout + proc.stderr)
    return lines[0]


CONCURRENCY_POLICY = """\
global ACTIVE, MOST
try:
    ACTIVE += 1
except NameError:
    ACTIVE = MOST = 1
MOST = max(MOST, ACTIVE)
open(__file__ + ".most", "w").write(str(MOST))
await asyncio.sleep(0.2)
ACTIVE -= 1
return "up"
"""


def test_an_explicit_parallel_wins_over_the_vows_parallel_episodes(
    tmp_path: Path, quiet_env: dict[str, str]
) -> None:
    repo = write_counter_repo(tmp_path / "repo", parallel_episodes=1).parent
    policy = write_policy(repo, CONCURRENCY_POLICY, is_async=True)
    run = cli("run", "local", "--model", policy, "--episodes", "4", "--parallel", "4",
              "--out", str(tmp_path / "runs"), "--quiet", cwd=repo)
    assert run.returncode == 0, run.stdout + run.stderr
    assert ("Counter: playing 4 episodes at once, more than the binding vow's "
            "parallel_episodes=1") in run.stdout.splitlines()
    assert int((repo / "custom_policy.py.most").read_text()) > 1  # really at once


@pytest.mark.parametrize("seeds", [["1", "2", "3"], ["1 2 3"]], ids=["words", "one-string"])
def test_seeds_in_both_forms(tmp_path: Path, quiet_env: dict[str, str], seeds: list[str]) -> None:
    run = cli("run", "local", "--manifest", str(WORDLE), "--model", "script:solver.py:policy",
              "--seeds", *seeds, "--out", str(tmp_path / "runs"), "--quiet", cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert [r["seed"] for r in results(tmp_path / "runs")["results"]] == [1, 2, 3]


def test_a_stray_word_is_not_taken_for_a_seed(tmp_path: Path, quiet_env: dict[str, str]) -> None:
    run = cli("run", "local", "--manifest", str(WORDLE), "--episodes", "2", "3", cwd=tmp_path)
    assert run.returncode == 2
    assert "unexpected argument '3'" in run.stderr


def test_relative_python_is_taken_from_the_working_directory(
    tmp_path: Path, quiet_env: dict[str, str]
) -> None:
    venv = tmp_path / "venv" / "bin"
    venv.mkdir(parents=True)
    (venv / "python").symlink_to(sys.executable)
    work = tmp_path / "work"
    work.mkdir()
    run = cli("run", "local", "--manifest", str(WORDLE), "--model", "script:solver.py:policy",
              "--episodes", "1", "--python", "../venv/bin/python", "--out", "runs", "--quiet",
              cwd=work)
    assert run.returncode == 0, run.stdout + run.stderr


def test_doctor_local_starts_the_adapter_with_the_named_python(
    tmp_path: Path, quiet_env: dict[str, str]
) -> None:
    missing = tmp_path / "no-such-python"
    run = cli("doctor", "--local", "--manifest", str(WORDLE), "--python", str(missing),
              cwd=tmp_path)
    assert run.returncode == 1, run.stdout + run.stderr
    report = json.loads(run.stdout)
    adapter = next(c for c in report["checks"] if c["name"] == "adapter")
    assert adapter["status"] == "fail" and str(missing) in adapter["detail"]
    works = cli("doctor", "--local", "--manifest", str(WORDLE), "--python", sys.executable,
                cwd=tmp_path)
    adapter = next(c for c in json.loads(works.stdout)["checks"] if c["name"] == "adapter")
    assert adapter["status"] == "pass", works.stdout


@pytest.fixture
def slow_ollama() -> Iterator[str]:
    """The fake Ollama server as a process, answering every call after 0.3 s."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, str(FAKE_OLLAMA), "--port", str(port), "--latency", "0.3",
         "--reply", "crane"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


def test_ctrl_c_prints_the_partial_results_and_nothing_else(
    tmp_path: Path, quiet_env: dict[str, str], slow_ollama: str
) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "mesocosm_cli.main", "run", "local", "--manifest", str(WORDLE),
         "--model", "ollama/llama3.2", "--api-base", slow_ollama, "--episodes", "12",
         "--parallel", "4", "--out", "runs"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, **quiet_env},
    )
    assert proc.stdout is not None
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if line.startswith("episode 1/12"):
            break
    proc.send_signal(signal.SIGINT)
    rest, err = proc.communicate(timeout=60)
    out = "".join(seen) + rest
    assert proc.returncode == 130, out + err
    assert err.strip().splitlines() == [
        "Error: interrupted; the partial results above are saved"], err
    assert no_harness_traceback(out + err)
    assert "(interrupted)" in out and "gate:" in out
    data = results(tmp_path / "runs")
    assert data["interrupted"] is True and data["complete"] is False
    finished = {str(tmp_path / r["trace_path"]) for r in data["results"]}  # --out is relative
    traces = sorted((tmp_path / "runs").rglob("*.jsonl"))
    ends = {str(p): json.loads(p.read_text().splitlines()[-1]) for p in traces}
    assert all(e["event"] == "episode_end" for e in ends.values())
    cut = [e["status"] for path, e in ends.items() if path not in finished]
    assert cut and set(cut) == {"interrupted"}  # the episodes cut short say so
    assert all(ends[path]["status"] != "interrupted" for path in finished)


def test_an_output_folder_that_cannot_be_made_is_one_line(
    tmp_path: Path, quiet_env: dict[str, str]
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    run = cli("run", "local", "--manifest", str(WORDLE), "--model", "script:solver.py:policy",
              "--out", str(blocker / "runs"), cwd=tmp_path)
    assert run.returncode != 0
    line = one_error_line(run)
    assert line.startswith(f"Error: cannot create the runs folder {blocker / 'runs'}: ")
    assert "--out" in line


def test_an_adapter_of_another_env_is_refused(tmp_path: Path, quiet_env: dict[str, str]) -> None:
    other = AdapterProcess(EXAMPLES / "numberline" / "adapter.py", log_path=tmp_path / "a.log")
    with other:
        run = cli("run", "local", "--manifest", str(WORDLE), "--model",
                  "script:solver.py:policy", "--env-url", other.url, "--out", "runs",
                  cwd=tmp_path)
        assert run.returncode == 3, run.stdout + run.stderr
        assert one_error_line(run) == (
            f"Error: the adapter at {other.url} serves NumberlineEnv, but adapter.py of Wordle "
            "serves WordleEnv; stop it, or point the env URL at this env's adapter")
        assert not (tmp_path / "runs").exists() or not list((tmp_path / "runs").rglob("*.jsonl"))


def test_the_adapter_used_is_named_on_one_line(tmp_path: Path, quiet_env: dict[str, str]) -> None:
    wordle = AdapterProcess(WORDLE / "adapter.py", log_path=tmp_path / "a.log")
    with wordle:
        run = cli("run", "local", "--manifest", str(WORDLE), "--model",
                  "script:solver.py:policy", "--env-url", wordle.url, "--episodes", "1",
                  "--out", "runs", "--quiet", cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.splitlines()[0] == f"using the adapter at {wordle.url} (env WordleEnv)"


def test_every_episode_an_env_error_exits_3(tmp_path: Path, quiet_env: dict[str, str]) -> None:
    repo = write_counter_repo(tmp_path / "repo", "raise RuntimeError('jammed')").parent
    run = cli("run", "local", "--model", "script:policy.py:policy", "--episodes", "2",
              "--out", "runs", "--quiet", cwd=repo)
    assert run.returncode == 3, run.stdout + run.stderr
    assert one_error_line(run) == "Error: every episode ended in env_error; see the errors above"


def test_every_episode_a_model_error_exits_4(tmp_path: Path, quiet_env: dict[str, str]) -> None:
    repo = write_counter_repo(tmp_path / "repo").parent
    policy = write_policy(repo, "raise RuntimeError('no model today')")
    run = cli("run", "local", "--model", policy, "--episodes", "2", "--out", "runs", "--quiet",
              cwd=repo)
    assert run.returncode == 4, run.stdout + run.stderr
    assert one_error_line(run) == (
        "Error: every episode ended in model_error; see the errors above")
