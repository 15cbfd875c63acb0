"""The auditable board in a real browser: rank spread, flip-audit line, preliminary table, a model
page with its history, at 1280 and 375 px. Screenshots go to tests/artifacts/ to be looked at."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import expect

from arena.votes.board_options import RankingConfig
from ratings import Battles
from tests.board_seed import days_ago, seed_votes, snapshot
from tests.browser.browsing import DESKTOP, PHONE, Tab
from tests.conftest import migrated_engine, write_models
from tests.fake_openai import FakeOpenAI
from tests.ratings.test_ratings_audit import synthetic
from tests.servers import ThreadedServer

pytestmark = pytest.mark.browser


def seed(database_url: str) -> str:
    """12 models over three days (a snapshot each day), then a newcomer with one win."""
    base = synthetic(n=3000)
    with migrated_engine(database_url, ()) as engine:
        for day, part in enumerate(np.array_split(np.arange(len(base)), 3)):
            seed_votes(engine, base.select(np.isin(np.arange(len(base)), part)), start=int(part[0]))
            snapshot(engine, days_ago(2 - day), RankingConfig(min_battles=30))
        seed_votes(engine, Battles.from_arrays(["newcomer", "m0"], [0], [1], [0]), start=5000)
    return "newcomer"


def test_board_and_model_page(
    arena_server: Callable[..., AbstractContextManager[ThreadedServer]],
    fake: FakeOpenAI,
    open_tab: Callable[..., Tab],
    tmp_path: Path,
    database_url: str,
) -> None:
    newcomer = seed(database_url)
    names = {f"m{i}": f"upstream-{i}" for i in range(12)} | {newcomer: "upstream-new"}
    models = write_models(tmp_path / "twelve.toml", fake.base_url, names)
    with arena_server(models=models) as arena:
        tab = open_tab(arena.url + "/leaderboard")
        page = tab.page
        board = page.locator("#board")
        expect(board.locator(".flip-audit")).to_contain_text("holds against removing")
        expect(board.locator("th.col-spread").first).to_have_text("Rank spread")
        expect(board.locator("h2.group-title.prelim")).to_have_text("Preliminary")
        # The newcomer's one win moves no listed row: it sits in its own table at the end.
        expect(board.locator("table").last.locator("tr[data-model]")).to_have_count(1)
        expect(board.locator("table").first.locator("tr[data-model]")).to_have_count(12)
        top = board.locator("table").first.locator("tr[data-model]").first
        top_name = top.get_attribute("data-model")
        assert top_name is not None
        for size, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
            page.set_viewport_size(viewport)
            tab.assert_no_horizontal_overflow()
            tab.screenshot(f"audit-board-{size}")

        top.locator("td.model a").click()
        expect(page.locator("h1")).to_contain_text(top_name)
        expect(page.locator("svg.history g.day")).to_have_count(3)
        expect(page.locator("table.opponents tr[data-opponent]")).to_have_count(11)
        for size, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
            page.set_viewport_size(viewport)
            tab.assert_no_horizontal_overflow()
            tab.screenshot(f"audit-model-page-{size}")

        page.goto(arena.url + "/leaderboard/me")
        expect(page.locator(".notice")).to_contain_text("Cast 20 more")
        tab.assert_clean()
