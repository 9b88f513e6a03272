"""A real two-node Ray cluster on this machine, and how to find and end its processes.

Both nodes are started with ``ray start`` (``--head``, then ``--address``), each with
its own CPU budget and free ports, no dashboard and a small object store. Every process
of the cluster (GCS, raylets, workers, and the adapters the actors start) inherits a
marker variable, so the cluster is ended by those process ids alone: ``ray stop`` would
end every Ray on the machine, other people's too.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from support import free_port

MARKER = "MESOCOSM_TEST_RAY_CLUSTER"
RAY = [sys.executable, "-m", "ray.scripts.scripts"]  # the `ray` command of this interpreter
START_TIMEOUT = 90


def _ray_env(token: str) -> dict[str, str]:
    return {
        **os.environ, MARKER: token, "RAY_AUTH_MODE": "disabled",
        "RAY_USAGE_STATS_ENABLED": "0",
        # a lost node is noticed in about two seconds, not thirty
        "RAY_health_check_period_ms": "500", "RAY_health_check_failure_threshold": "4",
        "RAY_health_check_timeout_ms": "500", "RAY_health_check_initial_delay_ms": "0",
    }


def _node_ports() -> list[str]:
    return [
        "--node-manager-port", str(free_port()), "--object-manager-port", str(free_port()),
        "--dashboard-agent-listen-port", str(free_port()),
        "--dashboard-agent-grpc-port", str(free_port()),
        "--runtime-env-agent-port", str(free_port()), "--metrics-export-port", str(free_port()),
    ]


def _environ(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return b""


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


@dataclass
class LocalRayCluster:
    """``address`` is what ``--ray-address`` takes; ``env`` is for drivers that join it."""

    token: str = field(default_factory=lambda: uuid.uuid4().hex)
    address: str = ""
    worker_node_port: int = 0  # node-manager port of the second node's raylet
    temp_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="rmc-")))

    @property
    def env(self) -> dict[str, str]:
        """Environment for a driver: no marker (its own processes are not the cluster's)."""
        return {k: v for k, v in _ray_env(self.token).items() if k != MARKER}

    def start(self) -> LocalRayCluster:
        port = free_port()
        self._ray("start", "--head", "--port", str(port), "--node-ip-address", "127.0.0.1",
                  "--temp-dir", str(self.temp_dir), "--include-dashboard=false",
                  *self._common(), *_node_ports())
        self.address = f"127.0.0.1:{port}"
        ports = _node_ports()
        self.worker_node_port = int(ports[1])
        self._ray("start", "--address", self.address, "--node-ip-address", "127.0.0.1",
                  *self._common(), *ports)
        return self

    def _common(self) -> list[str]:
        return ["--num-cpus", "1", "--disable-usage-stats",
                "--object-store-memory", str(100 * 1024 * 1024)]

    def _ray(self, *args: str) -> None:
        done = subprocess.run([*RAY, *args], env=_ray_env(self.token), capture_output=True,
                              text=True, timeout=START_TIMEOUT)
        if done.returncode != 0:
            self.stop()
            raise RuntimeError(f"ray {' '.join(args[:2])} failed:\n{done.stdout}{done.stderr}")

    def pids(self) -> list[int]:
        """Every live process of this cluster (and what its actors started)."""
        needle = f"{MARKER}={self.token}".encode()
        pids = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit() and needle in _environ(int(entry.name)):
                pids.append(int(entry.name))
        return pids

    def worker_raylet(self) -> int:
        """The process id of the second node's raylet."""
        for pid in self.pids():
            line = _cmdline(pid)
            if "raylet" in line.split(" ")[0] and f"={self.worker_node_port}" in line:
                return pid
        raise LookupError("the second node's raylet is not running")

    def descendants(self, pid: int) -> list[int]:
        todo, seen = [pid], []
        while todo:
            for child in _children(todo.pop()):
                seen.append(child)
                todo.append(child)
        return seen

    def adapters(self, pids: list[int] | None = None) -> list[int]:
        """Adapter processes (``python adapter.py --port N``) among ``pids`` (default: all)."""
        return [p for p in (self.pids() if pids is None else pids)
                if "adapter.py --port" in _cmdline(p)]

    def stop(self) -> None:
        """End this cluster's processes by id: TERM, then KILL what is left."""
        for sig in (signal.SIGTERM, signal.SIGKILL):
            pids = self.pids()
            for pid in pids:
                try:
                    os.kill(pid, sig)
                except OSError:
                    continue
            deadline = time.monotonic() + 5
            while pids and time.monotonic() < deadline and self.pids():
                time.sleep(0.1)
