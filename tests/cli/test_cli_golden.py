"""`mesocosm golden record|check` on a copy of the Wordle example."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from click.testing import Result

Invoke = Callable[..., Result]
WORDLE = Path(__file__).resolve().parents[2] / "examples" / "wordle"


def test_record_then_check_then_a_changed_env(invoke: Invoke, cli_env: Path) -> None:
    repo = cli_env / "wordle"
    shutil.copytree(WORDLE, repo, ignore=shutil.ignore_patterns("__pycache__", ".mesocosm"))
    empty = invoke("golden", "check", "--manifest", str(repo))
    assert empty.exit_code == 1
    assert empty.stderr.strip() == (f"Error: no golden files in {repo}/.mesocosm/golden/wordle; "
                                    "record some with `mesocosm golden record`")

    recorded = invoke("golden", "record", "--manifest", str(repo), "--model",
                      "script:solver.py:policy", "--seeds", "4 5")
    assert recorded.exit_code == 0, recorded.output
    assert recorded.stdout.splitlines() == [
        f"recorded {repo}/.mesocosm/golden/wordle/seed-4.json",
        f"recorded {repo}/.mesocosm/golden/wordle/seed-5.json",
    ]
    same = invoke("golden", "check", "--manifest", str(repo))
    assert same.exit_code == 0, same.output
    assert same.stdout.splitlines()[-1] == "2 golden files: the env answers as recorded"

    env = repo / "env.py"
    env.write_text(env.read_text().replace('"guesses_used": len(self._history)',
                                           '"guesses_used": len(self._history) + 1'))
    changed = invoke("golden", "check", "--manifest", str(repo))
    assert changed.exit_code == 1
    assert "CHANGED  seed=4: first difference at step 1 (action 'trace'): info" in changed.stdout
    assert '-    "guesses_used": 1,' in changed.stdout
    assert '+    "guesses_used": 2,' in changed.stdout
    assert changed.stderr.strip() == "Error: 2 of 2 golden files differ: seed=4, seed=5"
    ignored = invoke("golden", "check", "--manifest", str(repo), "--ignore", "info.guesses_used")
    assert ignored.exit_code == 0, ignored.output
