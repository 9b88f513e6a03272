"""Faults met through ``pytest --mesocosm``, each run as a real pytest process.

Issue 8's front-end items on the plugin's side: an explicit --mesocosm-parallel wins over
the vow's parallel_episodes with one line saying so (B1), and a trace folder that cannot
be made is one line and a usage error (C6), and a path flag written with a space that
pytest took as a test path is refused in one line (B4).
"""

from __future__ import annotations

import sys
from pathlib import Path

from support import no_harness_traceback, run_pytest, write_counter_repo, write_policy

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


def test_an_explicit_parallel_wins_over_the_vows_parallel_episodes(tmp_path: Path) -> None:
    repo = write_counter_repo(tmp_path / "repo", parallel_episodes=1).parent
    policy = write_policy(repo, CONCURRENCY_POLICY, is_async=True)
    run = run_pytest("--mesocosm", "-p", "no:xdist", "--mesocosm-model", policy,
                     "--mesocosm-episodes", "4", "--mesocosm-parallel", "4", cwd=repo)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.count("Counter: playing 4 episodes at once, more than the binding "
                            "vow's parallel_episodes=1") == 1
    assert int((repo / "custom_policy.py.most").read_text()) > 1  # really at once


def test_a_trace_dir_that_cannot_be_made_is_one_line(tmp_path: Path) -> None:
    repo = write_counter_repo(tmp_path / "repo").parent
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    run = run_pytest("--mesocosm", "--mesocosm-model", "script:policy.py:policy",
                     "--mesocosm-trace-dir", str(blocker / "runs"), cwd=repo)
    assert run.returncode == 4  # pytest's usage error
    lines = run.stderr.strip().splitlines()
    assert lines == [f"ERROR: --mesocosm-trace-dir: cannot create {blocker / 'runs'}: "
                     f"{blocker} is not a folder you can write to; name another"], run.stderr
    assert no_harness_traceback(run.stdout + run.stderr)


def test_a_path_flag_written_with_a_space_that_moves_the_rootdir_is_one_line(
    tmp_path: Path,
) -> None:
    repo = write_counter_repo(tmp_path / "repo").parent
    (repo / "pytest.ini").write_text("[pytest]\n")
    python = Path(sys.executable)  # an interpreter in a folder of its own, as a venv's is
    run = run_pytest("--mesocosm", "--mesocosm-model", "script:policy.py:policy",
                     "--mesocosm-python", str(python), cwd=repo)
    assert run.returncode == 4, run.stdout  # pytest's usage error
    assert run.stderr.strip().splitlines() == [
        f"ERROR: --mesocosm-python {python}: pytest reads a separate path as a test path and "
        f"takes its rootdir from it (here {python.parent}); write it as one word: "
        f"--mesocosm-python={python}"], run.stderr
    assert no_harness_traceback(run.stdout + run.stderr)

    run = run_pytest("--mesocosm", "--mesocosm-model", "script:policy.py:policy",
                     f"--mesocosm-python={python}", cwd=repo)
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"rootdir: {repo}" in run.stdout


def test_a_path_flag_written_with_a_space_that_takes_an_ini_file_above_is_one_line(
    tmp_path: Path,
) -> None:
    """The rootdir stays among the working folder's parents but moves up to another ini
    file, whose settings would silently replace the repo's own."""
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    repo = write_counter_repo(tmp_path / "repo").parent
    (repo / "pytest.ini").write_text("[pytest]\n")
    baseline = tmp_path / "old" / "results.json"
    baseline.parent.mkdir()
    baseline.write_text("{}")
    run = run_pytest("--mesocosm", "--mesocosm-model", "script:policy.py:policy",
                     "--mesocosm-baseline", str(baseline), cwd=repo)
    assert run.returncode == 4, run.stdout  # pytest's usage error
    assert run.stderr.strip().splitlines() == [
        f"ERROR: --mesocosm-baseline {baseline}: pytest reads a separate path as a test path "
        f"and takes its rootdir from it (here {tmp_path}); write it as one word: "
        f"--mesocosm-baseline={baseline}"], run.stderr
