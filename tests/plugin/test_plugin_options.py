"""Options: bad values stop the run with one line naming the flag; no --mesocosm, no trace."""

from __future__ import annotations

import pytest
from fakes.ollama_server import FakeOllama
from plugin_support import copy_example, dedent, edit_manifest, mesocosm

FLAG_ERRORS = [
    (["--mesocosm-episodes", "0"],
     "ERROR: --mesocosm-episodes: expected a whole number >= 1, got '0'"),
    (["--mesocosm-parallel", "many"],
     "ERROR: --mesocosm-parallel: expected a whole number >= 1, got 'many'"),
    (["--mesocosm-temperature", "-1"],
     "ERROR: --mesocosm-temperature: expected a number >= 0, got '-1'"),
    (["--mesocosm-seeds", "1,x"],
     "ERROR: --mesocosm-seeds: expected seeds like '0,1,2' or '0-9' or '3,5-7', got '1,x'"),
    (["--mesocosm-env-url", "localhost:8765"],
     "ERROR: --mesocosm-env-url: expected an http:// or https:// URL, got 'localhost:8765'"),
    (["--mesocosm-prompt-style", "plain"],
     "ERROR: --mesocosm-prompt-style: expected hosted or chat, got 'plain'"),
    (["--mesocosm-threshold", "win_rate=>0.5"],
     "ERROR: --mesocosm-threshold: cannot read threshold 'win_rate=>0.5': expected NAME*"),
]


@pytest.mark.parametrize(("args", "line"), FLAG_ERRORS, ids=[a[0] for a, _ in FLAG_ERRORS])
def test_bad_flag_is_a_usage_error_naming_it(
    pytester: pytest.Pytester, args: list[str], line: str
) -> None:
    result = mesocosm(pytester, *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([line])
    assert "Traceback" not in result.stderr.str()


def test_bad_ini_value_names_the_ini_key(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nmesocosm_repeats = twice\n")
    result = mesocosm(pytester)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["ERROR: ini option mesocosm_repeats: expected a whole number >= 1, got 'twice'"]
    )


def test_prompt_style_ini_twin_is_checked(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nmesocosm_prompt_style = stateless\n")
    result = mesocosm(pytester)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["ERROR: ini option mesocosm_prompt_style: expected hosted or chat, got 'stateless'"]
    )


@pytest.mark.parametrize(("ini", "lengths"), [("", [2, 2]), ("chat", [2, 4])])
def test_prompt_style_reaches_the_model(pytester: pytest.Pytester, ini: str,
                                        lengths: list[int]) -> None:
    """hosted by default (two messages every step); the ini twin turns the chat on."""
    copy_example(pytester, "wordle")
    if ini:
        pytester.makeini(f"[pytest]\nmesocosm_prompt_style = {ini}\n")
    with FakeOllama(["crane", "slate"]) as fake:
        result = mesocosm(pytester, "-p", "no:xdist", "--mesocosm-seeds", "0",
                          "--mesocosm-model", "ollama/llama3.2", "--mesocosm-api-base", fake.url)
        bodies = fake.chat_bodies()
    assert result.ret in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED)
    assert [len(b["messages"]) for b in bodies[:2]] == lengths
    assert bodies[0]["messages"][1]["content"].startswith("[Step 1]\n" if not ini else "{")


def test_threshold_naming_no_metric_is_one_collection_error(pytester: pytest.Pytester) -> None:
    folder = copy_example(pytester, "wordle")
    result = mesocosm(pytester, "--co", "--mesocosm-threshold", "score>=1")
    result.stdout.fnmatch_lines([
        "*ERROR collecting wordle/benchanything.json*",
        "--mesocosm-threshold for */wordle/benchanything.json: threshold 'score>=1' names no "
        "metric 'score'; names: win_rate, *",
    ])
    assert result.ret == pytest.ExitCode.INTERRUPTED

    edit_manifest(folder, mesocosm={"thresholds": ["wins>=0.5"]})
    result = mesocosm(pytester, "--co")
    result.stdout.fnmatch_lines([
        "*/wordle/benchanything.json: mesocosm.thresholds[[]0]: threshold 'wins>=0.5' names no "
        "metric 'wins'; *",
    ])
    assert result.ret == pytest.ExitCode.INTERRUPTED


def test_baseline_flags_are_checked_before_the_run(pytester: pytest.Pytester) -> None:
    result = mesocosm(pytester, "--mesocosm-baseline", "old.json")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: --mesocosm-baseline: old.json does not exist; give "
                                 "the results.json of an earlier run, *"])
    result = mesocosm(pytester, "--mesocosm-max-drop", "0.1")
    result.stderr.fnmatch_lines(["ERROR: --mesocosm-max-drop needs --mesocosm-baseline*"])


def test_ini_twins_configure_the_run(pytester: pytest.Pytester) -> None:
    copy_example(pytester, "wordle")
    pytester.makeini(dedent("""
        [pytest]
        mesocosm_seeds = 4,7-8
        mesocosm_repeats = 2
    """))
    result = mesocosm(pytester, "--co", "-q")
    result.stdout.fnmatch_lines([
        "wordle/benchanything.json::Wordle[[]seed=4]",
        "wordle/benchanything.json::Wordle[[]seed=4-r1]",
        "wordle/benchanything.json::Wordle[[]seed=7]",
        "wordle/benchanything.json::Wordle[[]seed=7-r1]",
        "wordle/benchanything.json::Wordle[[]seed=8]",
        "wordle/benchanything.json::Wordle[[]seed=8-r1]",
        "6 tests collected*",
    ])
    # the flag wins over its ini twin
    result = mesocosm(pytester, "--co", "-q", "--mesocosm-seeds", "2")
    result.stdout.fnmatch_lines(["wordle/benchanything.json::Wordle[[]seed=2]",
                                 "wordle/benchanything.json::Wordle[[]seed=2-r1]",
                                 "2 tests collected*"])


def test_without_the_flag_nothing_is_collected_or_imported(pytester: pytest.Pytester) -> None:
    copy_example(pytester, "wordle")
    pytester.makepyfile(test_plain=dedent("""
        import sys

        HEAVY = ("litellm", "aiohttp", "fastapi", "httpx", "uvicorn",
                 "pytest_mesocosm.engine.session", "pytest_mesocosm.manifest.models",
                 "pytest_mesocosm.agents")

        def test_nothing_heavy_is_imported(pytestconfig):
            assert pytestconfig.pluginmanager.has_plugin("mesocosm")  # installed, yet idle
            assert [name for name in HEAVY if name in sys.modules] == []
    """))
    result = pytester.runpytest_subprocess("-v")
    result.assert_outcomes(passed=1)
    assert "benchanything" not in result.stdout.str()
    assert not (pytester.path / ".mesocosm").exists()
