"""The leaderboard in a real browser: a new vote shows, toggles and categories work, CSV exports."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from contextlib import AbstractContextManager

import pytest
from playwright.sync_api import Page, expect

from tests.browser.browsing import PHONE, Tab, play
from tests.conftest import MODELS
from tests.fake_openai import FakeOpenAI
from tests.servers import ThreadedServer

pytestmark = pytest.mark.browser


def counted_battles(page: Page, url: str) -> int:
    """Battles in the stored default leaderboard, as the JSON API serves it."""
    return int(page.request.get(url + "/api/leaderboard").json()["total_battles"])


def test_leaderboard_journey(
    arena_server: Callable[..., AbstractContextManager[ThreadedServer]],
    fake: FakeOpenAI,
    open_tab: Callable[..., Tab],
) -> None:
    with arena_server(leaderboard_refresh_seconds=0.2) as arena:
        tab = open_tab(arena.url)
        page = tab.page
        a_won, _ = play(page, "What is the longest river?", vote="A is better")
        _, b_won = play(page, "And the widest one?", vote="B is better")
        wins = {name: [a_won, b_won].count(name) for name in MODELS}
        # The board is recomputed in the background; wait until it has caught up with the votes.
        fake.wait_for(lambda: counted_battles(page, arena.url) == 2, timeout=20)

        page.get_by_role("link", name="Leaderboard").click()
        expect(page).to_have_url(re.compile(r"/leaderboard$"))
        board = page.locator("#board")
        expect(board.locator(".meta").first).to_contain_text("2 battles")
        for name in MODELS:
            row = board.locator(f'tr[data-model="{name}"]')
            expect(row).to_be_visible()
            expect(row).to_contain_text(f"{wins[name]} / {2 - wins[name]} / 0")
        tab.assert_no_horizontal_overflow()
        tab.screenshot("leaderboard-desktop")

        # Style control: the board reloads in place and the address follows.
        page.get_by_label("Style control").check()
        expect(page).to_have_url(re.compile(r"style_control=true"))
        expect(board.locator(".meta").first).to_contain_text("style-controlled")
        expect(page.get_by_label("Style control")).to_be_checked()
        tab.settled()

        # A category with the votes, then one without.
        category = page.get_by_label("Category")
        category.select_option("english")
        expect(page).to_have_url(re.compile(r"category=english"))
        expect(board.locator(".meta").first).to_contain_text("in English")
        expect(board.locator("tr[data-model]")).to_have_count(2)
        tab.settled()
        category.select_option("code")
        expect(page).to_have_url(re.compile(r"category=code"))
        expect(board).to_contain_text("No votes yet in this category")
        tab.settled()
        category.select_option("")
        expect(board.locator("tr[data-model]")).to_have_count(2)
        tab.settled()

        # Sorting by a column.
        board.get_by_role("link", name="Model").click()
        expect(board.locator('th[aria-sort="ascending"]')).to_contain_text("Model")
        expect(board.locator("tr[data-model]").first).to_have_attribute("data-model", "alpha")
        tab.settled()

        with page.expect_download() as info:
            board.get_by_role("link", name="CSV").click()
        download = info.value
        assert download.suggested_filename == "leaderboard.csv"
        rows = list(csv.DictReader(io.StringIO(download.path().read_text(encoding="utf-8"))))
        assert {r["model"] for r in rows} == set(MODELS)

        page.set_viewport_size(PHONE)
        tab.assert_no_horizontal_overflow()
        tab.screenshot("leaderboard-phone")
        tab.assert_clean()
