"""A stdlib HTTP server answering GET /health, for process tests that need a fast start.

Its /health body also reports the working directory, the command line, the names of its
environment variables and its open-files limit, so tests can check how AdapterProcess
launched it.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path != "/health":
            self.send_error(404)
            return
        body = json.dumps({"status": "ok", "env": "Tiny", "episodes": 0,
                           "cwd": os.getcwd(), "argv": sys.argv, "environ": sorted(os.environ),
                           "nofile": resource.getrlimit(resource.RLIMIT_NOFILE)[0]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the log file is for the adapter's own lines."""


def serve_health() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="0.0.0.0")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    HTTPServer((args.host, args.port), _Handler).serve_forever()


if __name__ == "__main__":
    serve_health()
