"""A checkout becomes something that can run: its manifest found and validated with the
engine's validator, and a virtualenv of its own holding its ``requirements.txt``, the
SDK's runtime (FastAPI, uvicorn) and the server's own copy of the SDK.

Installs use uv with ``--no-build``: wheels only, so installing never runs the submitted
repository's code (or a source distribution's) as the server's user. The SDK is copied
into the virtualenv, so an env written with this project's SDK need not list the project.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path
from typing import Any

from mesocosm_server.devenvs.isolation import Sandbox
from mesocosm_server.devenvs.steps import StepFailed, run_step
from pytest_mesocosm.manifest.models import (
    MANIFEST_NAME,
    load_manifest,
    validate_file,
)

MANIFEST_FOLDERS = ("", "auxiliary", "files")  # where the hosted sandbox looks, in order
SDK_RUNTIME = ("fastapi", "uvicorn")
SHIM_INIT = '"""The bench server\'s copy of the pytest-mesocosm SDK (sdk/ only)."""\n'


@dataclass(frozen=True)
class Checked:
    """A valid manifest: its data and its adapter, relative to the checkout."""

    manifest: dict[str, Any]
    adapter: Path


def find_manifest(checkout: Path) -> Path:
    for folder in MANIFEST_FOLDERS:
        candidate = checkout / folder / MANIFEST_NAME
        if candidate.is_file():
            return candidate
    raise StepFailed(f"No {MANIFEST_NAME} found at the repository root, in auxiliary/ "
                     "or in files/; add one (see `mesocosm init`)")


def check_manifest(checkout: Path) -> Checked:
    """Every problem at once, in the engine validator's words."""
    path = find_manifest(checkout)
    where = path.relative_to(checkout)
    warnings: list[str] = []
    report = validate_file(path, warnings)
    problems = [*report["issues"], *warnings]  # a vow without a tier: the hosted refusal
    if problems:
        raise StepFailed(f"Invalid {where}: " + "; ".join(problems))
    manifest = load_manifest(path)
    adapter = manifest.adapter_path
    try:
        relative = adapter.relative_to(checkout.resolve())
    except ValueError as exc:
        raise StepFailed(f"Invalid {where}: adapter '{manifest.adapter}' leaves the "
                         "repository") from exc
    return Checked(manifest.to_dict(), relative)


def _uv() -> str:
    try:
        from uv import find_uv_bin
    except ImportError as exc:
        raise StepFailed("the server cannot build environments: uv is not installed; "
                         "pip install uv (a dependency of pytest-mesocosm)") from exc
    return str(find_uv_bin())


def _tool_env(home: Path) -> dict[str, str]:
    """uv's environment: its own settings, proxies and certificates, no server secret."""
    keep = {k: v for k, v in os.environ.items()
            if k.startswith("UV_") or k.lower() in ("http_proxy", "https_proxy", "no_proxy")
            or k in ("SSL_CERT_FILE", "SSL_CERT_DIR", "XDG_CACHE_HOME")}
    cache = os.environ.get("HOME", str(home))
    return {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": cache, **keep}


def _pins() -> list[str]:
    """The SDK's runtime at the versions this server runs (an exact pin keeps uv's cache
    warm and the adapter's behaviour the one tested here)."""
    pins = []
    for name in SDK_RUNTIME:
        try:
            pins.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            pins.append(name)
    return pins


def site_packages(venv: Path) -> Path:
    found = sorted(venv.glob("lib/python*/site-packages"))
    if not found:
        raise StepFailed(f"the virtualenv {venv} has no site-packages folder")
    return found[0]


def give_sdk(venv: Path) -> None:
    """Copy this server's SDK into the virtualenv unless the requirements brought one."""
    target = site_packages(venv) / "pytest_mesocosm"
    if target.exists():
        return
    source = Path(str(resources.files("pytest_mesocosm").joinpath("sdk")))
    shutil.copytree(source, target / "sdk", ignore=shutil.ignore_patterns("__pycache__"))
    (target / "__init__.py").write_text(SHIM_INIT, encoding="utf-8")


SYSTEM_PYTHONS = ("/usr/local/bin/python3", "/usr/bin/python3")
SUPPORTED = "import sys; sys.exit(sys.version_info < (3, 10))"


def base_python(setting: str, sandbox: Sandbox, home: Path) -> str:
    """The virtualenvs' base interpreter: the setting, else the server's own when the
    sandbox user can run it, else the system's python3 (a server run as root from a
    Python under /root, say)."""
    if setting or sandbox.uid is None:
        return setting or sys.executable
    for candidate in (sys.executable, *SYSTEM_PYTHONS):
        try:
            run_sandboxed([candidate, "-c", SUPPORTED], sandbox=sandbox,
                          env=sandbox.environment(Path(candidate).parent.parent, home),
                          timeout=30, cwd=home)
        except StepFailed:
            continue
        return candidate
    raise StepFailed("no Python 3.10+ here can be run by the sandbox user; set "
                     "MESOCOSM_SERVER_DEVENV_PYTHON to an interpreter it can run")


def build_venv(checkout: Path, venv: Path, *, python: str, timeout: float,
               sandbox: Sandbox, home: Path) -> None:
    """Create ``venv``, install the requirements, add the SDK, and check that the sandbox
    user can import it with the scrubbed environment the adapter will get."""
    uv, env = _uv(), _tool_env(home)
    python = base_python(python, sandbox, home)
    run_step([uv, "venv", "--quiet", "--python", python, str(venv)],
             what="Creating the virtualenv", timeout=timeout, env=env)
    requirements = checkout / "requirements.txt"
    argv = [uv, "pip", "install", "--quiet", "--no-build", "--python", str(venv / "bin/python"),
            *_pins()]
    if requirements.is_file():
        argv += ["-r", str(requirements)]
    try:  # from uv's cache alone first: no index round trip when everything is there
        run_step([*argv, "--offline"], what="Installing requirements.txt", timeout=timeout,
                 env=env, cwd=checkout)
    except StepFailed:
        run_step(argv, what="Installing requirements.txt", timeout=timeout, env=env,
                 cwd=checkout)
    give_sdk(venv)
    check = [str(venv / "bin/python"), "-c", "import pytest_mesocosm.sdk, fastapi, uvicorn"]
    try:
        run_sandboxed(check, sandbox=sandbox, env=sandbox.environment(venv, home),
                      timeout=timeout, cwd=home)
    except StepFailed as exc:
        raise StepFailed(f"{exc}; the sandbox user must be able to run {python}"
                         ": set MESOCOSM_SERVER_DEVENV_PYTHON to an interpreter it can run "
                         "and MESOCOSM_SERVER_DEVENV_DIR to a folder it can enter") from None


def run_sandboxed(argv: list[str], *, sandbox: Sandbox, env: dict[str, str], timeout: float,
                  cwd: Path) -> None:
    """Run ``argv`` as the adapter would run: same user, limits and environment."""
    try:
        done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True,
                              timeout=timeout, preexec_fn=sandbox.preexec(),
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as exc:
        raise StepFailed(f"Checking the virtualenv timed out after {timeout:g} s") from exc
    except OSError as exc:
        raise StepFailed(f"Checking the virtualenv failed: {exc}") from exc
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip()[-2000:]
        raise StepFailed(f"Checking the virtualenv failed (exit code {done.returncode}): {tail}")
