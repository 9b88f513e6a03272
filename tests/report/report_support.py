"""Runs for the report's tests: the example env, played by a scripted policy.

``PICTURE_ENV`` is an env whose observations are an image, then a long text.
The Wordle policy wins with the example's solver, except where a test needs something to show:
seed 1 replies with reasoning and markup in its text, seed 2 first guesses a word the env
rejects, seed 4 keeps answering markup until the invalid-action budget ends the episode.
"""

from __future__ import annotations

from pathlib import Path

from pytest_mesocosm.engine.config import AgentOptions, BenchConfig
from pytest_mesocosm.engine.session import run_bench
from pytest_mesocosm.manifest.models import load_manifest

WORDLE = Path(__file__).resolve().parents[2] / "examples" / "wordle"
HOSTILE = '<script>window.pwned=1</script><img src=x onerror="window.pwned=2">'

POLICY = f"""\
import importlib.util

from pytest_mesocosm.agents.base import AgentReply

_spec = importlib.util.spec_from_file_location("wordle_solver", {str(WORDLE / "solver.py")!r})
solver = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(solver)
HOSTILE = {HOSTILE!r}


def policy(observation, context):
    if context.seed == 4:
        return HOSTILE
    if context.seed == 2 and not observation["history"] and context.feedback is None:
        return "zzzzz"
    guess = solver.policy(observation, context)
    if context.seed == 1:
        return AgentReply(action=guess, raw_text=f"<b>thinking</b> ACTION: {{guess}}",
                          reasoning=f"try <i>{{guess}}</i>", prompt_tokens=7,
                          completion_tokens=3)
    return guess
"""


PICTURE_ENV = '''\
import base64
import struct
import zlib

from pytest_mesocosm.sdk import BaseEnv, StepResult


def png(width, height):
    rows = b"".join(b"\\x00" + b"\\xff\\x00\\x00" * width for _ in range(height))
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\\x89PNG\\r\\n\\x1a\\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b""))


class Env(BaseEnv):
    """Shows a 6x4 picture, then a long text log, then ends."""

    def reset(self, seed=None, **params):
        self.count = 0
        return {"data": base64.b64encode(png(6, 4)).decode(), "content_type": "image/png"}

    def step(self, action):
        self.count += 1
        log = "\\n".join(f"line {i}: nothing to see" for i in range(200))
        return StepResult(observation=log, content_type="text/plain", reward=1.0,
                          terminated=self.count >= 2, info={"won": "1.0"})
'''


def play_wordle(runs_dir: Path, model: str, seeds: list[int]) -> Path:
    """Bench the Wordle example for real and return the run folder."""
    config = BenchConfig(agent=AgentOptions(model=model), seeds=seeds, runs_dir=runs_dir)
    run = run_bench(load_manifest(WORDLE / "benchanything.json"), config)
    return run.run_dir
