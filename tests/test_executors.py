"""The executor seam without a cluster: Ray is imported only when asked for, and a missing
Ray is one line that says what to install."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from support import cli, free_port, run_pytest, write_counter_repo

PLAIN_RUNS = """
import sys
from mesocosm_cli.main import cli
try:
    cli(["run", "local", "--manifest", sys.argv[1], "--model", "script:policy.py:policy",
         "--episodes", "2", "--out", sys.argv[2]], standalone_mode=False)
except SystemExit as exc:
    assert not exc.code, exc.code
import pytest
assert pytest.main(["-q", "-p", "no:cacheprovider", "-p", "no:xdist", "--mesocosm",
                    "--mesocosm-model", "script:policy.py:policy", "--mesocosm-episodes", "2",
                    "--rootdir", sys.argv[1], "--mesocosm-trace-dir", sys.argv[2],
                    sys.argv[1]]) == 0
print("ray imported:", "ray" in sys.modules)
"""


def test_a_plain_run_does_not_import_ray(tmp_path: Path) -> None:
    repo = write_counter_repo(tmp_path / "counter").parent
    done = subprocess.run([sys.executable, "-c", PLAIN_RUNS, str(repo), str(tmp_path / "runs")],
                          cwd=repo, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ray imported: False" in done.stdout
    assert len(list((tmp_path / "runs").glob("*/results.json"))) == 2


WITHOUT_RAY = """
import sys
sys.modules["ray"] = None  # as on a machine without the ray extra
from mesocosm_cli.main import cli
cli(["run", "local", "--model", "script:policy.py:policy", "--executor", "ray",
     "--out", sys.argv[1]])
"""


def test_the_ray_executor_without_ray_says_what_to_install(tmp_path: Path) -> None:
    repo = write_counter_repo(tmp_path / "counter").parent
    done = subprocess.run([sys.executable, "-c", WITHOUT_RAY, str(tmp_path / "runs")],
                          cwd=repo, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "the ray executor needs Ray on this machine: pip install 'pytest-mesocosm[ray]'" \
        in done.stderr
    assert "Traceback" not in done.stdout + done.stderr


def test_a_bad_executor_flag_names_the_flag(tmp_path: Path) -> None:
    repo = write_counter_repo(tmp_path / "counter").parent
    done = run_pytest("--mesocosm", "--mesocosm-executor", "threads", cwd=repo)
    assert done.returncode != 0
    assert "--mesocosm-executor: expected asyncio or ray, got 'threads'" in done.stderr


def test_a_ray_address_where_nothing_listens_is_one_line_at_once(tmp_path: Path) -> None:
    repo = write_counter_repo(tmp_path / "counter").parent
    address = f"127.0.0.1:{free_port()}"
    done = cli("run", "local", "--model", "script:policy.py:policy", "--executor", "ray",
               "--ray-address", address, "--out", str(tmp_path / "runs"), cwd=repo, timeout=60)
    assert done.returncode != 0
    assert f"no Ray cluster answers at {address}" in done.stderr
    assert "fix --ray-address" in done.stderr and "Traceback" not in done.stderr
