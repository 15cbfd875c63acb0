"""A leaderboard never computed before, in a real browser: "computing…" at once, then the board
replaces it by itself (htmx polling), without a reload."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

import pytest
from playwright.sync_api import expect

from tests.browser.browsing import Tab
from tests.servers import ThreadedServer

pytestmark = pytest.mark.browser


def test_computing_then_the_board(
    arena_server: Callable[..., AbstractContextManager[ThreadedServer]],
    open_tab: Callable[..., Tab],
) -> None:
    # No wait at all: the first view of a new board always finds it still computing.
    with arena_server(leaderboard_wait_seconds=0) as arena:
        tab = open_tab(arena.url)
        page = tab.page
        page.goto(arena.url + "/leaderboard?category=code")
        board = page.locator("#board")
        expect(board).to_contain_text("Computing…")
        expect(page.get_by_role("status")).to_be_visible()
        # The same element swaps itself for the board once the background refit stored it.
        expect(page.get_by_label("Category")).to_have_value("code", timeout=20_000)
        expect(board).not_to_contain_text("Computing…")
        expect(board).to_contain_text("No votes yet in this category")
        assert page.url.endswith("/leaderboard?category=code")
