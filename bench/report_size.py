"""What a 1,000-episode run's HTML report weighs, and how long it takes to write.

Plays N Wordle episodes for real (the example env through ``run_bench``) twice: with the
``script:`` solver (short replies), and with a policy that answers like a chatty model
(420 characters of reasoning per step, random words so that it compresses no better than
real model text, and a raw reply holding it again, as LLM traces do).
For each, prints the run folder's size on disk, the report's size, its gzip size (what a
mail or a CI artifact zip carries) and the time ``write_report`` took.

    python bench/report_size.py [--episodes 1000] [--parallel 32]
"""

from __future__ import annotations

import argparse
import gzip
import tempfile
import textwrap
import time
from pathlib import Path

from pytest_mesocosm.engine.config import AgentOptions, BenchConfig
from pytest_mesocosm.engine.session import run_bench
from pytest_mesocosm.manifest.models import load_manifest
from pytest_mesocosm.report import write_report

ROOT = Path(__file__).resolve().parent.parent
WORDLE = ROOT / "examples" / "wordle"

CHATTY = textwrap.dedent(f"""\
    import importlib.util

    from pytest_mesocosm.agents.base import AgentReply

    _spec = importlib.util.spec_from_file_location("solver", {str(WORDLE / "solver.py")!r})
    solver = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(solver)
    import random


    def policy(observation, context):
        guess = solver.policy(observation, context)
        rng = random.Random(f"{{context.seed}}-{{context.step}}")
        reasoning = " ".join(rng.choice(solver.WORDS) for _ in range(70))
        return AgentReply(action=guess, raw_text=f"<think>{{reasoning}}</think>ACTION: {{guess}}",
                          reasoning=reasoning, prompt_tokens=420, completion_tokens=90)
""")


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def measure(label: str, model: str, episodes: int, parallel: int, work: Path) -> None:
    config = BenchConfig(agent=AgentOptions(model=model), episodes=episodes, parallel=parallel,
                         parallel_override=True, runs_dir=work / "runs")
    run = run_bench(load_manifest(WORDLE / "benchanything.json"), config)
    out = work / f"{label}.html"
    started = time.perf_counter()
    write_report([run.run_dir], out)
    seconds = time.perf_counter() - started
    html = out.read_bytes()
    steps = sum(r.steps for r in run.results)
    print(f"{label:>7}: {len(run.results)} episodes, {steps} steps; run folder "
          f"{_size(run.run_dir) / 1e6:.2f} MB; report {len(html) / 1e6:.2f} MB "
          f"({len(html) / len(run.results) / 1e3:.1f} kB/episode), gzip "
          f"{len(gzip.compress(html)) / 1e6:.2f} MB; written in {seconds:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=1000)
    parser.add_argument("--parallel", type=int, default=32)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "chatty.py").write_text(CHATTY)
        measure("solver", f"script:{WORDLE / 'solver.py'}:policy", args.episodes,
                args.parallel, work)
        measure("chatty", f"script:{work / 'chatty.py'}:policy", args.episodes,
                args.parallel, work)


if __name__ == "__main__":
    main()
