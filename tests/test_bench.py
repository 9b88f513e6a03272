"""run_bench: seed order, concurrency, progress, repeats, and Ctrl-C keeping finished work."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from support import write_counter_repo, write_policy

from pytest_mesocosm.engine.config import AgentOptions, BenchConfig
from pytest_mesocosm.engine.outcomes import EpisodeStatus
from pytest_mesocosm.engine.session import effective_parallel, plan_episodes, run_bench
from pytest_mesocosm.manifest.models import load_manifest


def test_plan_is_seeds_times_repeats_in_seed_order() -> None:
    plan = plan_episodes(BenchConfig(seeds=[7, 3], repeats=2))
    assert [r.label for r in plan] == ["seed=7", "seed=7-r1", "seed=3", "seed=3-r1"]
    assert [r.seed for r in plan_episodes(BenchConfig(episodes=3))] == [0, 1, 2]


def test_an_explicit_parallel_wins_over_the_vow_which_is_only_the_default(
    tmp_path: Path,
) -> None:
    manifest = load_manifest(write_counter_repo(tmp_path, parallel_episodes=2))
    assert effective_parallel(manifest, BenchConfig()) == (2, None)
    assert effective_parallel(manifest, BenchConfig(parallel=1)) == (1, None)
    assert effective_parallel(manifest, BenchConfig(parallel=8)) == (
        8, "Counter: playing 8 episodes at once, more than the binding vow's "
        "parallel_episodes=2")
    unsaid = load_manifest(write_counter_repo(tmp_path / "free"))
    assert effective_parallel(unsaid, BenchConfig()) == (1, None)


def test_parallel_results_come_back_in_seed_order_with_progress(tmp_path: Path) -> None:
    repo = write_counter_repo(tmp_path / "repo")
    # later seeds answer faster, so episodes finish out of order
    policy = write_policy(
        repo.parent, "await asyncio.sleep(0.02 * (10 - context.seed))\nreturn 'up'",
        is_async=True,
    )
    progress: list[tuple[int, int]] = []
    config = BenchConfig(
        agent=AgentOptions(model=policy), seeds=[0, 1, 2, 3, 4, 5], repeats=2, parallel=12,
        runs_dir=tmp_path / "runs",
    )
    run = run_bench(load_manifest(repo), config,
                    on_result=lambda result, done, total: progress.append((done, total)))

    assert [(r.seed, r.repeat) for r in run.results] == [
        (s, k) for s in range(6) for k in range(2)
    ]
    assert progress == [(i, 12) for i in range(1, 13)]
    assert run.metrics.total == 12
    assert all(r.status == EpisodeStatus.COMPLETED for r in run.results)


def test_ctrl_c_keeps_finished_episodes_and_writes_results(tmp_path: Path) -> None:
    repo = write_counter_repo(tmp_path / "repo")
    # seed 0 is quick; the others hang long enough to be interrupted
    policy = write_policy(
        repo.parent, "if context.seed:\n    await asyncio.sleep(30)\nreturn 'up'", is_async=True
    )
    script = tmp_path / "run.py"
    script.write_text(textwrap.dedent(f"""
        from pathlib import Path
        from pytest_mesocosm.engine.session import run_bench
        from pytest_mesocosm.engine.config import AgentOptions, BenchConfig
        from pytest_mesocosm.manifest.models import load_manifest

        config = BenchConfig(agent=AgentOptions(model={policy!r}), seeds=[0, 1, 2],
                             parallel=1, runs_dir=Path({str(tmp_path / 'runs')!r}))
        run = run_bench(load_manifest({str(repo)!r}), config,
                        on_result=lambda r, d, t: print("done", r.seed, flush=True))
        print("interrupted", run.interrupted, len(run.results), flush=True)
    """))
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "done 0"
    time.sleep(0.5)  # seed 1 is now in flight
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=30)

    assert "interrupted True 1" in out
    (run_dir,) = (tmp_path / "runs").iterdir()
    saved = json.loads((run_dir / "results.json").read_text())
    assert saved["complete"] is False
    assert [r["seed"] for r in saved["results"]] == [0]
    assert (run_dir / "traces" / "seed-0.jsonl").exists()
