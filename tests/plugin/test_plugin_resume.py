"""`pytest --mesocosm --mesocosm-resume`: a run stopped by SIGINT, finished later."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time

import pytest
from plugin_support import RUN_TIMEOUT, copy_example, mesocosm
from support import SLOW_SOLVER, comparable_results

ARGS = ("--mesocosm-model", "script:slow.py:policy", "--mesocosm-episodes", "10",
        "--mesocosm-threshold", "win_rate>=0.5", "-p", "no:cacheprovider")


@pytest.mark.parametrize("workers", [(), ("-n", "2")], ids=["serial", "xdist"])
def test_a_run_stopped_by_sigint_resumes_to_the_same_results(
    pytester: pytest.Pytester, workers: tuple[str, ...]
) -> None:
    """Resumed alone or by xdist workers (each plays into a subfolder of the run's own)."""
    folder = copy_example(pytester, "wordle")
    shutil.rmtree(folder / ".mesocosm")
    (folder / "slow.py").write_text(SLOW_SOLVER)
    clean = mesocosm(pytester, *ARGS, "--mesocosm-trace-dir", "clean")
    assert clean.ret == pytest.ExitCode.OK

    runs = pytester.path / ".mesocosm" / "runs"
    proc = subprocess.Popen([sys.executable, "-m", "pytest", "--mesocosm", *ARGS],
                            cwd=pytester.path, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + RUN_TIMEOUT
    while len(list(runs.glob("*/traces/*.jsonl"))) < 6 and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=RUN_TIMEOUT)
    assert proc.returncode == pytest.ExitCode.INTERRUPTED, out
    (run_dir,) = runs.iterdir()
    partial = json.loads((run_dir / "results.json").read_text())
    assert partial["interrupted"] is True and 3 <= len(partial["results"]) < 10
    kept = [f"seed={r['seed']}" for r in partial["results"]]

    resumed = mesocosm(pytester, *ARGS, *workers, f"--mesocosm-resume={run_dir}")
    assert resumed.ret == pytest.ExitCode.OK
    resumed.assert_outcomes(passed=10)
    assert list(runs.iterdir()) == [run_dir]  # the same run, finished in its folder
    data = json.loads((run_dir / "results.json").read_text())
    assert data["resumed"]["kept"] == kept
    assert data["resumed"]["played"] == [f"seed={s}" for s in range(10)
                                         if f"seed={s}" not in kept]
    assert (data["interrupted"], data["complete"]) == (False, True)
    (clean_dir,) = (pytester.path / "clean").iterdir()
    assert comparable_results(run_dir) == comparable_results(clean_dir)


def test_resume_needs_a_run_folder(pytester: pytest.Pytester) -> None:
    copy_example(pytester, "wordle")
    result = mesocosm(pytester, "--co", "--mesocosm-resume=nowhere")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: --mesocosm-resume *nowhere: *"])
    lone = mesocosm(pytester, "--co", "--mesocosm-retry-errors")
    assert lone.ret == pytest.ExitCode.USAGE_ERROR
    lone.stderr.fnmatch_lines(["ERROR: --mesocosm-retry-errors needs --mesocosm-resume RUN_DIR"])
