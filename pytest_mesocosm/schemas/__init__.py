"""JSON Schemas shipped with the package, for editors and for tools that do not run Python.

``benchanything.schema.json`` (the manifest) is generated from the pydantic models in
:mod:`pytest_mesocosm.manifest.models`; regenerate it with
``python -m pytest_mesocosm.manifest.models --write-schema`` after changing a model.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SCHEMA_FILE = Path(__file__).with_name("benchanything.schema.json")


def shipped_manifest_schema() -> dict[str, Any]:
    """The JSON Schema of ``benchanything.json`` as shipped in this package."""
    schema: dict[str, Any] = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    return schema
