"""Find the local environment's manifest.

Older scaffolds kept ``benchanything.json`` in ``auxiliary/`` or ``files/`` (the hosted
platform looks there too), so the default search covers those folders.
"""

from __future__ import annotations

from pathlib import Path

from pytest_mesocosm.errors import ManifestError

MANIFEST_NAME = "benchanything.json"
SEARCH_DIRS = (".", "auxiliary", "files")


def find_manifest(path: Path | None = None, *, cwd: Path | None = None) -> Path:
    """The manifest to use: ``path`` (a file, or a folder searched like the default), else
    ``./benchanything.json``, ``./auxiliary/...``, ``./files/...``; ManifestError if none."""
    if path is not None and not path.is_dir():
        if not path.exists():
            raise ManifestError(
                f"{path}: no such file; pass --manifest the path of a {MANIFEST_NAME} "
                "or of the folder holding it",
                path=str(path),
            )
        return path
    base = path if path is not None else (cwd or Path.cwd())
    for folder in SEARCH_DIRS:
        candidate = base / folder / MANIFEST_NAME
        if candidate.is_file():
            return candidate
    looked = ", ".join(f"{d}/" for d in SEARCH_DIRS)
    raise ManifestError(
        f"no {MANIFEST_NAME} in {base.resolve()} (looked in {looked}); run `mesocosm init` "
        "to scaffold one, or pass --manifest PATH",
        path=str(base / MANIFEST_NAME),
    )
