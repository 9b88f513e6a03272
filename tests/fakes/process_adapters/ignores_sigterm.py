"""Ignores SIGTERM, so only SIGKILL after the grace period stops it."""

import signal

from health_server import serve_health

signal.signal(signal.SIGTERM, signal.SIG_IGN)
serve_health()
