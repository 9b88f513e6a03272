"""Status words of platform runs, episodes and developer environments (no imports: the CLI
reads them at start-up without loading the HTTP stack)."""

from __future__ import annotations

TERMINAL_RUN_STATUSES = frozenset({"completed", "failed", "cancelled"})
TERMINAL_ENV_STATUSES = frozenset({"ready", "failed"})
FINISHED_EPISODE_STATUSES = frozenset({"completed", "truncated", "timeout", "failed",
                                       "cancelled"})
