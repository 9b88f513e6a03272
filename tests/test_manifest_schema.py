"""The JSON Schema shipped with the package: up to date, valid, and it agrees with the models."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
from test_manifest import SEED_SCORING, wordle

from pytest_mesocosm.manifest.models import manifest_json_schema, schema_text, validate_payload
from pytest_mesocosm.schemas import SCHEMA_FILE, shipped_manifest_schema

REGENERATE = "python -m pytest_mesocosm.manifest.models --write-schema"


def schema_errors(instance: Any) -> list[str]:
    """Every complaint, including those nested under anyOf (nullable fields)."""
    validator = jsonschema.Draft202012Validator(shipped_manifest_schema())
    pending = list(validator.iter_errors(instance))
    messages = []
    while pending:
        error = pending.pop()
        messages.append(error.message)
        pending.extend(error.context or [])
    return messages


def test_shipped_schema_is_up_to_date() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == schema_text(), (
        f"{SCHEMA_FILE} is out of date with the models; regenerate it: {REGENERATE}"
    )


def test_write_schema_command_writes_the_generated_schema(tmp_path: Path) -> None:
    target = tmp_path / "schema.json"
    done = subprocess.run(
        [sys.executable, "-m", "pytest_mesocosm.manifest.models", "--write-schema", str(target)],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"wrote {target}"
    assert json.loads(target.read_text(encoding="utf-8")) == manifest_json_schema()

    usage = subprocess.run(
        [sys.executable, "-m", "pytest_mesocosm.manifest.models"],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert usage.returncode == 2 and REGENERATE in usage.stderr


def test_shipped_schema_is_a_valid_json_schema() -> None:
    schema = shipped_manifest_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["required"] == ["adapter", "name", "binding_vow", "scoring"]


@pytest.mark.parametrize("scoring", [None, *SEED_SCORING])
def test_shipped_schema_accepts_the_seed_manifests(scoring: dict[str, Any] | None) -> None:
    data = wordle()
    if scoring is not None:
        data["scoring"] = scoring
    data["x_platform"] = {"kept": True}  # unknown keys are allowed
    data["binding_vow"]["action_space"]["x_hint"] = "five letters"
    assert schema_errors(data) == []


def _broken(path: list[str | int], value: Any) -> dict[str, Any]:
    data = wordle()
    node: Any = data
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return data


# (id, manifest, a word the schema's complaint contains)
REJECTED = [
    ("missing_adapter", {k: v for k, v in wordle().items() if k != "adapter"}, "'adapter'"),
    ("bad_version", _broken(["binding_vow", "version"], "1.0"), "does not match"),
    ("unknown_action_type", _broken(["binding_vow", "action_space", "type"], "button"), "button"),
    ("discrete_without_enum_values",
     _broken(["binding_vow", "action_space"], {"type": "discrete"}), "'enum_values'"),
    ("continuous_without_bounds",
     _broken(["binding_vow", "action_space"], {"type": "continuous"}), "'bounds'"),
    ("max_steps_zero", _broken(["binding_vow", "episode", "max_steps"], 0), "0"),
    ("terminal_field_without_field",
     _broken(["scoring", "metrics"], [{"name": "won", "type": "terminal_field"}]), "'field'"),
    ("empty_metrics", _broken(["scoring", "metrics"], []), "[]"),
    ("bad_aggregation", _broken(["scoring", "metrics", 0, "aggregation"], "avg"), "avg"),
]


@pytest.mark.parametrize(("data", "word"), [case[1:] for case in REJECTED],
                         ids=[case[0] for case in REJECTED])
def test_shipped_schema_rejects_broken_manifests(data: dict[str, Any], word: str) -> None:
    errors = schema_errors(data)
    assert errors, "the schema accepted a broken manifest"
    assert any(word in error for error in errors), errors
    assert validate_payload(data)["ok"] is False, "the models must reject it too"
