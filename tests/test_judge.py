"""judge(): scores, merges thresholds, gates, compares with a baseline, writes results.json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support import write_counter_repo

from pytest_mesocosm import (
    EpisodeResult,
    EpisodeStatus,
    RunFolder,
    build_config,
    judge,
    load_manifest,
)
from pytest_mesocosm.scoring.gate import ThresholdError


def episode(seed: int, status: EpisodeStatus = EpisodeStatus.COMPLETED, won: bool = True
            ) -> EpisodeResult:
    return EpisodeResult(episode_id=f"e{seed}", seed=seed, status=status, steps=2,
                         last_info={"won": "1.0" if won else "0.0"})


def test_judge_writes_one_results_file_with_the_gate(tmp_path: Path) -> None:
    path = write_counter_repo(tmp_path / "repo")
    data = json.loads(path.read_text())
    data["mesocosm"] = {"thresholds": ["win_rate>=0.5"]}
    path.write_text(json.dumps(data))
    manifest = load_manifest(path)
    config = build_config({"episodes": 3, "thresholds": ["mean_steps<=1"]})
    results = [episode(2), episode(0), episode(1, won=False)]
    verdict = judge(manifest, results, config, folder=RunFolder.create(tmp_path / "runs"))
    assert [r.seed for r in verdict.results] == [0, 1, 2]
    assert [c.threshold for c in verdict.gate.checks] == ["win_rate>=0.5", "mean_steps<=1"]
    assert not verdict.passed and verdict.broken is None
    saved = json.loads(verdict.results_path.read_text())
    assert saved["gate"] == verdict.gate.to_dict() and saved["complete"] is True
    assert saved["interrupted"] is False and saved["manifest"]["name"] == "Counter"


def test_partial_and_broken_runs(tmp_path: Path) -> None:
    manifest = load_manifest(write_counter_repo(tmp_path / "repo"))
    config = build_config({"episodes": 4})
    folder = RunFolder.create(tmp_path / "runs")
    verdict = judge(manifest, [episode(0, EpisodeStatus.ENV_ERROR),
                               episode(1, EpisodeStatus.MODEL_ERROR)], config,
                    folder=folder, interrupted=True)
    assert verdict.broken == "env" and verdict.interrupted
    assert json.loads(folder.results_path.read_text())["complete"] is False
    only_model = judge(manifest, [episode(0, EpisodeStatus.MODEL_ERROR)], config, folder=folder)
    assert only_model.broken == "model"


def test_a_bad_threshold_names_where_it_came_from(tmp_path: Path) -> None:
    manifest = load_manifest(write_counter_repo(tmp_path / "repo"))
    config = build_config({"thresholds": ["score>=1"]})
    with pytest.raises(ThresholdError, match=r"^threshold option: threshold 'score>=1' names"):
        judge(manifest, [episode(0)], config, folder=RunFolder.create(tmp_path / "runs"))
