"""A real headless Chromium (Debian's ``chromium`` package) driven by Playwright.

Every request the page makes is recorded and refused unless it is the report file itself,
so a test can prove the report needs no network; console messages and page errors are
recorded too. Screenshots go to ``$MESOCOSM_TEST_ARTIFACTS`` (default ``test-artifacts/``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM = os.environ.get("MESOCOSM_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
ARTIFACTS = Path(os.environ.get(
    "MESOCOSM_TEST_ARTIFACTS", Path(__file__).resolve().parents[2] / "test-artifacts"
))


@dataclass
class Opened:
    """A page showing one report, and what it did while it was open."""

    page: Any
    url: str
    console: list[tuple[str, str]] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[tuple[str, str]]:
        return [(kind, text) for kind, text in self.console if kind in ("error", "pageerror",
                                                                         "warning")]


def launch() -> Iterator[Any]:
    """One Chromium for the test session."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def open_report(browser: Any, path: Path) -> Opened:
    """Open ``path`` in a fresh page; refuse and record any other request."""
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    opened = Opened(page, path.resolve().as_uri())
    page.on("console", lambda message: opened.console.append((message.type, message.text)))
    page.on("pageerror", lambda error: opened.console.append(("pageerror", str(error))))

    def route(handle: Any) -> None:
        opened.requests.append(handle.request.url)
        if handle.request.url == opened.url:
            handle.continue_()
        else:
            handle.abort()

    page.route("**/*", route)
    page.goto(opened.url, wait_until="load")
    page.wait_for_selector("html[data-ready]", state="attached")
    return opened
