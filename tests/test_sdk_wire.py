"""The adapter wire contract, route by route, against real adapter processes.

The Wordle example is the main subject; a "lab" env written into tmp_path (served by
our SDK as a real process too) covers what a well-behaved game never does: NaN
rewards, crashes, bytes, blocking steps, idle reaping and shutdown.
"""

from __future__ import annotations

import os
import runpy
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from pytest_mesocosm.sdk import BaseEnv, StepResult, create_app

ROOT = Path(__file__).resolve().parent.parent
WORDLE = ROOT / "examples" / "wordle"
NUMBERLINE = ROOT / "examples" / "numberline"
HOSTED = ROOT / "tests" / "fakes" / "hosted_adapter.py"

StartAdapter = Callable[[Path], str]

LAB_ENV = '''
from __future__ import annotations

import os
import time
from typing import Any

from pytest_mesocosm.sdk import BaseEnv, InvalidAction, StepResult


class LabEnv(BaseEnv):
    """Does on each step what the action asks, so tests can misbehave on purpose."""

    def reset(self, seed=None, **params):
        self.seed, self.params, self.steps, self.busy = seed, params, 0, False
        return params.get("returns", {"pid": os.getpid(), "seed": seed})

    def step(self, action: dict[str, Any]) -> StepResult:
        if self.busy:
            raise RuntimeError("two steps overlapped on one episode")
        self.busy = True
        try:
            time.sleep(action.get("sleep", 0))
            self.steps += 1
            kind = action.get("kind")
            if kind == "crash":
                return 1 / 0
            if kind == "invalid":
                raise InvalidAction(action["message"])
            if kind == "not-a-step-result":
                return {"observation": 1}
            observation = {"bytes": b"\\x00\\xffhi", "nested-bytes": {"png": b"\\x89PNG"},
                           "set": {1, 2}, "nan": float("nan"), "text": "plain words"}.get(
                               action.get("observation"), {"steps": self.steps})
            reward = action.get("reward", 0.0)
            if action.get("float"):
                reward = float(reward)
            return StepResult(observation=observation, reward=reward,
                              info={1: "int key", "steps": self.steps},
                              content_type=action.get("content_type"))
        finally:
            self.busy = False

    def close(self):
        if "close_log" in getattr(self, "params", {}):
            with open(self.params["close_log"], "a") as log:
                log.write(f"closed seed={self.seed}\\n")
        if getattr(self, "params", {}).get("close_raises"):
            raise OSError("disk on fire")


class BlockingLabEnv(LabEnv):
    blocking = True
'''

ADAPTER = '''
import argparse

from lab_env import {cls}

from pytest_mesocosm.sdk import serve

parser = argparse.ArgumentParser()
parser.add_argument("--host", default="127.0.0.1")
parser.add_argument("--port", type=int)
args = parser.parse_args()
serve({cls}, host=args.host, port=args.port, log_level="warning"{extra})
'''


def write_lab(folder: Path, name: str, cls: str = "LabEnv", extra: str = "") -> Path:
    (folder / "lab_env.py").write_text(LAB_ENV)
    adapter = folder / name
    adapter.write_text(ADAPTER.format(cls=cls, extra=extra))
    return adapter


def spawn(adapter: Path, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """``python adapter.py --port N`` for a module-wide server (``start_adapter`` is per test)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, adapter.name, "--port", str(port), "--host",
                                 "127.0.0.1"], cwd=adapter.parent, stdout=out, stderr=out)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while proc.poll() is None and time.monotonic() < deadline:
        try:
            httpx.get(url + "/health")
            return proc, url
        except httpx.TransportError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"{adapter} did not come up: {log.read_text()}")


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """One Wordle and one lab server shared by the tests that only open their own episodes."""
    folder = tmp_path_factory.mktemp("servers")
    procs: dict[str, subprocess.Popen[bytes]] = {}
    urls: dict[str, str] = {}
    try:
        for name, adapter in (("wordle", WORDLE / "adapter.py"),
                              ("lab", write_lab(folder, "adapter.py"))):
            procs[name], urls[name] = spawn(adapter, folder / f"{name}.log")
        yield urls
    finally:
        for proc in procs.values():
            proc.terminate()
            proc.wait(10)


@pytest.fixture
def wordle(servers: dict[str, str]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=servers["wordle"], timeout=10) as client:
        yield client


@pytest.fixture
def lab(servers: dict[str, str]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=servers["lab"], timeout=10) as client:
        yield client


def live(client: httpx.Client) -> int:
    return int(client.get("/health").json()["episodes"])


def reset(client: httpx.Client, episode_id: str, seed: int | None = 0, **params: Any) -> Any:
    response = client.post("/reset", json={"episode_id": episode_id, "seed": seed,
                                           "scenario_params": params})
    assert response.status_code == 200, response.text
    return response.json()


def step(client: httpx.Client, episode_id: str, action: Any) -> httpx.Response:
    return client.post("/step", json={"episode_id": episode_id, "action": action})


# -- health, reset, step, render, close on the Wordle example ------------------------------

def test_health_counts_live_episodes(start_adapter: StartAdapter) -> None:
    with httpx.Client(base_url=start_adapter(WORDLE / "adapter.py")) as client:
        assert client.get("/health").json() == {"status": "ok", "env": "WordleEnv",
                                                "episodes": 0}
        reset(client, "a")
        reset(client, "b")
        assert live(client) == 2
        client.post("/close", json={"episode_id": "a"})
        assert live(client) == 1


def test_reset_answers_data_content_type_and_system_prompt(wordle: httpx.Client) -> None:
    body = reset(wordle, "e1", seed=7)
    assert set(body) == {"data", "content_type", "system_prompt"}
    assert body["data"] == {"last_guess": None, "feedback": None, "guesses_remaining": 6,
                            "history": []}
    assert body["content_type"] == "application/json"
    assert "5-letter" in body["system_prompt"] and "G " in body["system_prompt"]


def test_reset_plain_observation_is_the_data(start_adapter: StartAdapter) -> None:
    with httpx.Client(base_url=start_adapter(NUMBERLINE / "adapter.py")) as client:
        body = reset(client, "n1", seed=3)
    assert body["content_type"] == "application/json" and body["system_prompt"] is None
    assert body["data"]["high"] - body["data"]["low"] == 100
    assert body["data"]["guesses_remaining"] == 5


@pytest.mark.parametrize(("returns", "expected"), [
    ({"data": "# hi", "content_type": "text/markdown", "system_prompt": "Be brief."},
     {"data": "# hi", "content_type": "text/markdown", "system_prompt": "Be brief."}),
    ({"data": [1, 2]}, {"data": [1, 2], "content_type": "application/json", "system_prompt": None}),
    ({"data": 1, "score": 2},  # not only envelope keys: the whole dict is the observation
     {"data": {"data": 1, "score": 2}, "content_type": "application/json", "system_prompt": None}),
    ("plain text", {"data": "plain text", "content_type": "text/plain", "system_prompt": None}),
])
def test_reset_envelope_rule(lab: httpx.Client, returns: Any, expected: dict[str, Any]) -> None:
    assert reset(lab, "env", returns=returns) == expected


@pytest.mark.parametrize(("adapter", "action"), [(WORDLE / "adapter.py", "crane"),
                                                 (HOSTED, 30)], ids=["our-sdk", "hosted-style"])
def test_our_sdk_and_a_hosted_style_adapter_look_the_same_on_the_wire(
    start_adapter: StartAdapter, adapter: Path, action: Any
) -> None:
    with httpx.Client(base_url=start_adapter(adapter)) as client:
        assert set(client.get("/health").json()) == {"status", "env", "episodes"}
        assert set(reset(client, "e", seed=1)) == {"data", "content_type", "system_prompt"}
        body = step(client, "e", action).json()
        assert set(body) == {"observation", "reward", "terminated", "truncated", "info",
                             "system_prompt"}
        assert set(body["observation"]) == {"data", "content_type"}
        assert isinstance(body["reward"], float) and body["info"]["won"] in ("0.0", "1.0")
        assert step(client, "unknown", action).status_code == 404
        for _ in range(2):
            response = client.post("/close", json={"episode_id": "e"})
            assert (response.status_code, response.json()) == (200, {})


def test_step_answers_the_contract_shape(wordle: httpx.Client) -> None:
    reset(wordle, "e1", seed=7)
    response = step(wordle, "e1", "  CRANE ")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"observation", "reward", "terminated", "truncated", "info",
                         "system_prompt"}
    assert body["observation"]["content_type"] == "application/json"
    data = body["observation"]["data"]
    assert data["last_guess"] == "crane" and data["guesses_remaining"] == 5
    assert len(data["feedback"]) == 5 and set(data["feedback"]) <= set("GY.")
    assert data["history"] == [{"guess": "crane", "feedback": data["feedback"]}]
    assert body["reward"] == 0.0 and body["terminated"] is False and body["truncated"] is False
    assert body["info"] == {"won": "0.0", "guesses_used": 1}
    assert body["system_prompt"] is None


def test_a_whole_game_ends_terminated_with_the_win_in_info(wordle: httpx.Client) -> None:
    policy = runpy.run_path(str(WORDLE / "solver.py"))["policy"]
    observation = reset(wordle, "g", seed=11)["data"]
    for _ in range(6):
        body = step(wordle, "g", policy(observation, None)).json()
        observation = body["observation"]["data"]
        if body["terminated"]:
            break
    assert body["terminated"] and body["reward"] == 1.0
    assert body["info"]["won"] == "1.0" and body["info"]["answer"] == observation["last_guess"]


def test_same_seed_same_game_and_seeds_differ(wordle: httpx.Client) -> None:
    def feedback(episode_id: str, seed: int) -> str:
        reset(wordle, episode_id, seed=seed)
        return str(step(wordle, episode_id, "trace").json()["observation"]["data"]["feedback"])

    assert feedback("a", 5) == feedback("b", 5)
    assert len({feedback(f"s{seed}", seed) for seed in range(8)}) > 1


@pytest.mark.parametrize(("action", "detail"), [
    ("xyzzy", "'xyzzy' is not in the word list; guess a common English word"),
    ("cat", "'cat' is not a 5-letter word; reply with one word, letters a-z"),
    ("cr4ne", "'cr4ne' is not a 5-letter word; reply with one word, letters a-z"),
    (12345, "a guess is a word (a string), got int 12345"),
    (None, "a guess is a word (a string), got NoneType None"),
])
def test_invalid_guess_is_422_and_changes_nothing(wordle: httpx.Client, action: Any,
                                                  detail: str) -> None:
    reset(wordle, "e1")
    response = step(wordle, "e1", action)
    assert (response.status_code, response.json()) == (422, {"detail": detail})
    assert step(wordle, "e1", "crane").json()["observation"]["data"]["guesses_remaining"] == 5


def test_invalid_action_from_parse_action_is_422(start_adapter: StartAdapter) -> None:
    with httpx.Client(base_url=start_adapter(NUMBERLINE / "adapter.py")) as client:
        low = reset(client, "n", seed=1)["data"]["low"]
        response = step(client, "n", "a lot")
        assert response.status_code == 422
        assert response.json()["detail"].startswith("'a lot' is not a whole number")
        assert step(client, "n", str(low)).status_code == 200


def test_unknown_episode_is_404_on_step_and_render(wordle: httpx.Client) -> None:
    for route, body in (("/step", {"episode_id": "nope", "action": "crane"}),
                        ("/render", {"episode_id": "nope"})):
        response = wordle.post(route, json=body)
        assert response.status_code == 404
        assert response.json()["detail"].startswith("unknown episode_id 'nope'; call /reset first")


def test_close_is_idempotent_and_ends_the_episode(wordle: httpx.Client) -> None:
    reset(wordle, "c")
    for _ in range(2):
        response = wordle.post("/close", json={"episode_id": "c"})
        assert (response.status_code, response.json()) == (200, {})
    assert wordle.post("/close", json={"episode_id": "never-seen"}).json() == {}
    assert step(wordle, "c", "crane").status_code == 404


def test_reset_again_starts_over_on_the_same_episode(wordle: httpx.Client) -> None:
    reset(wordle, "r")
    before = live(wordle)
    step(wordle, "r", "crane")
    assert reset(wordle, "r")["data"]["guesses_remaining"] == 6
    assert step(wordle, "r", "crane").json()["observation"]["data"]["guesses_remaining"] == 5
    assert live(wordle) == before


def test_render_text_and_unsupported_mode(wordle: httpx.Client) -> None:
    reset(wordle, "v", seed=2)
    step(wordle, "v", "crane")
    body = wordle.post("/render", json={"episode_id": "v", "mode": "text"}).json()
    assert body["content_type"] == "text/plain"
    assert body["data"].startswith("CRANE  ") and body["data"].endswith("5 guesses remaining")
    response = wordle.post("/render", json={"episode_id": "v", "mode": "svg"})
    assert (response.status_code, response.json()) == (
        501, {"detail": "WordleEnv renders mode 'text' only, not 'svg'"})


def test_failed_reset_is_500_and_leaves_no_episode(wordle: httpx.Client) -> None:
    before = live(wordle)
    response = wordle.post("/reset", json={"episode_id": "f", "scenario_params": {"colour": 1}})
    assert (response.status_code, response.json()) == (500, {
        "detail": "ValueError: unknown scenario_params ['colour']; only max_guesses is known"})
    assert live(wordle) == before
    assert step(wordle, "f", "crane").status_code == 404


HUGE = 9 * 1024 * 1024


def chunks() -> Iterator[bytes]:
    for _ in range(HUGE // 65536):
        yield b"x" * 65536


@pytest.mark.parametrize(("route", "content", "status", "detail"), [
    ("/step", b"", 400, 'request body is empty; send a JSON object like {"episode_id": "e1"}'),
    ("/step", b"episode_id=e1", 400,
     "request body is not valid JSON (Expecting value: line 1 column 1 (char 0))"),
    ("/reset", b'{"episode_id": "\xc3("}', 400, "request body is not valid JSON "
     "('utf-8' codec can't decode byte 0xc3 in position 16: invalid continuation byte)"),
    ("/step", b'["e1", "crane"]', 400, "request body must be a JSON object, got an array"),
    ("/step", b'{"action": "crane"}', 400, 'request body has no "episode_id"; add it (a string)'),
    ("/reset", b'{"episode_id": 7}', 400, "episode_id must be a string, got a number 7"),
    ("/close", b'{"episode_id": null}', 400, "episode_id must be a string, got null None"),
    ("/reset", b'{"episode_id": "e", "seed": "abc"}', 400,
     "seed must be an integer or null, got a string 'abc'"),
    ("/reset", b'{"episode_id": "e", "seed": true}', 400,
     "seed must be an integer or null, got a boolean True"),
    ("/reset", b'{"episode_id": "e", "scenario_params": [1]}', 400,
     "scenario_params must be an object, got an array"),
    ("/reset", b'{"episode_id": "e", "scenario_params": {"seed": 1}}', 400,
     'scenario_params may not contain "seed"; send it as the top-level "seed" field'),
    ("/render", b'{"episode_id": "e", "mode": 1}', 400,
     'mode must be a string such as "text", got a number'),
    ("/step", lambda: b"x" * HUGE, 413,
     f"request body is {HUGE} bytes, over the 8388608-byte limit; send smaller actions"),
    ("/step", chunks, 413, "request body is over the 8388608-byte limit; send smaller actions"),
], ids=["empty", "form", "bad-utf8", "array", "no-id", "int-id", "null-id", "str-seed",
        "bool-seed", "list-params", "seed-in-params", "int-mode", "huge", "huge-chunked"])
def test_bad_bodies_are_clear_4xx_and_the_server_lives_on(
    wordle: httpx.Client, route: str, content: Any, status: int, detail: str
) -> None:
    response = wordle.post(route, content=content() if callable(content) else content)
    assert (response.status_code, response.json()) == (status, {"detail": detail})
    assert wordle.get("/health").status_code == 200
    reset(wordle, "after")
    assert step(wordle, "after", "crane").status_code == 200


def test_wrong_method_is_405_and_other_paths_are_plain_fastapi(wordle: httpx.Client) -> None:
    response = wordle.get("/step")
    assert (response.status_code, response.json()) == (405, {"detail": "/step takes POST only"})
    assert response.headers["allow"] == "POST"
    assert wordle.post("/health").status_code == 405
    assert wordle.get("/openapi.json").json()["info"]["title"] == "WordleEnv"
    assert wordle.get("/nope").status_code == 404


def test_seed_may_come_as_an_integral_string_or_float(wordle: httpx.Client) -> None:
    def feedback(seed: Any) -> Any:
        reset(wordle, "s", seed=seed)
        return step(wordle, "s", "trace").json()["observation"]["data"]["feedback"]

    assert feedback("12") == feedback(12.0) == feedback(12)


def test_concurrent_episodes_are_isolated(wordle: httpx.Client) -> None:
    """16 games at once over HTTP play exactly as the same seeds do in-process."""
    solver = runpy.run_path(str(WORDLE / "solver.py"))
    env_module = runpy.run_path(str(WORDLE / "env.py"))

    def play(step_fn: Callable[[Any], dict[str, Any]], first: Any) -> list[str]:
        observation, guesses = first, []
        for _ in range(6):
            guess = solver["policy"](observation, None)
            guesses.append(guess)
            body = step_fn(guess)
            observation = body["observation"]
            if body["terminated"]:
                break
        return guesses

    def local(seed: int) -> list[str]:
        env = env_module["WordleEnv"]()
        first = env.reset(seed)["data"]

        def step_fn(guess: str) -> dict[str, Any]:
            result = env.step(guess)
            return {"observation": result.observation, "terminated": result.terminated}
        return play(step_fn, first)

    results: dict[int, list[str]] = {}
    barrier = threading.Barrier(16)

    def remote(seed: int) -> None:
        episode_id = f"ep-{seed}"
        first = reset(wordle, episode_id, seed=seed)["data"]
        barrier.wait()

        def step_fn(guess: str) -> dict[str, Any]:
            body = step(wordle, episode_id, guess).json()
            return {"observation": body["observation"]["data"], "terminated": body["terminated"]}
        results[seed] = play(step_fn, first)

    threads = [threading.Thread(target=remote, args=(seed,)) for seed in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == {seed: local(seed) for seed in range(16)}
    assert len({tuple(guesses) for guesses in results.values()}) > 1


# -- what only a misbehaving env shows: the lab env --------------------------------------

@pytest.mark.parametrize(("reward", "as_float", "detail"), [
    ("nan", True, "reward at step 3 is nan; rewards must be finite floats"),
    ("-inf", True, "reward at step 3 is -inf; rewards must be finite floats"),
    ("0.5", False, "reward at step 3 is '0.5' (str); rewards must be finite floats"),
    (None, False, "reward at step 3 is None (NoneType); rewards must be finite floats"),
])
def test_bad_reward_is_500_naming_the_step(lab: httpx.Client, reward: Any, as_float: bool,
                                           detail: str) -> None:
    reset(lab, "r")
    assert step(lab, "r", {}).status_code == 200
    assert step(lab, "r", {"kind": "invalid", "message": "no"}).status_code == 422
    assert step(lab, "r", {}).status_code == 200
    response = step(lab, "r", {"reward": reward, "float": as_float})
    assert (response.status_code, response.json()) == (500, {"detail": detail})


@pytest.mark.parametrize(("action", "status", "detail"), [
    ({"kind": "crash"}, 500, "ZeroDivisionError: division by zero"),
    ({"kind": "invalid", "message": "pick a card"}, 422, "pick a card"),
    ({"kind": "not-a-step-result"}, 500, "step() must return a StepResult, got dict at step 1"),
    ({"observation": "set"}, 500, "step 1: observation is not JSON-able (set {1, 2} is not JSON "
     "serialisable); use dicts, lists, str, finite numbers, bools, None or bytes"),
    ({"observation": "nan"}, 500, "step 1: observation is not JSON-able (Out of range float "
     "values are not JSON compliant); use dicts, lists, str, finite numbers, bools, None or "
     "bytes"),
])
def test_env_errors_map_to_status_and_detail(lab: httpx.Client, action: dict[str, Any],
                                             status: int, detail: str) -> None:
    reset(lab, "x")
    before = live(lab)
    response = step(lab, "x", action)
    assert (response.status_code, response.json()) == (status, {"detail": detail})
    assert live(lab) == before


def test_observation_encoding(lab: httpx.Client) -> None:
    reset(lab, "o")

    def observed(**action: Any) -> dict[str, Any]:
        body = step(lab, "o", action).json()
        assert body["info"] == {"1": "int key", "steps": body["info"]["steps"]}
        return dict(body["observation"])

    assert observed(observation="bytes") == {"data": "AP9oaQ==",
                                             "content_type": "application/octet-stream"}
    assert observed(observation="bytes", content_type="image/png")["content_type"] == "image/png"
    assert observed(observation="nested-bytes")["data"] == {"png": "iVBORw=="}
    assert observed(observation="text") == {"data": "plain words", "content_type": "text/plain"}


def test_close_that_raises_is_500_and_the_episode_is_gone(lab: httpx.Client) -> None:
    reset(lab, "c", close_raises=True)
    before = live(lab)
    response = lab.post("/close", json={"episode_id": "c"})
    assert (response.status_code, response.json()) == (500, {"detail": "OSError: disk on fire"})
    assert live(lab) == before - 1


def test_shutdown_closes_every_live_episode(start_adapter: StartAdapter, tmp_path: Path) -> None:
    log = tmp_path / "closed.txt"
    with httpx.Client(base_url=start_adapter(write_lab(tmp_path, "adapter.py"))) as lab:
        pid = reset(lab, "a", seed=1, close_log=str(log))["data"]["pid"]
        reset(lab, "b", seed=2, close_log=str(log))
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while not (log.exists() and len(log.read_text().splitlines()) == 2):
        assert time.monotonic() < deadline, "episodes were not closed on shutdown"
        time.sleep(0.05)
    assert sorted(log.read_text().splitlines()) == ["closed seed=1", "closed seed=2"]


def test_idle_episodes_are_reaped(start_adapter: StartAdapter, tmp_path: Path) -> None:
    log = tmp_path / "closed.txt"
    url = start_adapter(write_lab(tmp_path, "reaping.py", extra=", idle_timeout=0.4"))
    with httpx.Client(base_url=url) as client:
        reset(client, "idle", seed=1, close_log=str(log))
        reset(client, "busy", seed=2, close_log=str(log))
        deadline = time.monotonic() + 1.2
        while time.monotonic() < deadline:  # keep one episode in use
            assert step(client, "busy", {}).status_code == 200
            time.sleep(0.1)
        assert step(client, "idle", {}).status_code == 404
        assert live(client) == 1
    assert log.read_text() == "closed seed=1\n"


def test_blocking_env_serialises_one_episode_and_overlaps_many(
    start_adapter: StartAdapter, tmp_path: Path
) -> None:
    url = start_adapter(write_lab(tmp_path, "blocking.py", cls="BlockingLabEnv"))

    def timed(episode_ids: list[str]) -> tuple[float, list[int]]:
        statuses: list[int] = []

        def one(episode_id: str) -> None:
            with httpx.Client(base_url=url, timeout=10) as client:
                statuses.append(step(client, episode_id, {"sleep": 0.3}).status_code)

        threads = [threading.Thread(target=one, args=(eid,)) for eid in episode_ids]
        start = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return time.perf_counter() - start, statuses

    with httpx.Client(base_url=url) as client:
        for episode_id in ("a", "b", "c", "d"):
            reset(client, episode_id)
        assert client.get("/health").status_code == 200  # the loop is free while steps sleep
    same, statuses = timed(["a", "a"])
    assert statuses == [200, 200] and same >= 0.55  # no "steps overlapped" error: serialised
    many, statuses = timed(["a", "b", "c", "d"])
    assert statuses == [200] * 4 and many < 1.0  # 4 x 0.3 s in threads, not one after another


# -- create_app refuses what cannot be served ---------------------------------------------

class NoStep(BaseEnv):
    def reset(self, seed: int | None = None, **params: Any) -> Any:
        return None


class NeedsArgs(BaseEnv):
    def __init__(self, level: int) -> None:
        self.level = level

    def reset(self, seed: int | None = None, **params: Any) -> Any:
        return None

    def step(self, action: Any) -> StepResult:
        return StepResult(None)


@pytest.mark.parametrize(("env_class", "message"), [
    (42, "serve() needs a BaseEnv subclass, got 42; pass the class itself"),
    (dict, "serve() needs a BaseEnv subclass, got <class 'dict'>; pass the class itself, "
           "e.g. serve(WordleEnv)"),
    (NoStep, "NoStep does not implement step; define them (see BaseEnv)"),
    (NeedsArgs, "NeedsArgs() must be callable with no arguments, since the server builds one "
                "per episode (missing a required argument: 'level'); give __init__'s "
                "parameters defaults"),
])
def test_create_app_refuses_env_classes_it_cannot_serve(env_class: Any, message: str) -> None:
    with pytest.raises(TypeError) as caught:
        create_app(env_class)
    assert str(caught.value).startswith(message)


def test_importing_the_sdk_leaves_fastapi_out() -> None:
    """``from pytest_mesocosm.sdk import BaseEnv`` must stay cheap for the pytest plugin."""
    code = textwrap.dedent("""
        import sys
        from pytest_mesocosm.sdk import BaseEnv, InvalidAction, StepResult
        assert "fastapi" not in sys.modules and "uvicorn" not in sys.modules
        from pytest_mesocosm.sdk import serve
        assert "fastapi" in sys.modules
    """)
    subprocess.run([sys.executable, "-c", code], check=True)
