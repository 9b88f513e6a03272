"""Broken environments fail their items with the last turns shown; a missing model errors
every item with one message; contract items check the adapter."""

from __future__ import annotations

import re

import pytest
from fakes.ollama_server import FakeOllama
from plugin_support import copy_example, mesocosm, write_counter_repo

FIXED = ("-p", "no:xdist", "--mesocosm-model", "script:policy.py:policy")


def test_env_crash_fails_the_item_and_shows_the_last_turns(pytester: pytest.Pytester) -> None:
    write_counter_repo(pytester, crash_seeds=(1,))
    result = mesocosm(pytester, *FIXED, "--mesocosm-episodes", "3")
    result.assert_outcomes(passed=2, failed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines([
        "*_ Counter[[]seed=1] _*",
        "episode Counter[[]seed=1] ended in env_error at step 3",
        "last 3 of 3 turns:",
        "  step 1",
        '    observation: {"count":0,"target":4}',
        "    model reply: *",
        "    action:      up",
        "    env said:    reward 0.0",
        "  step 2",
        '    observation: {"count":1,"target":4}',
        "  step 3",
        '    observation: {"count":2,"target":4}',
        "    model reply: *",
        "    action:      up",
        "    env said:    (no answer)",
        "env error: *counter jammed at step 3 (seed 1)*",
        "trace: */traces/seed-1.jsonl",
    ])
    failure = result.stdout.str().split("Counter[seed=1] _")[1].split("= mesocosm =")[0]
    assert "Traceback" not in failure and "pytest_mesocosm" not in failure
    result.stdout.fnmatch_lines([
        "mesocosm: Counter: gate FAILED: 1 episode ended in error (1 in env_error); "
        "allowed errors: 0",
        "FAILED counter/benchanything.json::Counter[[]seed=1] - episode Counter[[]seed=1] *",
    ])


def _error_messages(text: str) -> set[str]:
    """The messages of the short summary's ERROR lines, node ids removed."""
    return {m.group(1) for m in re.finditer(r"^ERROR \S+ - (.*)$", text, re.MULTILINE)}


def test_unreachable_model_errors_every_item_with_one_message(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "400")  # short summary lines uncut
    copy_example(pytester, "wordle")
    result = mesocosm(pytester, "-p", "no:xdist", "--mesocosm-episodes", "3",
                      "--mesocosm-model", "ollama/llama3.2",
                      "--mesocosm-api-base", "http://127.0.0.1:9", "-rE")
    result.assert_outcomes(errors=3)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    messages = _error_messages(result.stdout.str())
    assert len(messages) == 1, messages
    assert "ollama serve" in messages.pop()
    result.stdout.fnmatch_lines(["scored 0/3 episodes (*model_error 3*"])


def test_model_is_checked_once_per_process(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "400")
    copy_example(pytester, "wordle")
    with FakeOllama(models=[]) as fake:  # serving, but llama3.2 was never pulled
        result = mesocosm(pytester, "-n", "2", "--mesocosm-episodes", "6",
                          "--mesocosm-model", "ollama/llama3.2",
                          "--mesocosm-api-base", fake.url, "-rE")
        checks = [r for r in fake.requests if r.path in ("/api/tags", "/api/show")]
    result.assert_outcomes(errors=6)
    messages = _error_messages(result.stdout.str())
    assert len(messages) == 1, messages
    assert "ollama pull llama3.2" in messages.pop()
    assert 1 <= len(checks) <= 2 * 2  # one preflight per worker, not one per episode


def test_contract_items_check_the_adapter(pytester: pytest.Pytester) -> None:
    copy_example(pytester, "wordle")
    result = mesocosm(pytester, "--mesocosm-conformance", "-k", "contract", "-v")
    outcomes = result.parseoutcomes()
    assert outcomes == {"passed": 8, "deselected": 5, "warnings": 1}
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines([
        "*Wordle[[]contract-health] PASSED*",
        "*Wordle[[]contract-close_twice] PASSED*",
        "  wordle/adapter.py:0: ConformanceWarning: seed_varies: *",
    ])

    # a vow that promises no seeding: its two seed checks have nothing to check
    write_counter_repo(pytester, crash_seeds=(0,), deterministic_reset=False,
                       supports_seed=False)
    result = mesocosm(pytester, "--mesocosm-conformance", "-k", "Counter and contract",
                      "-p", "no:xdist", "-rs")
    result.assert_outcomes(passed=5, failed=1, skipped=2)
    result.stdout.fnmatch_lines([
        "*_ Counter[[]contract-step] _*",
        "counter/adapter.py: step: POST /step * failed: *counter jammed at step 3*",
        "SKIPPED * nothing to check: the binding vow does not promise it",
    ])
