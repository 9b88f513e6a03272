"""One onboarding step as a subprocess with a time limit, and the error a failed step
ends with (its message becomes the environment's ``error_message``)."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

TAIL_CHARS = 2000  # as much of a failed step's output as the hosted sandbox reports


class StepFailed(Exception):
    """Onboarding stops here; ``str(exc)`` is shown to the user as is."""


def run_step(argv: Sequence[str], *, what: str, timeout: float,
             env: Mapping[str, str], cwd: Path | None = None) -> str:
    """Run ``argv``; its output on success, :class:`StepFailed` with its tail otherwise."""
    try:
        done = subprocess.run(list(argv), cwd=cwd, env=dict(env), stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise StepFailed(f"{what} timed out after {timeout:g} s") from exc
    if done.returncode != 0:
        output = (done.stderr or done.stdout or "").strip()
        raise StepFailed(f"{what} failed (exit code {done.returncode}): {output[-TAIL_CHARS:]}")
    return done.stdout
