"""Run ``python adapter.py --port N`` as a child process and wait until it is healthy.

The child writes stdout and stderr to a log file (never an unread pipe, which would
block it once the pipe buffer fills); when it fails to start, the error shows the last
lines of that log. The child gets its own process group so stop() also reaches anything
it spawned, and a weakref finalizer stops it at interpreter exit if the caller forgot.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import weakref
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType

from pytest_mesocosm.errors import AdapterError, AdapterStartError

_POLL_SECONDS = 0.05
_TAIL_LINES = 15
_PORT_RETRIES = 3  # an auto-picked port can be taken between picking and binding


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def _free_port(host: str) -> int:
    with socket.socket(_family(host)) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _ensure_port_free(host: str, port: int) -> None:
    """Fail before spawning: an adapter on a busy port would leave /health to another server."""
    with socket.socket(_family(host)) as sock:
        if os.name == "posix":  # as uvicorn does, so a port in TIME_WAIT counts as free
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise AdapterStartError(
                f"port {port} on {host} is already in use ({exc.strerror}); pass another port, "
                "or none to pick a free one"
            ) from exc


def _probe_host(host: str) -> str:
    """Where to reach a server bound to ``host``: wildcard addresses mean loopback."""
    return {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)


def _health_ok(host: str, port: int, timeout: float) -> bool:
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", "/health")
        return conn.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()


def tail(path: Path, lines: int = _TAIL_LINES) -> str:
    """The last ``lines`` lines of a log file (at most its last 64 KiB), or "" if unreadable."""
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - 65536))
            text = fh.read().decode("utf-8", "replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def _signal(proc: subprocess.Popen[bytes], sig: int) -> None:
    try:
        if os.name == "posix":
            os.killpg(proc.pid, sig)
        elif sig == signal.SIGTERM:
            proc.terminate()
        else:
            proc.kill()
    except (ProcessLookupError, PermissionError):
        pass  # already gone


def _terminate(proc: subprocess.Popen[bytes], grace: float) -> None:
    """SIGTERM the child's group, wait ``grace`` seconds, then SIGKILL what is left."""
    if proc.poll() is not None:
        return  # long gone: its pid (the group id) may belong to someone else by now
    kill = getattr(signal, "SIGKILL", signal.SIGTERM)
    _signal(proc, signal.SIGTERM)
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        _signal(proc, kill)
        proc.wait()
    if os.name == "posix":
        _signal(proc, kill)  # children the adapter spawned and left behind in its group


class AdapterProcess:
    """``python adapter.py --port N`` run from the adapter's folder until stop().

    ``host`` is where the harness reaches it (adapters bind their own default, most
    often every interface); many env repos parse ``--port`` only, so nothing else is passed.

    Use ``with AdapterProcess(path) as proc: proc.url`` or start()/stop(); stop() is
    idempotent and also runs when the with-body raises.
    """

    def __init__(
        self,
        adapter: Path | str,
        *,
        python: str | None = None,
        port: int | None = None,
        host: str = "127.0.0.1",
        startup_timeout: float = 30.0,
        log_path: Path | None = None,
        grace: float = 5.0,
        env: Mapping[str, str] | None = None,
        preexec: Callable[[], None] | None = None,
    ):
        self.adapter = Path(adapter)
        self.python = python or sys.executable
        self.host = host
        self.startup_timeout = startup_timeout
        self.grace = grace
        # A host that runs untrusted adapters gives them a scrubbed environment and a
        # child-side set-up (resource limits, another user); by default the child
        # inherits this process's environment, as an env author's own machine expects.
        self.env = dict(env) if env is not None else None
        self.preexec = preexec
        self._requested_port = port
        self._port: int | None = None
        self._log_path = Path(log_path) if log_path is not None else None
        self._proc: subprocess.Popen[bytes] | None = None
        self._finalizer: weakref.finalize | None = None
        self._spawned_ahead = False  # spawn() ran; start() waits for it, not spawns again
        self._ready = False  # /health answered

    def __enter__(self) -> AdapterProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._port is None:
            raise AdapterError(f"the adapter {self.adapter} is not started; call start() first")
        return self._port

    @property
    def url(self) -> str:
        host = _probe_host(self.host)
        return f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"

    @property
    def log_path(self) -> Path | None:
        """Where the child's stdout+stderr go (a temp file unless given); None before start."""
        return self._log_path

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def spawn(self) -> AdapterProcess:
        """Run the child without waiting for it: start() then waits for its /health.

        A caller that knows early which adapter it will need spawns it, and the adapter
        boots while the caller finishes its own start-up.
        """
        adapter = self._checked_path()
        self._launch(adapter)
        self._spawned_ahead = True
        return self

    def start(self) -> AdapterProcess:
        """Spawn the adapter (unless spawn() did) and block until GET /health answers 200;
        no-op if it already answered."""
        if self._ready and self.running:
            return self
        adapter = self._checked_path()
        launched, self._spawned_ahead = self._spawned_ahead, False
        attempts_left = 1 if self._requested_port is not None else _PORT_RETRIES
        while True:
            attempts_left -= 1
            if not launched:
                self._launch(adapter)
            launched = False
            try:
                self._wait_healthy(adapter)
            except AdapterStartError:
                assert self._log_path is not None
                clash = "address already in use" in tail(self._log_path).lower()
                if attempts_left == 0 or not clash:
                    raise
                continue
            self._ready = True
            return self

    def move_log(self, path: Path) -> None:
        """Rename the log file the child writes to (it keeps writing to the same file);
        raises OSError when it cannot, e.g. across file systems."""
        assert self._log_path is not None
        path.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self._log_path, path)
        self._log_path = path

    def _checked_path(self) -> Path:
        adapter = self.adapter.resolve()
        if not adapter.is_file():
            raise AdapterStartError(
                f"adapter file {self.adapter} does not exist; check the manifest's \"adapter\" "
                "path (relative to the manifest's folder)"
            )
        return adapter

    def _launch(self, adapter: Path) -> None:
        """Pick the port (or check the requested one is free) and spawn the child."""
        if self._log_path is None:
            fd, name = tempfile.mkstemp(prefix=f"mesocosm-adapter-{adapter.parent.name}-",
                                        suffix=".log")
            os.close(fd)
            self._log_path = Path(name)
        if self._requested_port is not None:
            _ensure_port_free(self.host, self._requested_port)
            self._port = self._requested_port
        else:
            self._port = _free_port(self.host)
        self._spawn(adapter, self._port)

    def exit_note(self, wait: float = 0.2) -> str | None:
        """Why the adapter stopped answering, if it exited: its code and its log's tail.

        Waits up to ``wait`` seconds for a child that is dying (a refused connection can
        come just before its exit code is known); None while it still runs.
        """
        if self._proc is None:
            return None
        try:
            code = self._proc.wait(wait)
        except subprocess.TimeoutExpired:
            return None
        name = self.adapter.name
        return f"the adapter process ({name}) exited with code {code}{self._log_tail()}"

    def stop(self) -> None:
        """Terminate the child (SIGTERM, ``grace`` seconds, then SIGKILL); idempotent."""
        if self._finalizer is not None:
            self._finalizer()

    def _spawn(self, adapter: Path, port: int) -> None:
        assert self._log_path is not None
        try:
            self._log_path.parent.mkdir(parents=True, exist_ok=True)
            log = open(self._log_path, "wb")  # noqa: SIM115 - handed to the child, closed below
        except OSError as exc:
            raise AdapterStartError(
                f"cannot write the adapter log {self._log_path}: {exc.strerror}"
            ) from exc
        try:
            self._proc = subprocess.Popen(
                [self.python, adapter.name, "--port", str(port)],  # the contract: nothing else
                cwd=adapter.parent,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**(os.environ if self.env is None else self.env),
                     "PYTHONUNBUFFERED": "1"},
                start_new_session=os.name == "posix",
                preexec_fn=self.preexec,
            )
        except OSError as exc:
            raise AdapterStartError(
                f"cannot run {self.python!r} to start {adapter}: {exc.strerror or exc}; "
                "name an existing interpreter (--mesocosm-python, run local --python)"
            ) from exc
        finally:
            log.close()
        self._finalizer = weakref.finalize(self, _terminate, self._proc, self.grace)

    def _wait_healthy(self, adapter: Path) -> None:
        assert self._proc is not None and self._log_path is not None
        host, port, url = _probe_host(self.host), self.port, self.url
        deadline = time.monotonic() + self.startup_timeout
        while True:
            code = self._proc.poll()
            if code is not None:
                self.stop()
                raise AdapterStartError(
                    f"adapter {adapter} exited with code {code} before answering "
                    f"GET {url}/health{self._log_tail()}"
                )
            remaining = deadline - time.monotonic()
            if _health_ok(host, port, timeout=max(0.05, min(1.0, remaining))):
                return
            if time.monotonic() >= deadline:
                self.stop()
                raise AdapterStartError(
                    f"adapter {adapter} did not answer GET {url}/health with 200 within "
                    f"{self.startup_timeout:g} s{self._log_tail()}"
                )
            time.sleep(_POLL_SECONDS)

    def _log_tail(self) -> str:
        assert self._log_path is not None
        lines = tail(self._log_path)
        if not lines:
            return f"; its log {self._log_path} is empty"
        return f"; last lines of {self._log_path}:\n{lines}"
