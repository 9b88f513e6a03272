"""Golden files on their own: masking volatile paths, the first difference, the file."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from pytest_mesocosm.golden.compare import first_difference, mask
from pytest_mesocosm.golden.store import (
    GoldenEpisode,
    GoldenError,
    golden_files,
    read_golden,
    write_golden,
)
from pytest_mesocosm.manifest.models import load_manifest

WORDLE = Path(__file__).resolve().parent.parent / "examples" / "wordle"


def _step(reward: float, at: float, ids: list[int]) -> dict[str, object]:
    return {"action": "crane", "reward": reward, "terminated": False, "truncated": False,
            "observation": {"data": {"events": [{"id": i, "at": at} for i in ids]},
                            "content_type": "application/json"},
            "info": {"at": at}}


def test_paths_with_wildcards_mask_only_what_they_name() -> None:
    masked = mask(_step(1.0, 5.0, [1, 2]), ["info.at", "observation.data.events.*.at"])
    assert masked["info"] == {"at": "<ignored>"}
    assert masked["observation"]["data"]["events"] == [{"id": 1, "at": "<ignored>"},
                                                       {"id": 2, "at": "<ignored>"}]
    assert masked["reward"] == 1.0


def test_the_first_difference_names_the_step_and_fields() -> None:
    golden = GoldenEpisode("d", 3, steps=[_step(0.0, 1.0, [1]), _step(1.0, 1.0, [1])])
    now = GoldenEpisode("d", 3, steps=[_step(0.0, 2.0, [1]), _step(2.0, 2.0, [9])])
    found = first_difference(golden, now)
    assert found is not None and (found.step, found.fields) == (1, ["info", "observation"])
    found = first_difference(golden, now, ["info.at", "observation.data.events.*.at"])
    assert found is not None and (found.step, found.fields) == (2, ["observation", "reward"])
    assert found.headline("seed=3") == ("seed=3: first difference at step 2 (action 'crane'): "
                                        "observation, reward")
    assert '-  "reward": 1.0,' in found.diff.splitlines()
    shorter = GoldenEpisode("d", 3, steps=[_step(0.0, 1.0, [1])])
    found = first_difference(golden, shorter, ["info.at"])
    assert found is not None and found.fields == ["the env ended earlier"]


def test_recording_again_keeps_the_authors_ignore_list(tmp_path: Path) -> None:
    repo = tmp_path / "wordle"
    shutil.copytree(WORDLE, repo, ignore=shutil.ignore_patterns("__pycache__", ".mesocosm"))
    manifest = load_manifest(repo / "benchanything.json")
    path = write_golden(manifest, GoldenEpisode("wordle", 12, steps=[_step(1.0, 1.0, [1])]))
    assert path == repo / ".mesocosm" / "golden" / "wordle" / "seed-12.json"
    data = json.loads(path.read_text())
    data["ignore"] = ["info.at"]
    path.write_text(json.dumps(data))
    write_golden(manifest, GoldenEpisode("wordle", 12, ignore=["info.when"]))
    assert read_golden(path).ignore == ["info.at", "info.when"]
    write_golden(manifest, GoldenEpisode("wordle", 2))
    assert [p.name for p in golden_files(manifest)] == ["seed-2.json", "seed-12.json"]


@pytest.mark.parametrize(
    ("text", "message"),
    [("{", "is not JSON"), ('{"schema": "x"}', "is not a golden file (expected schema "
                                              "'mesocosm.golden/1'); record it again"),
     ('{"schema": "mesocosm.golden/1", "ignore": "info.at"}',
      "'ignore' must be a list of paths like 'info.timestamp'")],
)
def test_a_broken_golden_file_is_one_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "seed-0.json"
    path.write_text(text)
    with pytest.raises(GoldenError, match=re.escape(message)):
        read_golden(path)
