"""The conformance checker against real adapters: a good one and deliberately broken ones."""

from __future__ import annotations

import asyncio
import json
import runpy
import socket
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from pytest_mesocosm.adapter import AdapterClient, AdapterProcess
from pytest_mesocosm.adapter.conformance import Finding, acheck_adapter, check_adapter, probe_action

FAKES = Path(__file__).resolve().parent / "fakes"
EXAMPLES = sorted(Path(__file__).resolve().parent.parent.glob("examples/*/benchanything.json"))
ADAPTERS = {"good": FAKES / "hosted_adapter.py"} | {
    path.stem: path for path in sorted((FAKES / "broken_envs").glob("*.py"))
}
VOW: dict[str, Any] = {
    "version": "1.0.0",
    "action_space": {"type": "discrete", "enum_values": [25, 30]},
    "reward": {"type": "binary", "range": {"low": 0.0, "high": 1.0}},
    "episode": {"max_steps": 7, "deterministic_reset": True, "supports_seed": True},
}
ALL_CHECKS = ["health", "reset", "reset_null_seed", "deterministic_reset", "seed_varies", "step",
              "reward", "unknown_episode", "close_twice"]


@pytest.fixture(scope="module")
def urls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Every fake adapter, started at once (in threads) to keep the module fast."""
    logs = tmp_path_factory.mktemp("adapters")
    procs = {name: AdapterProcess(path, log_path=logs / f"{name}.log")
             for name, path in ADAPTERS.items()}
    with ThreadPoolExecutor(len(procs)) as pool:
        try:
            list(pool.map(AdapterProcess.start, procs.values()))
            yield {name: proc.url for name, proc in procs.items()}
        finally:
            list(pool.map(AdapterProcess.stop, procs.values()))


def live_episodes(url: str) -> int:
    with urllib.request.urlopen(url + "/health", timeout=5) as resp:
        return int(json.loads(resp.read())["episodes"])


def verdicts(findings: list[Finding]) -> dict[str, str]:
    assert len({f.check for f in findings}) == len(findings), findings
    return {f.check: f.status for f in findings}


def message(findings: list[Finding], check: str) -> str:
    return next(f.message for f in findings if f.check == check)


def test_good_adapter_passes_everything_and_closes_its_episodes(urls: dict[str, str]) -> None:
    findings = check_adapter(urls["good"], vow=VOW)
    assert verdicts(findings) == dict.fromkeys(ALL_CHECKS, "pass")
    assert message(findings, "reward") == "7 rewards, all finite and within [0.0, 1.0]"
    assert live_episodes(urls["good"]) == 0


@pytest.mark.parametrize(
    ("adapter", "check", "expected"),
    [
        ("ignores_seed", "deterministic_reset",
         "reset(seed=0) twice gave different observations: {'low': "),
        ("nan_reward", "reward", "step 1: the reward nan is not a finite number; return a "
                                 "finite float (NaN and infinity cannot be scored)"),
        ("reward_out_of_range", "reward", "step 1: reward 5 is outside binding_vow.reward.range "
                                          "[0.0, 1.0]; fix the reward or widen the range"),
        ("step_500", "step", "POST /step with action 25 failed: the adapter at "),
        ("wrong_shape", "step", "step 1: the body lacks observation, reward, terminated, "
                                "truncated, info (got keys ['done', 'obs', 'r']); answer "
                                "{observation, reward, terminated, truncated, info}"),
        ("unknown_episode_200", "unknown_episode",
         "POST /step on an unknown episode_id answered 200; answer 404 so a lost episode is "
         "told apart from a step"),
    ],
)
def test_broken_adapters_are_flagged(
    urls: dict[str, str], adapter: str, check: str, expected: str
) -> None:
    findings = check_adapter(urls[adapter], vow=VOW)
    failed = [f.check for f in findings if f.status != "pass"]
    assert failed == [check]
    assert verdicts(findings)[check] == "fail"
    assert message(findings, check).startswith(expected)
    assert live_episodes(urls[adapter]) == 0


def test_the_fix_is_named_in_messages(urls: dict[str, str]) -> None:
    seedless = message(check_adapter(urls["ignores_seed"], vow=VOW), "deterministic_reset")
    assert seedless.endswith("derive every random choice from the seed (random.Random(seed)), "
                             "or set binding_vow.episode.deterministic_reset to false")
    crash = message(check_adapter(urls["step_500"], vow=VOW), "step")
    assert "answered 500 to POST /step: ZeroDivisionError: division by zero" in crash
    assert crash.endswith("see the adapter's log")


def test_loose_wire_is_warned_not_failed(urls: dict[str, str]) -> None:
    findings = check_adapter(urls["loose_wire"], vow=VOW)
    assert {c: s for c, s in verdicts(findings).items() if s != "pass"} == {
        "reset": "warn", "step": "warn", "reward": "warn"}
    assert message(findings, "step") == (
        "step 1: 'terminated' is 'false', not a JSON boolean; 'truncated' is '0', not a JSON "
        'boolean; the observation is a bare value, not {"data", "content_type"}')
    assert message(findings, "reward") == "step 1: the reward '0.0' is a string, not a number"


def test_without_a_vow_unkept_determinism_is_a_warning(urls: dict[str, str]) -> None:
    findings = check_adapter(urls["ignores_seed"], sample_action=1)
    assert verdicts(findings)["deterministic_reset"] == "warn"
    assert message(findings, "deterministic_reset").endswith(
        "(the vow does not promise deterministic_reset, so this is a warning)")


def test_promises_the_vow_does_not_make_are_not_checked(urls: dict[str, str]) -> None:
    vow = {**VOW, "episode": {"deterministic_reset": False, "supports_seed": False}}
    findings = check_adapter(urls["ignores_seed"], vow=vow)
    assert "deterministic_reset" not in verdicts(findings)
    assert "seed_varies" not in verdicts(findings)
    assert all(f.status == "pass" for f in findings)


def test_a_rejected_probe_action_passes_with_a_note(urls: dict[str, str]) -> None:
    vow = {**VOW, "action_space": {"type": "text"}}
    findings = check_adapter(urls["good"], vow=vow)
    assert verdicts(findings)["step"] == "pass" and "reward" not in verdicts(findings)
    assert message(findings, "step").startswith(
        "the env rejected the probe action 'hello' with 422 (action must be an integer in [")
    # our extension, not the hosted platform's: there a 422 fails the episode
    assert verdicts(findings)["invalid_action"] == "warn"
    assert "the hosted platform's runner fails the episode on a 422" in message(
        findings, "invalid_action")
    assert live_episodes(urls["good"]) == 0


def test_identical_first_observations_across_seeds_warn(urls: dict[str, str]) -> None:
    findings = asyncio.run(acheck_adapter(urls["hidden_bounds"], vow=VOW, seeds=(1, 2)))
    assert {c: s for c, s in verdicts(findings).items() if s != "pass"} == {"seed_varies": "warn"}
    assert message(findings, "seed_varies") == (
        "reset with seeds (1, 2) gave the same first observation {'guesses_left': 7}; fine if "
        "the seed only picks hidden state (a secret word), otherwise the seed is ignored: use "
        "it, or set binding_vow.episode.supports_seed to false")


def test_one_distinct_seed_has_nothing_to_compare(urls: dict[str, str]) -> None:
    findings = check_adapter(urls["hidden_bounds"], vow=VOW, seeds=(4, 4, 4))
    assert "seed_varies" not in verdicts(findings)
    assert all(f.status == "pass" for f in findings)


def test_a_pydantic_vow_is_accepted(urls: dict[str, str]) -> None:
    class Vow(BaseModel):
        version: str
        action_space: dict[str, Any]
        reward: dict[str, Any]
        episode: dict[str, Any]

    findings = check_adapter(urls["good"], vow=Vow(**VOW))
    assert verdicts(findings) == dict.fromkeys(ALL_CHECKS, "pass")


def test_unreachable_adapter_is_one_failure() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    findings = check_adapter(f"http://127.0.0.1:{port}", vow=VOW)
    assert [(f.check, f.status) for f in findings] == [("health", "fail")]
    assert findings[0].message.startswith(f"cannot reach the adapter at http://127.0.0.1:{port}")


@pytest.mark.parametrize(
    ("space", "action"),
    [
        (None, "hello"),
        ({"type": "text"}, "hello"),
        ({"type": "discrete", "enum_values": ["up", "down"]}, "up"),
        ({"type": "continuous", "bounds": {"low": -1.0, "high": 3.0}}, 1.0),
        ({"type": "continuous", "bounds": {"low": [0, 0], "high": [2, 4]}}, [1.0, 2.0]),
        ({"type": "continuous", "bounds": [[0, 1], [10, 20]]}, [0.5, 15.0]),
        ({"type": "continuous", "bounds": [0, 10]}, 5.0),
        ({"type": "json", "schema": {"type": "object"}}, {}),
    ],
)
def test_probe_action_follows_the_action_space(space: dict[str, Any] | None, action: Any) -> None:
    assert probe_action(space) == action


def test_the_examples_are_found() -> None:
    assert "wordle" in [manifest.parent.name for manifest in EXAMPLES]


@pytest.mark.parametrize("manifest_path", EXAMPLES, ids=[m.parent.name for m in EXAMPLES])
def test_example_adapters_conform(manifest_path: Path, tmp_path: Path) -> None:
    """Each example, probed with the first action of its own solver so steps are real."""
    manifest = json.loads(manifest_path.read_text())
    policy = runpy.run_path(str(manifest_path.with_name("solver.py")))["policy"]

    async def first_action(url: str) -> Any:
        async with AdapterClient(url) as client:
            try:
                return policy((await client.reset("solver-probe", 0)).data)
            finally:
                await client.close("solver-probe")

    adapter = manifest_path.parent / manifest["adapter"]
    with AdapterProcess(adapter, log_path=tmp_path / "adapter.log") as proc:
        action = asyncio.run(first_action(proc.url))
        findings = check_adapter(proc.url, vow=manifest["binding_vow"], sample_action=action)
        assert live_episodes(proc.url) == 0
    assert [f for f in findings if f.status == "fail"] == []
    statuses = verdicts(findings)
    assert statuses["step"] == statuses["reward"] == "pass"
    assert set(statuses) == set(ALL_CHECKS)
