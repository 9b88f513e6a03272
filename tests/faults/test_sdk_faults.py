"""Hostile requests to an adapter served by our SDK: each is a 4xx with a message, and
the server stays up for the next request."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx
from faults_support import counter_repo

from pytest_mesocosm.adapter.process import AdapterProcess

WORDLE = Path(__file__).resolve().parents[2] / "examples" / "wordle" / "adapter.py"


def post(url: str, path: str, body: bytes | dict) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx.post(url + path, content=content, timeout=30,
                      headers={"content-type": "application/json"})


def test_deeply_nested_body_is_a_400_and_the_server_stays_up(
    tmp_path: Path, start_adapter: Callable[[Path], str]
) -> None:
    url = start_adapter(counter_repo(tmp_path / "counter") / "adapter.py")
    depth = 100_000
    nested = b'{"episode_id": "e1", "action": ' + b"[" * depth + b"]" * depth + b"}"
    answer = post(url, "/step", nested)
    assert answer.status_code == 400
    assert "nests JSON arrays/objects too deeply" in answer.json()["detail"]
    assert httpx.get(url + "/health", timeout=10).status_code == 200


def test_unknown_scenario_params_are_a_400_naming_them(tmp_path: Path) -> None:
    repo = counter_repo(tmp_path / "counter")
    env = (repo / "env.py").read_text()
    (repo / "env.py").write_text(env.replace("def reset(self, seed=None, **params):",
                                             "def reset(self, seed=None, size=3):"))
    with AdapterProcess(repo / "adapter.py", log_path=tmp_path / "a.log") as proc:
        answer = post(proc.url, "/reset", {"episode_id": "e1", "seed": 1,
                                           "scenario_params": {"colour": "red", "size": 4}})
        assert answer.status_code == 400
        assert answer.json()["detail"] == (
            "scenario_params 'colour' are not parameters of Env.reset(); drop them or add them"
        )
        ok = post(proc.url, "/reset", {"episode_id": "e1", "scenario_params": {"size": 4}})
        assert ok.status_code == 200


def test_wordle_does_not_echo_a_huge_action(
    tmp_path: Path, start_adapter: Callable[[Path], str]
) -> None:
    url = start_adapter(WORDLE)
    assert post(url, "/reset", {"episode_id": "e1", "seed": 0}).status_code == 200
    for action in ("x" * 4_000_000, ["crane"] * 200_000):
        answer = post(url, "/step", {"episode_id": "e1", "action": action})
        assert answer.status_code == 422
        assert len(answer.content) < 300, answer.content[:300]
