"""Fixtures of the report's tests: real runs, played once per session (see report_support)."""

from __future__ import annotations

from pathlib import Path

import pytest
from report_support import PICTURE_ENV, POLICY, WORDLE, play_wordle
from support import write_counter_repo, write_policy

from pytest_mesocosm.engine.config import AgentOptions, BenchConfig
from pytest_mesocosm.engine.session import run_bench
from pytest_mesocosm.manifest.models import load_manifest


@pytest.fixture(scope="session")
def wordle_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run of seeds 0-5 with the policy above: one invalid episode, one rejected guess."""
    folder = tmp_path_factory.mktemp("wordle")
    (folder / "policy.py").write_text(POLICY)
    return play_wordle(folder / "runs", f"script:{folder / 'policy.py'}:policy", list(range(6)))


@pytest.fixture(scope="session")
def baseline_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example's own solver on seeds 0-6: the run to compare ``wordle_run`` with."""
    folder = tmp_path_factory.mktemp("baseline")
    solver = f"script:{WORDLE / 'solver.py'}:policy"
    return play_wordle(folder / "runs", solver, list(range(7)))


@pytest.fixture(scope="session")
def picture_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One episode of an env that shows an image, then a 200-line text observation."""
    folder = tmp_path_factory.mktemp("picture")
    repo = write_counter_repo(folder / "repo")
    (repo.parent / "env.py").write_text(PICTURE_ENV)
    config = BenchConfig(agent=AgentOptions(model=write_policy(repo.parent, "return 'look'")),
                         seeds=[0], runs_dir=folder / "runs")
    return run_bench(load_manifest(repo), config).run_dir
