"""Category chips in a real browser: counts, a click swaps the board in place, the overall rank."""

from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import AbstractContextManager

import pytest
from playwright.sync_api import expect

from tests.browser.browsing import PHONE, Tab, play
from tests.fake_openai import FakeOpenAI
from tests.servers import ThreadedServer

pytestmark = pytest.mark.browser


def test_category_chips(
    arena_server: Callable[..., AbstractContextManager[ThreadedServer]],
    fake: FakeOpenAI,
    open_tab: Callable[..., Tab],
) -> None:
    with arena_server(leaderboard_refresh_seconds=0.2) as arena:
        tab = open_tab(arena.url)
        page = tab.page
        play(page, "Solve for x: 3x + 7 = 22.", vote="A is better")
        play(page, "Write a poem about rain.", vote="B is better")
        fake.wait_for(
            lambda: page.request.get(arena.url + "/api/leaderboard").json()["total_battles"] == 2,
            timeout=20,
        )
        page.goto(arena.url + "/leaderboard")
        board = page.locator("#board")
        chips = board.get_by_role("navigation", name="Categories")
        expect(chips.locator('[data-category="math"] .count')).to_have_text("1")
        expect(chips.locator('[data-category="english"] .count')).to_have_text("2")
        expect(chips.locator('[data-category="code"]')).to_have_count(0)  # no battles: no chip

        chips.locator('[data-category="math"]').click()
        expect(page).to_have_url(re.compile(r"category=math"))
        expect(board.locator(".meta").first).to_contain_text("in Math")  # named as its chip
        expect(board.locator("th.col-rank-overall")).to_have_text("Overall")
        expect(board.locator("tr[data-model] td.rank-overall")).to_have_count(2)
        expect(chips.locator('[aria-current="true"]')).to_contain_text("Math")
        tab.settled()
        page.set_viewport_size(PHONE)
        tab.assert_no_horizontal_overflow()
        tab.screenshot("leaderboard-category-phone")
        chips.get_by_role("link", name="All").click()
        expect(board.locator("th.col-rank-overall")).to_have_count(0)
        tab.assert_clean()
