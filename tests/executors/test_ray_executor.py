"""The ray executor on a real two-node cluster: same results as in-process, faults, secrets.

Every run is the real CLI (or pytest) as a subprocess joining the cluster of
``conftest.py``; the model is the Wordle script solver or the loopback fake Ollama.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from cluster import LocalRayCluster
from fakes.ollama_server import FakeOllama
from support import EXAMPLES, cli, run_pytest, write_counter_repo

WORDLE = EXAMPLES / "wordle"
ROOT = EXAMPLES.parent
# what differs between two runs of the same episodes whatever plays them
VOLATILE = {"run_id", "created_at", "updated_at", "episode_id", "trace_path", "wall_seconds",
            "t", "started_at", "latency", "path", "runs_dir"}


def stable(value: Any) -> Any:
    """``value`` without ids, paths and timings."""
    if isinstance(value, dict):
        return {k: stable(v) for k, v in value.items() if k not in VOLATILE and "wall" not in k}
    if isinstance(value, list):
        return [stable(v) for v in value]
    return value


def run_folder(out: Path) -> Path:
    found = sorted(out.glob("*/results.json"))
    assert len(found) == 1, found
    return found[0].parent


def traces(folder: Path) -> dict[str, list[dict[str, Any]]]:
    return {p.name: [json.loads(line) for line in p.read_text().splitlines()]
            for p in sorted((folder / "traces").glob("*.jsonl"))}


def bench(out: Path, *args: str, cwd: Path = WORDLE, env: dict[str, str] | None = None,
          timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return cli("run", "local", "--out", str(out), *args, cwd=cwd, env=env, timeout=timeout)


def on_ray(cluster: LocalRayCluster, *extra: str) -> list[str]:
    return ["--executor", "ray", "--ray-address", cluster.address, *extra]


def assert_same_run(in_process: Path, on_cluster: Path) -> None:
    one, two = run_folder(in_process), run_folder(on_cluster)
    first = json.loads((one / "results.json").read_text())
    second = json.loads((two / "results.json").read_text())
    assert stable(second) == stable(first)
    assert stable(traces(two)) == stable(traces(one))
    assert len(traces(two)) == len(first["results"])


def test_wordle_with_the_script_solver_on_two_nodes_matches_in_process(
    ray_cluster: LocalRayCluster, tmp_path: Path
) -> None:
    args = ("--model", "script:solver.py:policy", "--seeds", "3 1 4 15 9 2", "--parallel", "4")
    here = bench(tmp_path / "asyncio", *args)
    there = bench(tmp_path / "ray", *args, *on_ray(ray_cluster), env=ray_cluster.env)
    assert here.returncode == 0, here.stdout + here.stderr
    assert there.returncode == 0, there.stdout + there.stderr
    assert "playing on Ray" in there.stdout and "2 actors x 2 episodes at once" in there.stdout
    assert_same_run(tmp_path / "asyncio", tmp_path / "ray")
    assert "Traceback" not in there.stdout + there.stderr


def by_prompt(messages: list[dict[str, Any]]) -> str:
    """A reply that depends on the prompt alone (not on the order calls arrive in)."""
    return ["crane", "slate", "pious", "qqqqq"][len(json.dumps(messages)) % 4]


def test_wordle_with_an_ollama_model_matches_and_keeps_credentials_off_disk(
    ray_cluster: LocalRayCluster, tmp_path: Path
) -> None:
    canary = "sk-canary-7f3e9b1d2c"
    with FakeOllama(replies=by_prompt) as fake:
        secrets = {"OLLAMA_HOST": fake.url, "MESOCOSM_CANARY_API_KEY": canary}
        args = ("--model", "ollama/llama3.2", "--episodes", "4", "--parallel", "2")
        here = bench(tmp_path / "asyncio", *args, env=secrets)
        calls_here = len(fake.chat_bodies())
        there = bench(tmp_path / "ray", *args, *on_ray(ray_cluster),
                      env={**ray_cluster.env, **secrets})
        calls_there = len(fake.chat_bodies()) - calls_here
    assert here.returncode in (0, 1), here.stdout + here.stderr
    assert there.returncode == here.returncode, there.stdout + there.stderr
    # the model address reached the actors only through the driver's environment (each
    # actor's agent also checks the model once before its first episode)
    assert calls_there >= calls_here > 0
    assert_same_run(tmp_path / "asyncio", tmp_path / "ray")
    for place in (tmp_path / "ray", ray_cluster.temp_dir):
        for path in place.rglob("*"):
            if path.is_file() and not path.is_socket():
                text = path.read_bytes()
                assert canary.encode() not in text, path
                assert fake.url.encode() not in text, path
    assert canary not in there.stdout + there.stderr


def test_pytest_plugin_plays_on_the_cluster(ray_cluster: LocalRayCluster, tmp_path: Path) -> None:
    done = run_pytest("--mesocosm", "-p", "no:xdist", "--rootdir", str(WORDLE),
                      "--mesocosm-model", "script:solver.py:policy", "--mesocosm-episodes", "3",
                      "--mesocosm-executor", "ray", f"--mesocosm-ray-address={ray_cluster.address}",
                      f"--mesocosm-trace-dir={tmp_path}", cwd=WORDLE, env=ray_cluster.env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 passed" in done.stdout
    results = json.loads(next(tmp_path.glob("*/results.json")).read_text())
    assert [r["seed"] for r in results["results"]] == [0, 1, 2]
    assert len(list(tmp_path.glob("*/traces/*.jsonl"))) == 3


def slow_counter(folder: Path) -> Path:
    """The counter env with 0.4 s steps: episodes of 0.8-1.6 s, long enough to lose a node."""
    write_counter_repo(folder, hook="time.sleep(0.4)")
    env = folder / "env.py"
    env.write_text("import time\n" + env.read_text())
    return folder


def wait_for(what: str, check: Any, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_node_lost_mid_run_has_its_episodes_played_again_once(tmp_path: Path) -> None:
    repo = slow_counter(tmp_path / "counter")
    cluster = LocalRayCluster().start()
    try:
        out = tmp_path / "runs"
        driver = subprocess.Popen(
            [sys.executable, "-m", "mesocosm_cli.main", "run", "local", "--out", str(out),
             "--model", "script:policy.py:policy", "--episodes", "10", "--parallel", "4",
             *on_ray(cluster)],
            cwd=repo, env={**os.environ, **cluster.env}, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True,
        )
        raylet = cluster.worker_raylet()
        # the second node plays episodes: its actor has started an adapter
        wait_for("an adapter on the second node",
                           lambda: cluster.adapters(cluster.descendants(raylet)))
        wait_for("a finished episode", lambda: list(out.glob("*/traces/*.jsonl")))
        os.kill(raylet, signal.SIGKILL)
        output, _ = driver.communicate(timeout=120)
        assert driver.returncode == 0, output
        results = json.loads((run_folder(out) / "results.json").read_text())
        seeds = [r["seed"] for r in results["results"]]
        assert seeds == list(range(10))  # every episode, exactly once
        assert {r["status"] for r in results["results"]} == {"completed"}
        assert len(traces(run_folder(out))) == 10
        assert "lost" in output and "played again" in output
        assert "Traceback" not in output
    finally:
        cluster.stop()  # also the adapters the killed raylet's actors left behind


def test_ctrl_c_stops_the_clusters_work_and_keeps_what_finished(
    ray_cluster: LocalRayCluster, tmp_path: Path
) -> None:
    repo = slow_counter(tmp_path / "counter")
    out = tmp_path / "runs"
    driver = subprocess.Popen(
        [sys.executable, "-m", "mesocosm_cli.main", "run", "local", "--out", str(out),
         "--model", "script:policy.py:policy", "--episodes", "40", "--parallel", "2",
         *on_ray(ray_cluster)],
        cwd=repo, env={**os.environ, **ray_cluster.env}, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True,
    )
    wait_for("two finished episodes", lambda: len(list(out.glob("*/traces/*.jsonl"))) >= 2)
    driver.send_signal(signal.SIGINT)
    output, _ = driver.communicate(timeout=60)
    assert driver.returncode != 0, output
    results = json.loads((run_folder(out) / "results.json").read_text())
    assert results["interrupted"] is True
    kept = len(results["results"])
    assert 2 <= kept < 40
    assert len(traces(run_folder(out))) == kept
    # the cluster's work stopped: no adapter is left playing
    wait_for("the actors' adapters to stop", lambda: not ray_cluster.adapters(), timeout=30)
    assert "Traceback" not in output


@pytest.mark.parametrize(("args", "message"), [
    (["--env-url", "http://127.0.0.1:9"], "--env-url cannot be used with --executor ray"),
    (["--cache", "use"], "--cache use records cassettes on the Ray nodes"),
])
def test_ray_refuses_what_it_cannot_honour_in_one_line(
    ray_cluster: LocalRayCluster, tmp_path: Path, args: list[str], message: str
) -> None:
    done = bench(tmp_path, "--model", "script:solver.py:policy", *on_ray(ray_cluster), *args,
                 env=ray_cluster.env)
    assert done.returncode != 0
    assert message in done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr


def test_an_episode_that_keeps_killing_its_actor_is_given_up_after_three_tries(
    ray_cluster: LocalRayCluster, tmp_path: Path
) -> None:
    # seed 3's step kills the Ray worker that holds the adapter (its parent), then itself
    repo = tmp_path / "counter"
    write_counter_repo(repo, hook="if self.seed == 3: os.kill(os.getppid(), 9); os._exit(1)")
    (repo / "env.py").write_text("import os\n" + (repo / "env.py").read_text())
    out = tmp_path / "runs"
    done = bench(out, "--model", "script:policy.py:policy", "--episodes", "6", "--parallel", "2",
                 *on_ray(ray_cluster), cwd=repo, env=ray_cluster.env)
    output = done.stdout + done.stderr
    assert done.returncode == 1, output  # the gate fails on the env_error
    results = json.loads((run_folder(out) / "results.json").read_text())["results"]
    assert [r["seed"] for r in results] == list(range(6))
    lost = results[3]
    assert lost["status"] == "env_error"
    assert lost["error"].startswith("not finished on Ray after 3 tries")
    assert {r["status"] for r in results if r["seed"] != 3} == {"completed"}
    assert sorted(traces(run_folder(out))) == [f"seed-{s}.jsonl" for s in (0, 1, 2, 4, 5)]
    assert output.count("lost (") >= 3 and "Traceback" not in output
