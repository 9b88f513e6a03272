"""`run local --resume`: an interrupted or errored run finished later equals an unbroken one."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

from click.testing import Result
from support import SLOW_SOLVER, comparable_results

Invoke = Callable[..., Result]
WORDLE = Path(__file__).resolve().parents[2] / "examples" / "wordle"
def _repo(cli_env: Path) -> Path:
    repo = cli_env / "wordle"
    shutil.copytree(WORDLE, repo, ignore=shutil.ignore_patterns("__pycache__", ".mesocosm"))
    (repo / "slow.py").write_text(SLOW_SOLVER)
    return repo


def _args(repo: Path, out: str, dead_url: str) -> list[str]:
    return ["run", "local", "--manifest", str(repo), "--model", "script:slow.py:policy",
            "--episodes", "10", "--threshold", "win_rate>=0.5", "--out", out,
            "--env-url", dead_url, "--quiet"]


def _run_dir(out: Path) -> Path:
    (run_dir,) = [p for p in out.iterdir() if p.is_dir()]
    return run_dir


def test_a_run_stopped_by_sigint_resumes_to_the_same_results(
    invoke: Invoke, cli_env: Path, mesocosm_path: str, dead_url: str
) -> None:
    repo = _repo(cli_env)
    clean = invoke(*_args(repo, "clean", dead_url))
    assert clean.exit_code == 0, clean.output

    args = [a for a in _args(repo, "broken", dead_url) if a != "--quiet"]
    proc = subprocess.Popen([mesocosm_path, *args], cwd=cli_env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("episode 5/10"):
            break
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    run_dir = _run_dir(cli_env / "broken")
    partial = json.loads((run_dir / "results.json").read_text())
    assert partial["interrupted"] is True and 5 <= len(partial["results"]) < 10
    kept = [r["seed"] for r in partial["results"]]

    resumed = invoke(*_args(repo, "broken", dead_url), "--resume", str(run_dir))
    assert resumed.exit_code == 0, resumed.output
    assert (f"resuming {run_dir}: {len(kept)} episodes kept, {10 - len(kept)} to play "
            "(0 of them retried)") in resumed.stdout
    data = json.loads((run_dir / "results.json").read_text())
    assert data["resumed"]["kept"] == [f"seed={s}" for s in kept]
    assert data["resumed"]["played"] == [f"seed={s}" for s in range(10) if s not in kept]
    assert data["interrupted"] is False and data["complete"] is True
    assert comparable_results(run_dir) == comparable_results(_run_dir(cli_env / "clean"))
    assert len(list((run_dir / "traces").glob("*.jsonl"))) == 10


def test_retried_errors_do_not_change_a_deterministic_agents_numbers(
    invoke: Invoke, cli_env: Path, dead_url: str
) -> None:
    repo = _repo(cli_env)
    clean = invoke(*_args(repo, "clean", dead_url))
    assert clean.exit_code == 0, clean.output
    env = repo / "env.py"
    original = env.read_text()
    crash = ("        guess = check_guess(action)\n"
             "        if __import__('os').path.exists('CRASH') and self._secret < 'm':\n"
             "            raise RuntimeError('flaky env')\n")
    env.write_text(original.replace("        guess = check_guess(action)\n", crash))
    (repo / "CRASH").write_text("")
    broken = invoke(*_args(repo, "broken", dead_url))
    assert broken.exit_code in (1, 3), broken.output
    run_dir = _run_dir(cli_env / "broken")
    first = json.loads((run_dir / "results.json").read_text())
    errored = [f"seed={r['seed']}" for r in first["results"] if r["status"] == "env_error"]
    assert errored

    (repo / "CRASH").unlink()
    kept = invoke(*_args(repo, "broken", dead_url), "--resume", str(run_dir))
    assert "10 episodes kept, 0 to play" in kept.stdout  # errors stay unless asked
    assert kept.exit_code == broken.exit_code
    retried = invoke(*_args(repo, "broken", dead_url), "--resume", str(run_dir),
                     "--retry-errors")
    assert retried.exit_code == 0, retried.output
    data = json.loads((run_dir / "results.json").read_text())
    assert data["resumed"]["retried"] == errored == data["resumed"]["played"]
    assert comparable_results(run_dir) == comparable_results(_run_dir(cli_env / "clean"))


def test_resume_mistakes_are_one_line(invoke: Invoke, cli_env: Path, dead_url: str) -> None:
    repo = _repo(cli_env)
    lone = invoke(*_args(repo, "runs", dead_url), "--retry-errors")
    assert lone.exit_code == 2 and "--retry-errors needs --resume RUN_DIR" in lone.stderr
    missing = invoke(*_args(repo, "runs", dead_url), "--resume", "nowhere")
    assert missing.exit_code == 2
    assert missing.stderr.startswith("Error: --resume nowhere: ")
    assert len(missing.stderr.strip().splitlines()) == 1
    done = invoke(*_args(repo, "runs", dead_url))
    assert done.exit_code == 0
    fewer = [a if a != "10" else "4" for a in _args(repo, "runs", dead_url)]
    stray = invoke(*fewer, "--resume", str(_run_dir(cli_env / "runs")))
    assert stray.exit_code == 2
    assert stray.stderr.strip().endswith(
        "it holds episodes these options do not plan (seed=4, seed=5, seed=6, seed=7, seed=8); "
        "give the run's own --episodes/--seeds/--repeat")
