"""AdapterClient against a hosted-style FastAPI adapter run as a real process."""

from __future__ import annotations

import asyncio
import math
import socket
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from pytest_mesocosm.adapter import (
    AdapterClient,
    AdapterProcess,
    Observation,
    StepResponse,
    parse_observation,
    parse_step,
)
from pytest_mesocosm.errors import (
    ActionRejected,
    AdapterError,
    AdapterUnreachable,
    EnvError,
    EpisodeNotFound,
)

HOSTED = Path(__file__).resolve().parent / "fakes" / "hosted_adapter.py"
T = TypeVar("T")


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("adapter") / "hosted.log"
    with AdapterProcess(HOSTED, log_path=log) as proc:
        yield proc.url


def run(url: str, body: Callable[[AdapterClient], Awaitable[T]], **options: Any) -> T:
    """Run ``body(client)`` in a fresh loop with a client that is closed afterwards."""

    async def main() -> T:
        async with AdapterClient(url, **options) as client:
            return await body(client)

    return asyncio.run(main())


async def play(client: AdapterClient, episode_id: str, seed: int) -> list[StepResponse]:
    """Binary-search the secret; returns every StepResponse."""
    first = await client.reset(episode_id, seed)
    low, high = first.data["low"], first.data["high"]
    answers = []
    while True:
        guess = (low + high) // 2
        answer = await client.step(episode_id, guess)
        answers.append(answer)
        if answer.terminated:
            return answers
        if answer.observation.data["hint"] == "higher":
            low = guess + 1
        else:
            high = guess - 1


def test_health(url: str) -> None:
    assert run(url, lambda c: c.health()) == {"status": "ok", "env": "GuessEnv", "episodes": 0}


def test_reset_step_close_a_whole_episode(url: str) -> None:
    async def body(client: AdapterClient) -> None:
        first = await client.reset("e1", 7)
        again = await client.reset("e1-bis", 7)
        assert first == again
        assert first.content_type == "application/json" and first.system_prompt is None
        await client.close("e1-bis")
        answers = await play(client, "e1", 7)
        last = answers[-1]
        assert last.reward == 1.0 and last.terminated and not last.truncated
        assert last.info == {"won": "1.0", "steps": len(answers)}
        assert all(a.reward == 0.0 and not a.terminated for a in answers[:-1])
        assert (await client.health())["episodes"] == 1
        await client.close("e1")
        await client.close("e1")  # twice is fine
        await client.close("never-existed")
        assert (await client.health())["episodes"] == 0
        with pytest.raises(EpisodeNotFound, match=r"answered 404 to POST /step: unknown episode"):
            await client.step("e1", 3)

    run(url, body)


def test_system_prompt_and_render(url: str) -> None:
    async def body(client: AdapterClient) -> None:
        obs = await client.reset("sp", 1, {"system_prompt": "You guess numbers."})
        assert obs.system_prompt == "You guess numbers."
        answer = await client.step("sp", 0)
        assert answer.system_prompt == "You guess numbers."
        view = await client.render("sp")
        assert view.content_type == "text/plain" and view.data.endswith("1 used")
        await client.close("sp")
        with pytest.raises(EpisodeNotFound):
            await client.render("sp")

    run(url, body)


def test_loose_bodies_are_read_like_the_hosted_client(url: str) -> None:
    async def body(client: AdapterClient) -> list[StepResponse]:
        strict = await client.reset("strict", 3)
        loose = await client.reset("loose", 3, {"loose": True})
        assert loose == Observation(strict.data)  # a reset body without "data" is the obs
        answers = await play(client, "loose", 3)
        await client.close("loose")
        await client.close("strict")
        return answers

    answers = run(url, body)
    assert answers[-1].terminated is True and answers[-1].truncated is False  # "1" and "0"
    assert answers[0].terminated is False or len(answers) == 1  # "false"
    assert answers[-1].reward == 1.0  # "1.0"
    assert isinstance(answers[-1].observation.data, dict)  # a bare observation value


def test_invalid_action_is_action_rejected_with_the_env_message(url: str) -> None:
    async def body(client: AdapterClient) -> None:
        await client.reset("bad", 0)
        try:
            await client.step("bad", "twelve")
        finally:
            await client.close("bad")

    with pytest.raises(ActionRejected) as info:
        run(url, body)
    assert info.value.status == 422
    assert str(info.value.detail).startswith("action must be an integer in [")
    assert str(info.value).endswith("got 'twelve'")


def test_env_exception_is_env_error_with_status_and_detail(url: str) -> None:
    async def body(client: AdapterClient) -> None:
        await client.reset("crash", 0, {"crash_on_step": 1})
        try:
            await client.step("crash", 1)
        finally:
            await client.close("crash")

    with pytest.raises(EnvError) as info:
        run(url, body)
    assert type(info.value) is EnvError
    assert info.value.status == 500
    assert info.value.detail == "ZeroDivisionError: division by zero"
    assert "answered 500 to POST /step" in str(info.value)
    assert "see the adapter's log" in str(info.value)


def test_slow_step_over_the_timeout_is_unreachable(url: str) -> None:
    async def body(client: AdapterClient) -> None:
        await client.reset("slow", 0, {"sleep": 1.0})
        try:
            await client.step("slow", 1)
        finally:
            await client.close("slow")

    with pytest.raises(AdapterUnreachable, match=r"did not answer POST /step within 0\.3 s; is"):
        run(url, body, timeout=0.3)


def test_many_concurrent_episodes_share_a_small_pool(url: str) -> None:
    async def body(client: AdapterClient) -> list[int]:
        async def one(i: int) -> int:
            try:
                return len(await play(client, f"many-{i}", i))
            finally:
                await client.close(f"many-{i}")

        return await asyncio.gather(*(one(i) for i in range(40)))

    lengths = run(url, body, max_connections=4)
    assert len(lengths) == 40 and all(1 <= n <= 7 for n in lengths)


def test_client_can_be_reused_in_a_new_loop_after_aclose(url: str) -> None:
    client = AdapterClient(url)
    for _ in range(2):
        async def once() -> dict[str, Any]:
            try:
                return await client.health()
            finally:
                await client.aclose()

        assert asyncio.run(once())["status"] == "ok"


def test_unreachable_url_names_it_and_how_to_start_the_adapter() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    with pytest.raises(AdapterUnreachable) as info:
        run(url, lambda c: c.reset("e", 0))
    message = str(info.value)
    assert message.startswith(f"cannot reach the adapter at {url} (POST /reset: ")
    assert message.endswith(
        f"is the adapter running? start it with `python adapter.py --port {port}`"
    )


def test_adapter_that_dies_mid_episode_is_unreachable(tmp_path: Path) -> None:
    async def body(client: AdapterClient) -> None:
        await client.reset("doomed", 0, {"die_on_step": 2})
        await client.step("doomed", 0)
        await client.step("doomed", 1)

    with AdapterProcess(HOSTED, log_path=tmp_path / "doomed.log") as proc:
        with pytest.raises(AdapterUnreachable, match=r"POST /step: .*is the adapter running"):
            run(proc.url, body)
        deadline = time.monotonic() + 5
        while proc.running and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not proc.running


@pytest.mark.parametrize("url", ["127.0.0.1:8765", "ftp://host/", "http://"])
def test_bad_base_url_is_refused_at_once(url: str) -> None:
    with pytest.raises(AdapterError, match=r"is not an http URL; pass e\.g\. http://127\.0\.0\.1"):
        AdapterClient(url)


def test_an_action_that_is_not_json_is_refused_before_sending(url: str) -> None:
    with pytest.raises(AdapterError, match=r"cannot send POST /step: the body is not JSON"):
        run(url, lambda c: c.step("e", float("nan")))


GOOD_STEP = {"observation": {"data": 1, "content_type": "text/plain"}, "reward": 0.5,
             "terminated": False, "truncated": False, "info": {"k": 1}}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"reward": float("nan")}, "POST /step answered 200 but 'reward' is not finite"),
        ({"reward": "inf"}, "POST /step answered 200 but 'reward' is not finite"),
        ({"reward": "lots"}, "POST /step answered 200 but 'reward' is not a number: 'lots'"),
        ({"reward": None}, "POST /step answered 200 but 'reward' must be a number: None"),
        ({"terminated": "maybe"}, "POST /step answered 200 but 'terminated' must be a boolean"),
        ({"truncated": 2}, "POST /step answered 200 but 'truncated' must be a boolean: 2"),
        ({"info": [1]}, "POST /step answered 200 but 'info' must be a JSON object: [1]"),
        ({"system_prompt": 3}, "POST /step answered 200 but 'system_prompt' must be a string"),
    ],
)
def test_step_body_errors_say_what_is_wrong(change: dict[str, Any], message: str) -> None:
    with pytest.raises(EnvError) as info:
        parse_step({**GOOD_STEP, **change})
    assert str(info.value).startswith(message)
    assert info.value.status == 200


def test_step_body_missing_keys_and_non_objects() -> None:
    with pytest.raises(EnvError, match=r"lacks reward, terminated \(expected \{observation,"):
        parse_step({"observation": 1, "truncated": False})
    with pytest.raises(EnvError, match=r"the body is not a JSON object \{observation, reward"):
        parse_step([1, 2])


@pytest.mark.parametrize(
    ("flags", "expected"),
    [((True, "false"), (True, False)), (("TRUE", "0"), (True, False)), ((1, 0), (True, False)),
     (("1", " true "), (True, True))],
)
def test_step_flags_accept_lenient_spellings(
    flags: tuple[Any, Any], expected: tuple[bool, bool]
) -> None:
    answer = parse_step({**GOOD_STEP, "terminated": flags[0], "truncated": flags[1]})
    assert (answer.terminated, answer.truncated) == expected


def test_step_reward_and_observation_leniency() -> None:
    answer = parse_step({**GOOD_STEP, "reward": " 0.25", "observation": [1, 2], "info": None})
    assert answer.reward == 0.25 and answer.info == {}
    assert answer.observation == Observation([1, 2])
    answer = parse_step(GOOD_STEP)
    assert answer.observation == Observation(1, "text/plain")
    assert math.isclose(answer.reward, 0.5)


def test_reset_body_shapes() -> None:
    assert parse_observation({"data": "x", "content_type": None}) == Observation("x")
    assert parse_observation({"board": "x"}) == Observation({"board": "x"})
    assert parse_observation("plain") == Observation("plain")
    with pytest.raises(EnvError, match=r"POST /reset answered 200 but 'content_type' must be"):
        parse_observation({"data": "x", "content_type": 5})
