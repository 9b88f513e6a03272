"""benchanything.json: loading real files, every broken-manifest message, validation reports."""

from __future__ import annotations

import copy
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from pytest_mesocosm.errors import ManifestError
from pytest_mesocosm.manifest.models import (
    ActionSpace,
    Manifest,
    load_manifest,
    validate_file,
    validate_payload,
)

# FILE THREE of the seed (003_*.txt), verbatim: no tier, no id.
SEED_WORDLE = """
{
"adapter": "adapter.py",
"name": "Wordle",
"description": "6 tries to guess a 5-letter word.",
"binding_vow": {
"version": "1.0.0",
"observation_space": { "type": "json" },
"action_space": { "type": "text",
"description": "A 5-letter lowercase word." },
"reward": { "type": "binary",
"range": { "low": 0.0, "high": 1.0 } },
"episode": { "max_steps": 6,
"deterministic_reset": true,
"supports_seed": true }
},
"scoring": {
"primary_metric": "win_rate",
"higher_is_better": true,
"metrics": [
{ "name": "win_rate", "type": "terminal_field",
"field": "won", "aggregation": "pass_rate" }
]
}
}
"""

# The three scoring blocks of the seed's "TWO FLAVORS" section.
SEED_SCORING = [
    {
        "primary_metric": "accuracy",
        "higher_is_better": True,
        "metrics": [{"name": "accuracy", "type": "episode_reward", "aggregation": "pass_rate"}],
    },
    {
        "primary_metric": "mean_score",
        "higher_is_better": True,
        "metrics": [{"name": "mean_score", "type": "episode_reward", "aggregation": "mean"}],
    },
    {
        "primary_metric": "success_rate",
        "higher_is_better": True,
        "metrics": [
            {"name": "success_rate", "type": "terminal_field", "field": "success",
             "aggregation": "pass_rate", "pass_threshold": 0.5},
            {"name": "avg_reward", "type": "episode_reward", "aggregation": "mean"},
            {"name": "avg_steps", "type": "terminal_field", "field": "steps",
             "aggregation": "mean"},
        ],
    },
]


def wordle() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SEED_WORDLE)
    return data


def write_env(folder: Path, data: Any, *, adapter: str = "adapter.py") -> Path:
    """An env repo on disk: the manifest and an adapter script."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / adapter).parent.mkdir(parents=True, exist_ok=True)
    (folder / adapter).write_text("print('adapter')\n")
    manifest = folder / "benchanything.json"
    manifest.write_text(json.dumps(data, indent=2))
    return manifest


# ---------------------------------------------------------------- the seed loads


def test_seed_wordle_loads_as_is(tmp_path: Path) -> None:
    manifest_file = write_env(tmp_path / "wordle", wordle())
    manifest = load_manifest(manifest_file.parent)  # a folder works as well as the file

    assert manifest.name == "Wordle"
    assert manifest.id is None and manifest.binding_vow.tier is None
    assert manifest.source_path == manifest_file.resolve()
    assert manifest.root == manifest_file.parent.resolve()
    assert manifest.adapter_path == (tmp_path / "wordle" / "adapter.py").resolve()
    assert manifest.adapter_path.is_absolute()
    assert manifest.domain_id == "wordle"
    vow = manifest.binding_vow
    assert vow.version == "1.0.0"
    assert vow.observation_space.type == "json"
    assert vow.action_space.type == "text" and vow.action_space.enum_values is None
    assert vow.reward.type == "binary"
    assert vow.reward.range is not None and (vow.reward.range.low, vow.reward.range.high) == (0, 1)
    assert vow.episode.max_steps == 6 and vow.episode.max_wall_seconds is None
    assert vow.episode.deterministic_reset and vow.episode.supports_seed
    assert vow.episode.parallel_episodes is None
    metric = manifest.scoring.metrics[0]
    assert (metric.name, metric.type, metric.field) == ("win_rate", "terminal_field", "won")
    assert (metric.aggregation, metric.pass_threshold) == ("pass_rate", 0.0)
    assert manifest.scoring.primary_metric == "win_rate" and manifest.scoring.higher_is_better
    assert manifest.mesocosm is None and manifest.tags == []

    assert validate_file(manifest_file) == {
        "ok": True, "issues": [], "suggested_fixes": [], "rules_version": "1",
        "schema": "benchanything_manifest",
    }


@pytest.mark.parametrize("scoring", SEED_SCORING, ids=["pass_rate", "mean", "three_metrics"])
def test_seed_scoring_blocks_load(tmp_path: Path, scoring: dict[str, Any]) -> None:
    data = wordle()
    data["scoring"] = scoring
    manifest = load_manifest(write_env(tmp_path, data))
    assert [m.name for m in manifest.scoring.metrics] == [m["name"] for m in scoring["metrics"]]
    assert validate_payload(data)["ok"] is True


def test_defaults_when_optional_blocks_are_left_out(tmp_path: Path) -> None:
    data = wordle()
    del data["binding_vow"]["observation_space"], data["binding_vow"]["episode"]
    manifest = load_manifest(write_env(tmp_path, data))
    assert manifest.binding_vow.observation_space.type == "json"
    assert manifest.binding_vow.episode.max_steps is None
    assert manifest.binding_vow.episode.deterministic_reset is False


def test_id_and_extras_and_nested_adapter(tmp_path: Path) -> None:
    data = wordle()
    data.update(id="wordle-hard", tags=["game"], adapter="serve/../serve/adapter.py",
                mesocosm={"thresholds": ["win_rate>=0.6", "mean_steps < 5.5"], "allowed_errors": 1})
    data["binding_vow"].update(tier="tier2", techniques=["react"], metadata={"lang": "en"})
    data["binding_vow"]["action_space"] = {
        "type": "json", "schema": {"type": "object", "required": ["guess"]},
    }
    write_env(tmp_path / "repo", data, adapter="serve/adapter.py")
    manifest = load_manifest(tmp_path / "repo" / "benchanything.json")
    assert manifest.domain_id == "wordle-hard"
    assert manifest.adapter_path == (tmp_path / "repo" / "serve" / "adapter.py").resolve()
    assert manifest.mesocosm is not None
    assert manifest.mesocosm.thresholds == ["win_rate>=0.6", "mean_steps < 5.5"]
    assert manifest.mesocosm.allowed_errors == 1
    assert manifest.binding_vow.tier == "tier2"
    schema = manifest.binding_vow.action_space.json_schema
    assert schema == {"type": "object", "required": ["guess"]}


def test_discrete_and_continuous_spaces_load(tmp_path: Path) -> None:
    data = wordle()
    data["binding_vow"]["action_space"] = {"type": "discrete", "enum_values": ["left", "right"]}
    assert load_manifest(write_env(tmp_path / "a", data)).binding_vow.action_space.enum_values == [
        "left", "right",
    ]
    data["binding_vow"]["action_space"] = {
        "type": "continuous", "bounds": {"low": -1, "high": 1, "shape": [2]},
    }
    bounds = load_manifest(write_env(tmp_path / "b", data)).binding_vow.action_space.bounds
    assert bounds is not None and (bounds.low, bounds.high, bounds.shape) == (-1.0, 1.0, [2])


def test_unknown_keys_are_kept_round_trip(tmp_path: Path) -> None:
    data = wordle()
    data["platform_extra"] = {"nested": [1, 2]}
    data["binding_vow"]["x_vow"] = True
    data["binding_vow"]["action_space"]["max_length"] = 5
    data["binding_vow"]["reward"]["range"]["unit"] = "win"
    data["binding_vow"]["episode"]["warmup_steps"] = 0
    data["scoring"]["metrics"][0]["display"] = "Win rate"
    data["scoring"]["weighting"] = "uniform"
    manifest = load_manifest(write_env(tmp_path, data))
    assert manifest.to_dict() == data
    assert manifest.model_extra == {"platform_extra": {"nested": [1, 2]}}
    assert manifest.scoring.metrics[0].model_extra == {"display": "Win rate"}


def test_in_memory_manifest_uses_the_rules_and_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    manifest = Manifest.model_validate(wordle())
    assert manifest.source_path is None
    assert manifest.root == tmp_path and manifest.domain_id == tmp_path.name
    assert manifest.adapter_path == (tmp_path / "adapter.py").resolve()

    broken = wordle()
    broken["binding_vow"]["action_space"] = {"type": "discrete"}
    with pytest.raises(ValidationError) as info:
        Manifest.model_validate(broken)
    assert [e["loc"] for e in info.value.errors()] == [
        ("binding_vow", "action_space", "enum_values"),
    ]
    by_name = ActionSpace.model_validate({"type": "json", "json_schema": {"type": "string"}})
    assert by_name.model_dump(by_alias=True)["schema"] == {"type": "string"}


# ---------------------------------------------------------------- broken manifests

DELETE = object()


def at(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """A change to the seed manifest: set (or delete) the value at a dotted path."""

    def change(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = data
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if value is DELETE:
            del node[last]
        elif isinstance(node, list):
            node[int(last)] = copy.deepcopy(value)
        else:
            node[last] = copy.deepcopy(value)

    return change


ACTIONS = '"text", "discrete", "continuous", "json", "image", "multi_modal" or "composite"'
TERMINAL = {"name": "steps", "type": "terminal_field", "aggregation": "mean"}

# (id, change, JSON path of the problem, exact message; {root} is the manifest's folder)
BROKEN: list[tuple[str, Callable[[dict[str, Any]], None], str, str]] = [
    ("missing_adapter", at("adapter", DELETE), "adapter", "field required"),
    ("missing_name", at("name", DELETE), "name", "field required"),
    ("missing_binding_vow", at("binding_vow", DELETE), "binding_vow", "field required"),
    ("missing_version", at("binding_vow.version", DELETE), "binding_vow.version", "field required"),
    ("bad_version", at("binding_vow.version", "1.0"), "binding_vow.version",
     'must be a version like "1.0.0" (major.minor.patch), got "1.0"'),
    ("bad_tier", at("binding_vow.tier", "tier3"), "binding_vow.tier",
     'must be one of "tier1" or "tier2", got "tier3"'),
    ("unknown_action_type", at("binding_vow.action_space.type", "button"),
     "binding_vow.action_space.type", f'must be one of {ACTIONS}, got "button"'),
    ("discrete_without_enum_values", at("binding_vow.action_space", {"type": "discrete"}),
     "binding_vow.action_space.enum_values",
     "a discrete action space needs a non-empty list of allowed actions"),
    ("discrete_with_empty_enum_values",
     at("binding_vow.action_space", {"type": "discrete", "enum_values": []}),
     "binding_vow.action_space.enum_values",
     "a discrete action space needs a non-empty list of allowed actions"),
    ("discrete_duplicate_action",
     at("binding_vow.action_space", {"type": "discrete", "enum_values": ["a", "b", "a"]}),
     "binding_vow.action_space.enum_values[2]", 'duplicate action "a"'),
    ("continuous_without_bounds", at("binding_vow.action_space", {"type": "continuous"}),
     "binding_vow.action_space.bounds", "a continuous action space needs bounds"),
    ("continuous_low_equals_high",
     at("binding_vow.action_space", {"type": "continuous", "bounds": {"low": 1, "high": 1}}),
     "binding_vow.action_space.bounds", "low must be < high, got low=1, high=1"),
    ("continuous_low_above_high",
     at("binding_vow.action_space", {"type": "continuous", "bounds": {"low": 2.5, "high": -1}}),
     "binding_vow.action_space.bounds", "low must be < high, got low=2.5, high=-1"),
    ("bad_json_schema",
     at("binding_vow.action_space", {"type": "json", "schema": {"type": "strin"}}),
     "binding_vow.action_space.schema",
     "is not a valid JSON Schema: 'strin' is not valid under any of the given schemas (at type)"),
    ("json_schema_not_an_object",
     at("binding_vow.action_space", {"type": "json", "schema": "object"}),
     "binding_vow.action_space.schema", 'must be an object, got "object"'),
    ("unknown_reward_type", at("binding_vow.reward.type", "dense"), "binding_vow.reward.type",
     'must be one of "binary", "scalar", "sparse" or "vector", got "dense"'),
    ("reward_range_inverted", at("binding_vow.reward.range", {"low": 1.0, "high": 0.0}),
     "binding_vow.reward.range", "low must be <= high, got low=1.0, high=0.0"),
    ("reward_range_not_a_number", at("binding_vow.reward.range.high", "one"),
     "binding_vow.reward.range.high", 'must be a number, got "one"'),
    ("max_steps_zero", at("binding_vow.episode.max_steps", 0), "binding_vow.episode.max_steps",
     "must be >= 1, got 0"),
    ("max_steps_wrong_type", at("binding_vow.episode.max_steps", "six"),
     "binding_vow.episode.max_steps", 'must be an integer, got "six"'),
    ("max_steps_fraction", at("binding_vow.episode.max_steps", 6.5),
     "binding_vow.episode.max_steps", "must be a whole number, got 6.5"),
    ("max_wall_seconds_negative", at("binding_vow.episode.max_wall_seconds", -1),
     "binding_vow.episode.max_wall_seconds", "must be > 0, got -1"),
    ("parallel_episodes_zero", at("binding_vow.episode.parallel_episodes", 0),
     "binding_vow.episode.parallel_episodes", "must be >= 1, got 0"),
    ("deterministic_reset_not_bool", at("binding_vow.episode.deterministic_reset", "maybe"),
     "binding_vow.episode.deterministic_reset", 'must be true or false, got "maybe"'),
    ("primary_metric_not_in_metrics", at("scoring.primary_metric", "accuracy"),
     "scoring.primary_metric", '"accuracy" is not one of the metrics ("win_rate")'),
    ("terminal_field_without_field", at("scoring.metrics.0.field", DELETE),
     "scoring.metrics[0].field",
     "a terminal_field metric needs the info key it reads from the last step"),
    ("bad_aggregation", at("scoring.metrics.0.aggregation", "average"),
     "scoring.metrics[0].aggregation",
     'must be one of "mean", "median", "min", "max", "sum" or "pass_rate", got "average"'),
    ("unknown_metric_type", at("scoring.metrics.0.type", "reward"), "scoring.metrics[0].type",
     'must be one of "episode_reward" or "terminal_field", got "reward"'),
    ("duplicate_metric_names",
     at("scoring.metrics", [{"name": "win_rate", "type": "terminal_field", "field": "won"},
                            {"name": "win_rate", "type": "episode_reward"}]),
     "scoring.metrics[1].name", 'duplicate metric name "win_rate" (also scoring.metrics[0].name)'),
    ("empty_metrics", at("scoring.metrics", []), "scoring.metrics", "must not be empty"),
    ("empty_metric_name", at("scoring.metrics.0.name", ""), "scoring.metrics[0].name",
     "must not be empty"),
    ("metrics_not_a_list", at("scoring.metrics", TERMINAL), "scoring.metrics",
     'must be a list, got {"name": "steps", "type": "terminal_field", "aggregation": "mean"}'),
    ("name_wrong_type", at("name", 5), "name", "must be a string, got 5"),
    ("tags_wrong_type", at("tags", "game"), "tags", 'must be a list, got "game"'),
    ("binding_vow_wrong_type", at("binding_vow", "v1"), "binding_vow",
     'must be an object, got "v1"'),
    ("adapter_leaves_the_repo", at("adapter", "../x.py"), "adapter",
     '"../x.py" leaves the repository; use a path inside {root}'),
    ("adapter_leaves_through_subfolder", at("adapter", "sub/../../x.py"), "adapter",
     '"sub/../../x.py" leaves the repository; use a path inside {root}'),
    ("adapter_absolute", at("adapter", "/srv/env/adapter.py"), "adapter",
     '"/srv/env/adapter.py" is an absolute path; use a path relative to {root}'),
    ("adapter_missing", at("adapter", "play.py"), "adapter", '"play.py" does not exist in {root}'),
    ("allowed_errors_negative", at("mesocosm", {"allowed_errors": -1}), "mesocosm.allowed_errors",
     "must be >= 0, got -1"),
]


@pytest.mark.parametrize(("change", "path", "message"), [case[1:] for case in BROKEN],
                         ids=[case[0] for case in BROKEN])
def test_broken_manifest_is_reported_with_path_message_and_fix(
    tmp_path: Path, change: Callable[[dict[str, Any]], None], path: str, message: str
) -> None:
    data = wordle()
    change(data)
    manifest_file = write_env(tmp_path, data)
    expected = message.replace("{root}", str(tmp_path))

    report = validate_file(manifest_file)
    assert report["ok"] is False and report["schema"] == "benchanything_manifest"
    assert report["issues"] == [f"{path}: {expected}"]
    assert len(report["suggested_fixes"]) == 1
    fix = report["suggested_fixes"][0]
    assert path.split("[")[0] in fix, "the fix names the field to change"

    with pytest.raises(ManifestError) as info:
        load_manifest(manifest_file)
    error = info.value
    assert error.path == str(manifest_file) and error.field == path
    assert str(error) == f"{manifest_file}: {path}: {expected} ({fix})", "one problem, one line"


def test_exact_fixes_for_common_mistakes(tmp_path: Path) -> None:
    data = wordle()
    data["binding_vow"]["episode"]["max_steps"] = 0
    data["scoring"]["primary_metric"] = "accuracy"
    report = validate_payload(data)
    assert report["suggested_fixes"] == [
        "set binding_vow.episode.max_steps to a positive integer: "
        "the most steps an episode may take",
        'set scoring.primary_metric to one of "win_rate", '
        'or add a metric named "accuracy" to scoring.metrics',
    ]
    with pytest.raises(ManifestError) as info:
        load_manifest(write_env(tmp_path, {**wordle(), "adapter": "../x.py"}))
    assert str(info.value) == (
        f'{tmp_path / "benchanything.json"}: adapter: "../x.py" leaves the repository; '
        f"use a path inside {tmp_path} (move the adapter into {tmp_path} and set adapter "
        "to its path relative to it)"
    )


def test_all_problems_are_reported_at_once(tmp_path: Path) -> None:
    data = wordle()
    del data["name"]
    data["adapter"] = "../outside.py"
    data["binding_vow"]["version"] = "v1"
    data["binding_vow"]["action_space"] = {"type": "discrete"}
    data["binding_vow"]["episode"]["max_steps"] = 0
    data["scoring"]["primary_metric"] = "accuracy"
    data["scoring"]["metrics"].append({**TERMINAL, "aggregation": "avg"})
    manifest_file = write_env(tmp_path, data)

    expected = [
        f'adapter: "../outside.py" leaves the repository; use a path inside {tmp_path}',
        "name: field required",
        'binding_vow.version: must be a version like "1.0.0" (major.minor.patch), got "v1"',
        "binding_vow.episode.max_steps: must be >= 1, got 0",
        "binding_vow.action_space.enum_values: "
        "a discrete action space needs a non-empty list of allowed actions",
        'scoring.metrics[1].aggregation: must be one of "mean", "median", "min", "max", "sum" '
        'or "pass_rate", got "avg"',
        "scoring.metrics[1].field: "
        "a terminal_field metric needs the info key it reads from the last step",
        'scoring.primary_metric: "accuracy" is not one of the metrics ("win_rate", "steps")',
    ]
    report = validate_file(manifest_file)
    assert report["issues"] == expected
    assert len(report["suggested_fixes"]) == len(expected)

    with pytest.raises(ManifestError) as info:
        load_manifest(manifest_file)
    lines = str(info.value).splitlines()
    assert lines[0] == f"{manifest_file}: {len(expected)} problems"
    assert lines[1:] == [
        f"  {manifest_file}: {issue} ({fix})"
        for issue, fix in zip(expected, report["suggested_fixes"], strict=True)
    ]
    assert info.value.field == "adapter"


def test_payload_without_a_folder_does_not_check_the_adapter_file() -> None:
    assert validate_payload({**wordle(), "adapter": "nowhere.py"})["ok"] is True
    assert validate_payload({**wordle(), "adapter": "../x.py"})["issues"] == [
        "adapter: \"../x.py\" leaves the repository; use a path inside the manifest's folder"
    ]


def test_not_an_object() -> None:
    report = validate_payload(["adapter.py"])
    assert report["issues"] == ['(root): must be a JSON object, got ["adapter.py"]']
    assert report["suggested_fixes"] == ["write the manifest as a JSON object"]


# ---------------------------------------------------------------- files that cannot be read


def test_invalid_json_names_line_and_column(tmp_path: Path) -> None:
    manifest_file = tmp_path / "benchanything.json"
    manifest_file.write_text('{\n  "adapter": "adapter.py",\n  "name": ,\n}\n')
    with pytest.raises(ManifestError) as info:
        load_manifest(tmp_path)
    assert str(info.value) == (
        f"{manifest_file}: invalid JSON at line 3, column 11: Expecting value "
        "(fix the JSON syntax at line 3, column 11)"
    )
    assert info.value.path == str(manifest_file)
    assert validate_file(manifest_file)["issues"] == [
        f"{manifest_file}: invalid JSON at line 3, column 11: Expecting value"
    ]


def test_missing_file_and_folder_without_manifest(tmp_path: Path) -> None:
    missing = tmp_path / "nope.json"
    with pytest.raises(ManifestError) as info:
        load_manifest(missing)
    assert str(info.value) == (
        f"{missing}: no such file "
        "(pass the path of a benchanything.json or of the folder holding it)"
    )
    with pytest.raises(ManifestError) as info:
        load_manifest(tmp_path)
    assert str(info.value) == (
        f"{tmp_path}: no benchanything.json in this folder "
        f"(create {tmp_path / 'benchanything.json'}, or pass the path of the manifest)"
    )
    assert validate_file(missing)["ok"] is False


def test_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    manifest_file = write_env(tmp_path, wordle())
    manifest_file.write_bytes(b"\xef\xbb\xbf" + manifest_file.read_bytes())
    assert load_manifest(manifest_file).name == "Wordle"


def test_validate_reads_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(SEED_WORDLE))
    assert validate_file("-")["ok"] is True
    monkeypatch.setattr("sys.stdin", io.StringIO("{"))
    assert validate_file("-")["issues"] == [
        "<stdin>: invalid JSON at line 1, column 2: "
        "Expecting property name enclosed in double quotes"
    ]


# ---------------------------------------------------------------- legacy domain-register bodies


def register_body() -> dict[str, Any]:
    data = wordle()
    return {
        "id": "wordle", "name": "Wordle", "owner_id": 42,
        "binding_vow": data["binding_vow"], "endpoint": "http://127.0.0.1:8765",
        "scoring": data["scoring"],
    }


def test_domain_register_body_is_detected_and_validated() -> None:
    assert validate_payload(register_body()) == {
        "ok": True, "issues": [], "suggested_fixes": [], "rules_version": "1",
        "schema": "domain_register",
    }
    body = register_body()
    del body["id"]
    body["endpoint"] = "ftp://example.org"
    body["binding_vow"]["episode"]["max_steps"] = 0
    body["scoring"]["primary_metric"] = "score"
    report = validate_payload(body)
    assert report["schema"] == "domain_register"
    assert report["issues"] == [
        "id: field required",
        "binding_vow.episode.max_steps: must be >= 1, got 0",
        'endpoint: must be an http(s) URL, got "ftp://example.org"',
        'scoring.primary_metric: "score" is not one of the metrics ("win_rate")',
    ]
    assert report["suggested_fixes"][0] == 'add id: a domain id, e.g. "wordle"'


def test_a_manifest_with_an_endpoint_is_still_a_manifest() -> None:
    assert validate_payload({**wordle(), "endpoint": "http://x"})["schema"] == (
        "benchanything_manifest"
    )
    assert validate_payload({})["schema"] == "benchanything_manifest"


# ---------------------------------------------------------------- our extension key


def test_thresholds_are_read_by_the_gate_and_name_known_metrics(tmp_path: Path) -> None:
    data = wordle()
    data["mesocosm"] = {"thresholds": ["win_rate>=0.6", "win_rate.lower>0.2", "mean_steps<5",
                                       "pass@3>=0.5"]}
    assert validate_payload(data)["ok"] is True

    data["mesocosm"]["thresholds"] = ["win_rate>=0.6", "win_rate=>0.6", "accuracy>=0.5"]
    report = validate_file(write_env(tmp_path, data))
    assert [issue.partition(": ")[0] for issue in report["issues"]] == [
        "mesocosm.thresholds[1]", "mesocosm.thresholds[2]",
    ]
    assert report["issues"][0].startswith(
        "mesocosm.thresholds[1]: cannot read threshold 'win_rate=>0.6': expected NAME"
    )
    assert report["issues"][1].startswith(
        "mesocosm.thresholds[2]: threshold 'accuracy>=0.5' names no metric 'accuracy'"
    )
    assert report["suggested_fixes"][0] == (
        'set mesocosm.thresholds[1] to a threshold like "win_rate>=0.6"'
    )


def test_relative_manifest_path_names_the_real_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_env(tmp_path / "env", {**wordle(), "adapter": "../up.py"})
    monkeypatch.chdir(tmp_path / "env")
    with pytest.raises(ManifestError) as info:
        load_manifest("benchanything.json")
    assert str(info.value).startswith(
        f'benchanything.json: adapter: "../up.py" leaves the repository; '
        f"use a path inside {tmp_path / 'env'} ("
    )
    write_env(tmp_path / "env", wordle())
    manifest = load_manifest("benchanything.json")
    assert manifest.domain_id == "env" and manifest.adapter_path == tmp_path / "env" / "adapter.py"
