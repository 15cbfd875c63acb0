"""Browser fixtures: Debian Chromium driven by Playwright, a fresh context per tab, on SQLite."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Playwright, ViewportSize, sync_playwright

from arena.web.assets import local_available
from tests.browser.browsing import DESKTOP, Tab
from tests.servers import ThreadedServer

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """Browser tests run on a SQLite file only: the database is not what they test."""
    return f"sqlite:///{tmp_path / 'arena.db'}"


@pytest.fixture
def arena_server(
    loopback_server: Callable[..., AbstractContextManager[ThreadedServer]],
) -> Callable[..., AbstractContextManager[ThreadedServer]]:
    """A browser needs a socket: here the arena is a real uvicorn server on loopback."""
    return loopback_server


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    """Playwright's sync driver, once per session."""
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    if not local_available():
        pytest.skip("no local htmx copy (bash scripts/vendor_htmx.sh)")
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Headless Debian Chromium, once per session."""
    b = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
    yield b
    b.close()


@pytest.fixture
def open_tab(browser: Browser) -> Iterator[Callable[..., Tab]]:
    """`open_tab(url, viewport=DESKTOP)`: a new tab with its own cookies, closed after the test."""
    contexts: list[BrowserContext] = []

    def open_(url: str, viewport: ViewportSize = DESKTOP) -> Tab:
        context = browser.new_context(viewport=viewport)
        contexts.append(context)
        return Tab.open(context, url)

    yield open_
    for context in contexts:
        context.close()
