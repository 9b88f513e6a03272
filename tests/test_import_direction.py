"""The house of DESIGN.md, enforced by walking the imports of every source file.

- the engine (``pytest_mesocosm`` except ``plugin/``) never imports pytest, click,
  ``mesocosm_platform``, ``mesocosm_server`` or ``mesocosm_cli``;
- ``sdk/`` imports nothing else of the project;
- the CLI and the plugin never import each other;
- the CLI and the plugin reach the engine only through the public API
  (``pytest_mesocosm``) or the documented seam (``pytest_mesocosm.FRONT_END_SEAM``);
- no package imports another package's private (``_``-prefixed) names.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import pytest_mesocosm

ROOT = Path(__file__).resolve().parents[1]
ENGINE = ROOT / "pytest_mesocosm"
PLUGIN = ENGINE / "plugin"
SDK = ENGINE / "sdk"
CLI = ROOT / "mesocosm_cli"
SERVER = ROOT / "mesocosm_server"
PLATFORM = ROOT / "mesocosm_platform"
PROJECT = ("pytest_mesocosm", "mesocosm_platform", "mesocosm_server", "mesocosm_cli")


def imports(path: Path) -> list[str]:
    """Every module a file imports, at any depth (lazy imports inside functions too)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found += [node.module] + [f"{node.module}.{a.name}" for a in node.names]
    return found


def top(name: str) -> str:
    return name.split(".")[0]


def sources(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.py"))


def engine_files() -> list[Path]:
    return [p for p in sources(ENGINE) if PLUGIN not in p.parents]


def under(name: str, module: str) -> bool:
    return name == module or name.startswith(module + ".")


@pytest.mark.parametrize("path", engine_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_the_engine_imports_no_front_end(path: Path) -> None:
    banned = {"pytest", "_pytest", "click", "mesocosm_platform", "mesocosm_server",
              "mesocosm_cli", "xdist"}
    assert {top(name) for name in imports(path)} & banned == set()


@pytest.mark.parametrize("path", sources(SDK), ids=lambda p: str(p.relative_to(ROOT)))
def test_the_sdk_stands_alone(path: Path) -> None:
    project = [n for n in imports(path) if top(n) in PROJECT]
    assert all(under(n, "pytest_mesocosm.sdk") for n in project), project


@pytest.mark.parametrize("path", sources(CLI), ids=lambda p: str(p.relative_to(ROOT)))
def test_the_cli_never_imports_the_plugin(path: Path) -> None:
    assert not [n for n in imports(path) if under(n, "pytest_mesocosm.plugin")]


@pytest.mark.parametrize("path", sources(PLUGIN), ids=lambda p: str(p.relative_to(ROOT)))
def test_the_plugin_never_imports_the_cli_or_the_server(path: Path) -> None:
    """The plugin may use the platform's client (``--mesocosm-platform``), never the CLI's
    commands or the server's code."""
    names = {top(n) for n in imports(path)}
    assert names & {"mesocosm_cli", "mesocosm_server"} == set()


def _seam_ok(name: str) -> bool:
    if under(name, "pytest_mesocosm.plugin") or name == "pytest_mesocosm":
        return True
    if any(under(name, module) for module in pytest_mesocosm.FRONT_END_SEAM):
        return True
    return name.count(".") == 1 and name.split(".")[1] in pytest_mesocosm.__all__


def _module_names(path: Path) -> list[str]:
    """Imported modules of the engine (``from pytest_mesocosm.x import y`` -> x)."""
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            if node.module == "pytest_mesocosm":
                names += [f"pytest_mesocosm.{a.name}" for a in node.names]
            elif top(node.module) == "pytest_mesocosm":
                names.append(node.module)
        elif isinstance(node, ast.Import):
            names += [a.name for a in node.names if top(a.name) == "pytest_mesocosm"]
    return names


@pytest.mark.parametrize("path", [*sources(CLI), *sources(PLUGIN)],
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_front_ends_use_the_public_api_or_the_documented_seam(path: Path) -> None:
    assert [n for n in _module_names(path) if not _seam_ok(n)] == []


def test_every_seam_module_exists() -> None:
    for module in pytest_mesocosm.FRONT_END_SEAM:
        path = ROOT / module.replace(".", "/")
        assert path.with_suffix(".py").is_file() or (path / "__init__.py").is_file(), module


def _private_names_from(path: Path, package: str) -> list[str]:
    """``from other_package.x import _name`` in a file of ``package``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (isinstance(node, ast.ImportFrom) and node.module and not node.level
                and top(node.module) in PROJECT and top(node.module) != package):
            found += [f"{node.module}.{a.name}" for a in node.names
                      if a.name.startswith("_") and not a.name.endswith("__")]
    return found


@pytest.mark.parametrize("path", [*sources(CLI), *sources(SERVER), *sources(PLATFORM)],
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_no_package_imports_another_packages_private_names(path: Path) -> None:
    package = path.relative_to(ROOT).parts[0]
    assert _private_names_from(path, package) == []
