"""A loopback HTTP server that answers from a script and records every request.

For the client's own behaviour (error lines, retries, timeouts, cookies) where a real
bench-api cannot be made to answer a chosen status: ``server.script("GET /v1/teams",
(429, {"Retry-After": "0"}, {"detail": "slow down"}), (200, {}, []))`` answers the first
GET with a 429 and the next with 200; unscripted requests get 404 ``Not Found``.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

Answer = tuple[int, dict[str, str], Any]


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class ScriptedServer:
    answers: dict[str, deque[Answer]] = field(default_factory=lambda: defaultdict(deque))
    seen: list[Seen] = field(default_factory=list)
    delay: float = 0.0
    url: str = ""

    def script(self, route: str, *answers: Answer) -> None:
        self.answers[route].extend(answers)

    def requests(self, route: str) -> list[Seen]:
        method, path = route.split(" ", 1)
        return [s for s in self.seen if s.method == method and s.path == path]

    def start(self) -> ScriptedServer:
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                path = self.path.split("?", 1)[0]
                body = json.loads(raw) if raw else None
                owner.seen.append(Seen(self.command, self.path, dict(self.headers), body))
                if owner.delay:
                    time.sleep(owner.delay)
                queue = owner.answers.get(f"{self.command} {path}")
                status, headers, payload = (
                    queue.popleft() if queue else (404, {}, {"detail": "Not Found"})
                )
                data = b"" if payload is None else (
                    payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
                )
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                if payload is not None and not isinstance(payload, str):
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(data)  # the client may have given up (timeout tests)

            do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _answer

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True).start()
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
