"""What onboarding a developer environment costs, step by step, and what isolation adds
to an adapter start.

Builds a local git repository of ``examples/wordle`` (empty ``requirements.txt``) and
runs the server's onboarding steps on it as the server does: clone, manifest check,
virtualenv + install (uv; the first round fills uv's cache if it was cold), adapter start
with the venv's interpreter, scrubbed environment, limits and, as root, the sandbox user.
The baseline, measured in the same run: the same adapter started with this interpreter
and nothing isolated (``AdapterProcess`` as ``run local`` uses it). Ratios are against it.

    python bench/devenv_onboarding.py [--rounds 3] [--python /usr/bin/python3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mesocosm_server.devenvs.adapters import start_adapter  # noqa: E402
from mesocosm_server.devenvs.install import build_venv, check_manifest  # noqa: E402
from mesocosm_server.devenvs.isolation import Sandbox  # noqa: E402
from mesocosm_server.devenvs.layout import Layout, devenv_root  # noqa: E402
from mesocosm_server.devenvs.sources import clone  # noqa: E402
from mesocosm_server.settings import ServerSettings  # noqa: E402
from pytest_mesocosm.adapter import AdapterProcess  # noqa: E402

WORDLE = ROOT / "examples" / "wordle"
GIT = ["git", "-c", "user.name=b", "-c", "user.email=b@b", "-c", "init.defaultBranch=main"]


def make_repo(folder: Path) -> Path:
    folder.mkdir()
    for name in ("adapter.py", "env.py", "benchanything.json", "words.txt"):
        shutil.copy(WORDLE / name, folder / name)
    (folder / "requirements.txt").write_text("")
    for argv in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "w"]):
        subprocess.run([*GIT, *argv], cwd=folder, check=True)
    return folder


T = TypeVar("T")


def timed(step: Callable[[], T]) -> tuple[float, T]:
    start = time.perf_counter()
    value = step()
    return time.perf_counter() - start, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--python", default="", help="base interpreter of the virtualenvs")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="mesocosm-bench-devenv-", dir="/tmp"))
    work.chmod(0o711)
    settings = ServerSettings(data_dir=work, devenv_python=args.python,
                              allow_local_endpoints=True)
    sandbox, layout = Sandbox.from_settings(settings), Layout(devenv_root(settings))
    repo = make_repo(work / "repo")
    steps: dict[str, list[float]] = {k: [] for k in (
        "baseline start", "clone", "manifest", "venv+install", "isolated start")}
    try:
        for round_ in range(args.rounds):
            took, plain = timed(lambda: AdapterProcess(WORDLE / "adapter.py").start())
            steps["baseline start"].append(took)
            plain.stop()
            sub = layout.fresh("bench", 1, round_)
            steps["clone"].append(timed(partial(
                clone, str(repo), sub.checkout, allow_local=True, timeout=60))[0])
            took, checked = timed(partial(check_manifest, sub.checkout))
            steps["manifest"].append(took)
            sandbox.give(sub.home)
            steps["venv+install"].append(timed(partial(
                build_venv, sub.checkout, sub.venv, python=args.python, timeout=300,
                sandbox=sandbox, home=sub.home))[0])
            sub.write_launch(checked.adapter)
            took, proc = timed(partial(start_adapter, sub, settings, sandbox))
            steps["isolated start"].append(took)
            proc.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    base = statistics.median(steps["baseline start"])
    load = os.getloadavg()[0]
    print(f"devenv onboarding, {args.rounds} rounds, load {load:.2f}, "
          f"{'root: adapters as ' + settings.devenv_user if sandbox.uid else 'no user switch'}")
    print(f"{'step':<16}{'median s':>10}{'x baseline start':>18}")
    for name, values in steps.items():
        median = statistics.median(values)
        print(f"{name:<16}{median:>10.3f}{median / base:>18.2f}")
    total = sum(statistics.median(v) for k, v in steps.items() if k != "baseline start")
    print(f"{'onboarding':<16}{total:>10.3f}{total / base:>18.2f}")


if __name__ == "__main__":
    main()
