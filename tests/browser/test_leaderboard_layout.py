"""The leaderboard with long model names: sorting order, plots and table at 1280 and 375 px.

Screenshots go to tests/artifacts/ for a human to look at; the asserts catch what a human would.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.browsing import DESKTOP, PHONE, Tab, play
from tests.conftest import write_models
from tests.fake_openai import FakeOpenAI
from tests.servers import ThreadedServer

pytestmark = pytest.mark.browser

# Long enough to be shortened in the plots, so the labels are as wide as they ever get.
LONG_NAMES = {
    "northwind-reasoner-large-2025": "upstream-alpha-7b",
    "southwind-chat-xl-instruct-v3": "upstream-beta-13b",
}


def box(loc: Locator) -> dict[str, float]:
    b = loc.bounding_box()
    assert b is not None, loc
    return dict(b)


def within(inner: Locator, outer: Locator, what: str) -> None:
    """`inner` lies wholly inside `outer` on the screen (nothing of it is cut off)."""
    a, b = box(inner), box(outer)
    for start, size in (("x", "width"), ("y", "height")):
        assert a[start] >= b[start] - 0.5, (what, a, b)
        assert a[start] + a[size] <= b[start] + b[size] + 0.5, (what, a, b)


def plots_whole(page: Page) -> None:
    """Each plot fits its frame and every label (the rotated column ones too) fits its plot."""
    figures = page.locator(".figures figure")
    expect(figures).to_have_count(5)  # intervals, two frontiers, two heatmaps
    for figure in figures.all():
        svg = figure.locator("svg")
        if not svg.count():  # a frontier without prices or timings says so in words
            continue
        within(svg, figure, "plot in its frame")
        wrap = figure.locator(".svg-wrap")
        assert wrap.evaluate("el => el.scrollWidth <= el.clientWidth"), "the plot is cut off"
        for label in svg.locator("text").all():
            within(label, svg, f"label {label.text_content()!r}")


def test_leaderboard_sorting_and_layout(
    arena_server: Callable[..., AbstractContextManager[ThreadedServer]],
    fake: FakeOpenAI,
    open_tab: Callable[..., Tab],
    tmp_path: Path,
) -> None:
    models = write_models(tmp_path / "long.toml", fake.base_url, LONG_NAMES)
    with arena_server(models=models, leaderboard_refresh_seconds=0.2) as arena:
        tab = open_tab(arena.url)
        page = tab.page
        best, worst = play(page, "What is the longest river?", vote="A is better")
        url = arena.url + "/api/leaderboard"
        fake.wait_for(lambda: page.request.get(url).json()["total_battles"] == 1, timeout=20)

        page.goto(arena.url + "/leaderboard?sort=model&dir=desc")
        board = page.locator("#board")
        # A measure sorts best-first on the first click; a second click reverses it.
        board.get_by_role("link", name="Rating").click()
        expect(board.locator('th[aria-sort="descending"]')).to_contain_text("Rating")
        expect(board.locator("tr[data-model]").first).to_have_attribute("data-model", best)
        tab.settled()
        board.get_by_role("link", name="Rating").click()
        expect(board.locator('th[aria-sort="ascending"]')).to_contain_text("Rating")
        expect(board.locator("tr[data-model]").first).to_have_attribute("data-model", worst)
        tab.settled()
        # Names and ranks sort A to Z and 1 upwards first.
        board.get_by_role("link", name="Battles").click()
        expect(board.locator('th[aria-sort="descending"]')).to_contain_text("Battles")
        tab.settled()
        board.get_by_role("link", name="Rank", exact=True).click()
        expect(board.locator('th[aria-sort="ascending"]')).to_contain_text("Rank")
        expect(board.locator("tr[data-model]").first).to_have_attribute("data-model", best)
        tab.settled()

        for size, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
            page.set_viewport_size(viewport)
            tab.assert_no_horizontal_overflow()
            # Rank, model and rating are on screen without scrolling the table sideways.
            wrap = board.locator(".table-wrap")
            for col in ("rank", "model", "rating"):
                head = board.locator(f"th.col-{col}")
                right = box(head)["x"] + box(head)["width"]
                assert right <= min(box(wrap)["x"] + box(wrap)["width"], viewport["width"]) + 0.5
            # Every row's rating is within the screen's width (the toggles, chips and notes the
            # board gained push the second row below a phone's fold, so: sideways, not down).
            for row in board.locator("tr[data-model]").all():
                cell = row.locator("td.rating")
                expect(cell).to_be_visible()
                assert box(cell)["x"] + box(cell)["width"] <= viewport["width"] + 0.5
            plots_whole(page)
            tab.screenshot(f"leaderboard-long-names-{size}")
        tab.assert_clean()
