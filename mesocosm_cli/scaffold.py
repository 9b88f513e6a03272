"""The files ``mesocosm init`` writes, from the templates shipped in ``mesocosm_cli/templates``.

Templates are stored without leading dots (``github/``, ``gitignore``) so that packaging
and git treat them as plain files, and Python files as ``*.py.template`` so that this
project's linters and type checker do not take them for its own modules (the tests lint
the scaffolded copies instead); :data:`FILES` maps each one to its place in the new
repository. Existing files are kept unless ``force`` is set.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

# (template under mesocosm_cli/templates, path in the scaffolded repository)
FILES: tuple[tuple[str, str], ...] = (
    ("benchanything.json", "benchanything.json"),
    ("env.py.template", "env.py"),
    ("adapter.py.template", "adapter.py"),
    ("solver.py.template", "solver.py"),
    ("requirements.txt", "requirements.txt"),
    ("LOCAL_DEV.md", "LOCAL_DEV.md"),
    ("showcase/README.md", "showcase/README.md"),
    ("showcase/replay.example.json", "showcase/replay.example.json"),
    ("github/workflows/mesocosm.yml", ".github/workflows/mesocosm.yml"),
    ("gitignore", ".gitignore"),
)


@dataclass(frozen=True)
class Written:
    """What happened to one file: ``created``, ``overwritten`` or ``skipped`` (it existed)."""

    path: str
    action: str


def template_bytes(name: str) -> bytes:
    return resources.files("mesocosm_cli").joinpath("templates", *name.split("/")).read_bytes()


def scaffold(target: Path, *, force: bool = False) -> list[Written]:
    """Write every scaffold file under ``target`` (created if missing); raise OSError on failure."""
    written: list[Written] = []
    for source, dest in FILES:
        path = target / dest
        exists = path.exists()
        if exists and not force:
            written.append(Written(dest, "skipped"))
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(template_bytes(source))
        written.append(Written(dest, "overwritten" if exists else "created"))
    return written
