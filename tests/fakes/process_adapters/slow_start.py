"""Takes a second before it serves, like an adapter loading a big word list."""

import time

from health_server import serve_health

print("loading...", flush=True)
time.sleep(1.0)
serve_health()
