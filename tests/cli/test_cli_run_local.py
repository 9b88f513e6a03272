"""`mesocosm run local` end to end: real adapters, real processes, script and Ollama-API models."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

Invoke = Callable[..., Result]
Mesocosm = Callable[..., subprocess.CompletedProcess[str]]
ROOT = Path(__file__).resolve().parents[2]
WORDLE = ROOT / "examples" / "wordle"
WORDLE_MANIFEST = str(WORDLE / "benchanything.json")


def _error_line(result: Result | subprocess.CompletedProcess[str]) -> str:
    lines = result.stderr.strip().splitlines()
    assert lines, "nothing on stderr"
    return lines[0]


def _results(out: Path) -> dict[str, Any]:
    (run_dir,) = [p for p in out.iterdir() if p.is_dir()]
    data: dict[str, Any] = json.loads((run_dir / "results.json").read_text())
    return data


# ------------------------------------------------------------------ the scaffold, end to end


def test_init_validate_doctor_run_in_process(invoke: Invoke, cli_env: Path, dead_url: str) -> None:
    assert invoke("init").exit_code == 0
    assert invoke("validate", "benchanything.json").exit_code == 0
    doctor = invoke("doctor", "--local")
    assert doctor.exit_code == 0, doctor.output
    report = json.loads(doctor.stdout)
    statuses = {c["name"]: c["status"] for c in report["checks"]}
    assert statuses["adapter"] == "pass" and statuses["conformance"] == "pass"
    assert statuses["model"] == "warn"  # no Ollama here: said, not failed
    result = invoke("run", "local", "--model", "script:solver.py:policy", "--episodes", "3",
                    "--env-url", dead_url, "--out", "runs")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert re.search(rf"^no adapter answers at {dead_url}; started the manifest's adapter "
                     r"adapter\.py at http://127\.0\.0\.1:\d+$", out, re.M)
    for i in range(3):
        assert f"episode {i + 1}/3  seed={i} completed  win_rate so far 1.00  errors 0" in out
    assert "model script:solver.py:policy  domain work  episodes 3/3" in out
    assert "win_rate *" in out and "scored 3/3 episodes" in out and "gate: PASSED" in out
    assert re.search(r"^win_rate \*.*>=0\.5\s+pass$", out, re.M)  # the manifest's threshold
    data = _results(cli_env / "runs")
    assert [r["seed"] for r in data["results"]] == [0, 1, 2]
    traces = Path(data["results"][0]["trace_path"])
    assert traces.is_file() and str(traces.parent) in out


def test_scaffold_end_to_end_as_real_processes(mesocosm: Mesocosm, cli_env: Path) -> None:
    assert mesocosm("init", "--dir", "repo").returncode == 0
    repo = cli_env / "repo"
    assert mesocosm("validate", "benchanything.json", cwd=repo).returncode == 0
    doctor = mesocosm("doctor", "--local", cwd=repo)
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    run = mesocosm("run", "local", "--model", "script:solver.py:policy", "--seeds", "5 6",
                   "--out", str(cli_env / "runs"), "--quiet", cwd=repo)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "episode 1/" not in run.stdout  # --quiet: no progress lines
    assert "scored 2/2 episodes" in run.stdout
    assert [r["seed"] for r in _results(cli_env / "runs")["results"]] == [5, 6]


# ------------------------------------------------------------------ Wordle and thresholds


def test_wordle_solver_passes_a_threshold(invoke: Invoke, cli_env: Path, dead_url: str) -> None:
    result = invoke("run", "local", "--manifest", WORDLE_MANIFEST, "--env-url", dead_url,
                    "--model",
                    "script:solver.py:policy", "--episodes", "4", "--parallel", "2",
                    "--threshold", "win_rate>=0.5", "--out", "runs", "--domain-id", "my-wordle")
    assert result.exit_code == 0, result.output
    assert "domain my-wordle" in result.output
    assert "gate: PASSED" in result.output


def test_a_threshold_it_cannot_meet_fails_and_says_which(
    invoke: Invoke, cli_env: Path, dead_url: str
) -> None:
    result = invoke("run", "local", "--manifest", WORDLE_MANIFEST, "--env-url", dead_url,
                    "--model",
                    "script:solver.py:policy", "--episodes", "2", "--threshold",
                    "win_rate>=0.5", "--threshold", "mean_steps<=1", "--out", "runs", "--quiet")
    assert result.exit_code == 1
    assert "gate: FAILED" in result.stdout
    line = _error_line(result)
    assert line.startswith("Error: gate failed: mean_steps<=1 missed: mean_steps is ")
    assert "win_rate" not in line


def test_weak_policy_misses_the_win_rate(mesocosm: Mesocosm, cli_env: Path, dead_url: str) -> None:
    run = mesocosm("run", "local", "--manifest", WORDLE_MANIFEST, "--env-url", dead_url,
                   "--model",
                   "script:solver.py:weak_policy", "--episodes", "3", "--threshold",
                   "win_rate>=0.5", "--out", "runs")
    assert run.returncode == 1, run.stdout + run.stderr
    assert _error_line(run).startswith("Error: gate failed: win_rate>=0.5 missed: win_rate is ")


def test_uses_an_adapter_that_already_answers(
    invoke: Invoke, start_adapter: Callable[[Path], str]
) -> None:
    url = start_adapter(WORDLE / "adapter.py")
    result = invoke("run", "local", "--manifest", str(WORDLE), "--model",
                    "script:solver.py:policy", "--episodes", "1", "--env-url", url,
                    "--out", "runs", "--repeat", "2")
    assert result.exit_code == 0, result.output
    assert f"using the adapter at {url} (env WordleEnv)" in result.output
    assert "seed=0-r1" in result.output and "pass@1" in result.output


# ------------------------------------------------------------------ an Ollama-API model


def test_ollama_model_through_the_fake_server(
    invoke: Invoke, cli_env: Path, fake_ollama: Callable[..., Any], dead_url: str
) -> None:
    fake = fake_ollama(replies=["crane", "slate", "trace", "house", "pilot", "lucky"])
    result = invoke("run", "local", "--manifest", WORDLE_MANIFEST, "--model", "ollama/llama3.2",
                    "--api-base", fake.url, "--episodes", "2", "--out", "runs",
                    "--env-url", dead_url,
                    "--system-prompt", "Think in one word.", "--temperature", "0.7",
                    "--max-tokens", "33", "--history", "0", "--prompt-style", "chat")
    assert result.exit_code == 0, result.output
    assert "scored 2/2 episodes" in result.output
    bodies = fake.chat_bodies()
    assert len(bodies) >= 2
    assert all("Think in one word." in body["messages"][0]["content"] for body in bodies)
    assert all(body["options"] == {"temperature": 0.7, "num_predict": 33} for body in bodies)
    assert all(len(body["messages"]) == 2 for body in bodies)  # --history 0: stateless turns
    data = _results(cli_env / "runs")
    assert [r["status"] for r in data["results"]] == ["completed", "completed"]
    assert [r["invalid_actions"] for r in data["results"]] == [0, 0]  # all valid guesses
    assert sum(r["prompt_tokens"] for r in data["results"]) > 0


def _wordle_rules() -> str:
    spec = importlib.util.spec_from_file_location("wordle_env_rules", WORDLE / "env.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return str(module.RULES.format(n=6))


def test_prompt_styles_send_what_each_profile_promises(
    invoke: Invoke, cli_env: Path, fake_ollama: Callable[..., Any], dead_url: str
) -> None:
    """hosted (the default): two messages a step, as the platform builds them, its parser,
    and an env's 422 re-asked in the same step; chat: one growing chat with ACTION: lines."""
    from pytest_mesocosm.agents.hosted import CLOSING

    fake = fake_ollama(replies=["zzzzz", "crane", "slate"])
    result = invoke("run", "local", "--manifest", WORDLE_MANIFEST, "--model", "ollama/llama3.2",
                    "--api-base", fake.url, "--seeds", "0", "--out", "runs",
                    "--env-url", dead_url)
    assert result.exit_code in (0, 1), result.output
    bodies = fake.chat_bodies()
    system = f"{_wordle_rules()}\n\n## Action Space\nA 5-letter lowercase word.\n\n"
    system += CLOSING["free"]
    assert all([m["role"] for m in b["messages"]] == ["system", "user"] for b in bodies)
    assert all(b["messages"][0]["content"] == system for b in bodies)
    assert all(b["think"] is False and b["options"]["num_predict"] == 512 for b in bodies)
    first, again, second = (b["messages"][1]["content"] for b in bodies[:3])
    assert first.startswith("[Step 1]\n{") and '"guesses_remaining": 6' in first
    assert again.startswith(first + "\n\nYour action was rejected: 'zzzzz' is not in the word")
    assert second.startswith("[Step 2]\n{") and '"last_guess": "crane"' in second
    data = _results(cli_env / "runs")
    assert data["results"][0]["invalid_actions"] >= 1

    chat = fake_ollama(replies=["ACTION: crane", "ACTION: slate"])
    result = invoke("run", "local", "--manifest", WORDLE_MANIFEST, "--model", "ollama/llama3.2",
                    "--api-base", chat.url, "--seeds", "0", "--out", "runs-chat",
                    "--env-url", dead_url, "--prompt-style", "chat")
    assert result.exit_code in (0, 1), result.output
    bodies = chat.chat_bodies()
    assert [len(b["messages"]) for b in bodies[:3]] == [2, 4, 6]
    assert "ACTION: <action>" in bodies[0]["messages"][0]["content"]
    assert "think" not in bodies[0] and bodies[0]["options"]["num_predict"] == 512
    assert bodies[1]["messages"][2] == {"role": "assistant", "content": "ACTION: crane"}
    assert _results(cli_env / "runs-chat")["results"][0]["invalid_actions"] == 0


def test_history_needs_the_chat_prompt_style(
    invoke: Invoke, cli_env: Path, fake_ollama: Callable[..., Any], dead_url: str
) -> None:
    result = invoke("run", "local", "--manifest", WORDLE_MANIFEST, "--model", "ollama/llama3.2",
                    "--api-base", fake_ollama().url, "--env-url", dead_url, "--history", "2")
    assert result.exit_code != 0
    assert _error_line(result) == (
        "Error: history=2: the hosted prompt style is stateless (one turn a step); "
        "use prompt style chat to send earlier turns"
    )


def test_ollama_host_as_a_real_process(
    mesocosm: Mesocosm, cli_env: Path, ollama_process: str, dead_url: str
) -> None:
    run = mesocosm("run", "local", "--manifest", WORDLE_MANIFEST, "--episodes", "1",
                   "--out", "runs", "--env-url", dead_url, env={"OLLAMA_HOST": ollama_process})
    assert run.returncode == 0, run.stdout + run.stderr
    assert "model ollama/llama3.2" in run.stdout and "scored 1/1 episodes" in run.stdout


# ------------------------------------------------------------------ bad input


def test_missing_manifest(invoke: Invoke, cli_env: Path) -> None:
    result = invoke("run", "local", "--model", "script:x.py:f")
    assert result.exit_code == 2
    assert _error_line(result) == (
        f"Error: no benchanything.json in {cli_env} (looked in ./, auxiliary/, files/); "
        "run `mesocosm init` to scaffold one, or pass --manifest PATH"
    )
    assert len(result.stderr.strip().splitlines()) == 1


def test_manifest_found_in_files_folder(invoke: Invoke, cli_env: Path) -> None:
    (cli_env / "files").mkdir()
    (cli_env / "files" / "benchanything.json").write_text("{not json")
    result = invoke("run", "local")
    assert result.exit_code == 2
    line = _error_line(result)
    assert "files/benchanything.json" in line and "invalid JSON at line 1, column 2" in line


def test_unknown_model_prefix(invoke: Invoke, cli_env: Path) -> None:
    result = invoke("run", "local", "--manifest", WORDLE_MANIFEST, "--model", "foo:bar",
                    "--out", "runs")
    assert result.exit_code == 2
    line = _error_line(result)
    assert "foo:bar" in line and "script:" in line
    assert len(result.stderr.strip().splitlines()) == 1


def test_adapter_that_cannot_start_behind_an_unreachable_url(
    invoke: Invoke, cli_env: Path, dead_url: str
) -> None:
    assert invoke("init").exit_code == 0
    (cli_env / "adapter.py").write_text("raise SystemExit('adapter is broken on purpose')\n")
    result = invoke("run", "local", "--model", "script:solver.py:policy", "--env-url", dead_url,
                    "--out", "runs")
    assert result.exit_code == 3
    line = _error_line(result)
    assert line.startswith(
        f"Error: nothing answers at {dead_url} and the manifest's adapter did not start: "
    )
    assert "exited with code 1" in line
    assert "adapter is broken on purpose" in result.stderr  # the log tail follows the line


def test_port_taken_by_something_else(
    invoke: Invoke, cli_env: Path, fake_ollama: Callable[..., Any]
) -> None:
    other = fake_ollama()  # answers HTTP, but GET /health is a 404: not an adapter
    result = invoke("run", "local", "--manifest", WORDLE_MANIFEST, "--model",
                    "script:solver.py:policy", "--env-url", other.url, "--out", "runs")
    assert result.exit_code == 3
    assert _error_line(result) == (
        f"Error: {other.url} is taken by something that is not an env adapter (GET /health "
        "answered 404); stop it, or point the env URL at your adapter or a free port"
    )


@pytest.mark.parametrize(
    ("args", "fragment"),
    [(["--seeds", "1 two"], "Invalid value for '--seeds': '1 two' is not a list of integers"),
     (["--episodes", "0"], "Invalid value for '--episodes'"),
     (["--threshold", "win_rate>>1"], "Error: --threshold: cannot read threshold 'win_rate>>1'"),
     (["--threshold", "score>=1"], "Error: --threshold: threshold 'score>=1' names no metric")],
)
def test_bad_flags(invoke: Invoke, cli_env: Path, args: list[str], fragment: str) -> None:
    result = invoke("run", "local", "--manifest", WORDLE_MANIFEST, "--out", "runs", *args)
    assert result.exit_code == 2
    assert fragment in result.stderr
    assert not (cli_env / "runs").exists()  # refused before anything ran


# ------------------------------------------------------------------ Ctrl-C


def test_ctrl_c_prints_the_partial_results(
    cli_env: Path, mesocosm_path: str, dead_url: str
) -> None:
    (cli_env / "slow.py").write_text(
        "import time\n\ndef policy(observation, context=None):\n"
        "    time.sleep(0.15)\n    return 'crane'\n"
    )
    proc = subprocess.Popen(
        [mesocosm_path, "run", "local", "--manifest", WORDLE_MANIFEST, "--model",
         "script:slow.py:policy", "--episodes", "40", "--out", "runs", "--env-url", dead_url],
        cwd=cli_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    assert proc.stdout is not None
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if line.startswith("episode 2/40"):
            break
    proc.send_signal(signal.SIGINT)
    rest, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, "".join(seen) + rest + err
    assert "(interrupted)" in rest and "scored " in rest
    assert err.strip().splitlines()[-1].startswith("Error: interrupted")
    data = _results(cli_env / "runs")
    assert 2 <= len(data["results"]) < 40


def test_environment_is_clean(cli_env: Path) -> None:
    # The fixture must keep this machine's settings out of every test above.
    assert not any(k.startswith(("MESOCOSM_LOCAL", "SWECC_BENCH_TOKEN")) for k in os.environ)
    assert os.environ["SWECC_BENCH_CREDENTIALS"].startswith(str(cli_env.parent))


def test_python_flag_names_the_interpreter(invoke: Invoke, cli_env: Path, dead_url: str) -> None:
    result = invoke("run", "local", "--manifest", WORDLE_MANIFEST, "--model",
                    "script:solver.py:policy", "--env-url", dead_url, "--python",
                    str(cli_env / "no-such-python"), "--out", "runs")
    assert result.exit_code == 3
    assert "no-such-python" in _error_line(result) and "--python" in _error_line(result)


def test_model_that_cannot_play_stops_the_run(
    invoke: Invoke, cli_env: Path, dead_url: str
) -> None:
    result = invoke("run", "local", "--manifest", WORDLE_MANIFEST, "--env-url", dead_url,
                    "--out", "runs")  # the default ollama/llama3.2; OLLAMA_HOST is closed
    assert result.exit_code == 4
    assert _error_line(result).startswith("Error: Ollama is not answering at http://127.0.0.1:")
    assert "ollama serve" in _error_line(result)
    assert len(result.stderr.strip().splitlines()) == 1


# ------------------------------------------------------------------ the adapter spawned ahead


def _processes_in(folder: Path) -> set[int]:
    """The pids of the processes whose working directory is ``folder`` (Linux /proc)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if Path(os.readlink(entry / "cwd")) == folder:
                    found.add(int(entry.name))
            except OSError:
                continue  # gone, or not ours to read
    return found


@pytest.mark.skipif(not Path("/proc/self/cwd").exists(), reason="reads /proc")
def test_the_adapter_spawned_ahead_is_the_one_the_run_uses(
    invoke: Invoke, cli_env: Path, dead_url: str
) -> None:
    repo = cli_env / "wordle"
    shutil.copytree(WORDLE, repo, ignore=shutil.ignore_patterns("__pycache__"))
    result = invoke("run", "local", "--manifest", str(repo), "--env-url", dead_url, "--model",
                    "script:solver.py:policy", "--episodes", "2", "--out", "runs", "--quiet")
    assert result.exit_code == 0, result.output
    assert "started the manifest's adapter adapter.py" in result.output
    (run_dir,) = (cli_env / "runs").iterdir()
    assert (run_dir / "adapter.log").is_file()
    assert list((cli_env / "runs").rglob(".adapter-ahead-*")) == []  # adopted: its log moved
    assert _processes_in(repo) == set()


@pytest.mark.skipif(not Path("/proc/self/cwd").exists(), reason="reads /proc")
def test_an_adapter_answering_at_the_url_stops_the_one_spawned_ahead(
    invoke: Invoke, cli_env: Path, start_adapter: Callable[[Path], str]
) -> None:
    repo = cli_env / "wordle"
    shutil.copytree(WORDLE, repo, ignore=shutil.ignore_patterns("__pycache__"))
    url = start_adapter(repo / "adapter.py")
    running = _processes_in(repo)
    assert len(running) == 1
    result = invoke("run", "local", "--manifest", str(repo), "--env-url", url, "--model",
                    "script:solver.py:policy", "--episodes", "1", "--out", "runs", "--quiet")
    assert result.exit_code == 0, result.output
    assert f"using the adapter at {url}" in result.output
    assert _processes_in(repo) == running  # the one spawned ahead is gone
    assert list(cli_env.rglob(".adapter-ahead-*")) == []
