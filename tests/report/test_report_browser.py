"""The report of a real Wordle run, opened in a real headless Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser import ARTIFACTS, Opened, launch, open_report
from report_support import HOSTILE

from pytest_mesocosm.engine.traces import read_trace
from pytest_mesocosm.report import write_report


@pytest.fixture(scope="module")
def browser(wordle_run: Path, picture_run: Path) -> Iterator[Any]:
    """Chromium, started after the runs it shows were played: Playwright's sync API holds
    the thread's event loop while it is open, and the engine needs one to play."""
    yield from launch()


@pytest.fixture(scope="module")
def report_file(wordle_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_report([wordle_run], tmp_path_factory.mktemp("html") / "report.html")


@pytest.fixture
def opened(browser: Any, report_file: Path) -> Iterator[Opened]:
    view = open_report(browser, report_file)
    yield view
    view.page.close()


def _actions(run: Path, seed: int) -> list[Any]:
    trace = read_trace(run / "traces" / f"seed-{seed}.jsonl")
    return [e["action"] for e in trace if e["event"] == "step_result"]


def _column(opened: Opened, key: str) -> list[str]:
    return opened.page.eval_on_selector_all(
        "table.episodes tbody tr", f"rows => rows.map(r => r.getAttribute('data-{key}'))")


def test_opens_without_console_errors_or_network_requests(opened: Opened) -> None:
    page = opened.page
    assert page.get_attribute("html", "data-ready") == "yes"  # the replay data unpacked
    assert page.title().startswith("Wordle")
    assert page.locator("table.episodes tbody tr").count() == 6
    assert page.locator(".verdict strong").inner_text() == "PASSED"
    assert page.locator("svg.interval circle.dot").count() == 1
    assert page.locator("li.outcome-count[data-status=invalid] strong").inner_text() == "1"
    page.locator("tr.episode[data-seed='0']").click()
    page.keyboard.press("ArrowRight")
    assert opened.problems == []
    assert opened.requests == [opened.url]


def test_episode_table_sorts_and_filters(opened: Opened) -> None:
    page = opened.page
    header = page.locator("table.episodes th[data-key=steps]")
    header.click()
    steps = [int(s) for s in _column(opened, "steps")]
    assert steps == sorted(steps) and steps[0] == 0  # the invalid episode never stepped
    header.click()
    assert [int(s) for s in _column(opened, "steps")] == sorted(steps, reverse=True)
    assert header.get_attribute("aria-sort") == "descending"
    page.locator("table.episodes th[data-key=seed]").click()
    assert _column(opened, "seed") == [str(s) for s in range(6)]

    page.locator(".ep-status").select_option("invalid")
    assert page.locator("table.episodes tbody tr:visible").count() == 1
    assert page.locator(".ep-shown").inner_text() == "1 shown"
    page.locator(".ep-status").select_option("")
    page.locator(".ep-filter").fill("seed=3")
    assert _visible_seeds(opened) == ["3"]


def _visible_seeds(opened: Opened) -> list[str]:
    return opened.page.eval_on_selector_all(
        "table.episodes tbody tr:not([hidden])", "rows => rows.map(r => r.dataset.seed)")


def test_replay_steps_through_the_trace_with_arrow_keys(opened: Opened, wordle_run: Path) -> None:
    page = opened.page
    actions = _actions(wordle_run, 2)
    assert len(actions) >= 2
    page.locator("tr.episode[data-seed='2']").click()
    replay = page.locator("#replay")
    assert replay.is_visible()
    assert page.locator("#replay-pos").inner_text() == f"turn 1 of {len(actions)}"
    assert page.locator("pre.turn-action").inner_text() == actions[0]
    assert '"guesses_remaining": 6' in page.locator("pre.obs").inner_text()
    rejected = page.locator(".attempt.rejected")
    assert rejected.count() == 1
    assert "'zzzzz' is not in the word list" in rejected.locator(".reason").inner_text()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "report-replay.png"))

    page.keyboard.press("ArrowRight")
    assert page.locator("#replay-pos").inner_text() == f"turn 2 of {len(actions)}"
    assert page.locator("pre.turn-action").inner_text() == actions[1]
    page.keyboard.press("ArrowLeft")
    assert page.locator("pre.turn-action").inner_text() == actions[0]
    for _ in actions:
        page.keyboard.press("ArrowRight")
    assert page.locator("#replay-pos").inner_text() == "end"
    page.keyboard.press("Escape")
    assert not replay.is_visible()
    assert opened.problems == []


def test_a_failed_episode_shows_its_error_and_runs_no_trace_text(opened: Opened) -> None:
    page = opened.page
    page.locator("tr.episode[data-seed='4']").click()
    assert page.locator(".attempt.rejected").count() == 3
    assert page.locator(".attempt.rejected pre.rejected-action").first.inner_text() == HOSTILE
    page.locator("#replay-next").click()
    assert page.locator("#replay-pos").inner_text() == "end"
    error = page.locator("#replay-error").inner_text()
    # the env quotes the action cut short; the markup it keeps is shown as text
    assert "invalid action at step 1:" in error and HOSTILE[:39] in error
    assert page.evaluate("window.pwned") is None
    assert page.locator("#replay-body script, #replay-body img").count() == 0
    assert opened.requests == [opened.url]  # the <img src=x> in the text never loaded


def test_images_show_as_images_and_large_observations_fold(
    browser: Any, picture_run: Path, tmp_path: Path
) -> None:
    opened = open_report(browser, write_report([picture_run], tmp_path / "report.html"))
    page = opened.page
    page.locator("tr.episode").click()
    size = page.eval_on_selector(
        "img.obs-image", "img => img.decode().then(() => [img.naturalWidth, img.naturalHeight])")
    assert size == [6, 4]
    page.keyboard.press("ArrowRight")
    fold = page.locator("details.fold").first
    assert "200 lines" in fold.locator("summary").inner_text()
    assert not fold.locator("pre").is_visible()
    fold.locator("summary").click()
    assert fold.locator("pre").inner_text().startswith("line 0: nothing to see")
    assert opened.problems == [] and opened.requests == [opened.url]
    page.close()
