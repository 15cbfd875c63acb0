"""Category boards: rank_overall and the rank change (JSON, CSV, page), chips, /api/categories."""

from __future__ import annotations

import csv
import io
import time
from typing import Any

import httpx

from tests.conftest import ArenaServer
from tests.fake_openai import FakeOpenAI
from tests.test_leaderboard import battle_and_vote, labelled  # noqa: F401  (fixture)

MATH = "Solve for x: 3x + 7 = 22."


def board(client: httpx.Client, n: int, **params: Any) -> dict[str, Any]:
    """The leaderboard once it counts n battles."""
    deadline = time.monotonic() + 10
    while True:
        data = client.get("/api/leaderboard", params=params).json()
        if data["total_battles"] >= n or time.monotonic() > deadline:
            return dict(data)
        time.sleep(0.2)


def test_category_board_shows_overall_rank_and_change(
    arena_server: ArenaServer,
    labelled: FakeOpenAI,  # noqa: F811
) -> None:
    with (
        arena_server(count_leaked_votes=True, leaderboard_refresh_seconds=0.3) as srv,
        srv.client() as c,
    ):
        for _ in range(3):
            battle_and_vote(c, "alpha", prompt="hello there")
        battle_and_vote(c, "beta", prompt=MATH)
        battle_and_vote(c, "beta", prompt=MATH + " Show your steps.")
        overall = board(c, 5)
        assert [m["model"] for m in overall["models"]] == ["alpha", "beta"]
        assert all("rank_overall" not in m for m in overall["models"])

        math = board(c, 2, category="math")
        rows = {m["model"]: m for m in math["models"]}
        assert math["category"] == "math" and math["total_battles"] == 2
        assert rows["beta"]["rank"] == 1 and rows["beta"]["rank_overall"] == 2
        assert rows["beta"]["rank_change"] == 1 and rows["alpha"]["rank_change"] == -1

        text = c.get("/api/leaderboard", params={"category": "math", "format": "csv"}).text
        table = list(csv.DictReader(io.StringIO(text)))
        assert {r["model"]: r["rank_overall"] for r in table} == {"beta": "2", "alpha": "1"}

        page = c.get("/leaderboard", params={"category": "math"}).text
        assert 'class="rank-change up"' in page and "↑1" in page and "↓1" in page
        assert 'data-category="math"' in page and 'data-category="english"' in page

        cats = c.get("/api/categories").json()
        counts = {x["category"]: x["battles"] for x in cats["categories"]}
        assert cats["total_battles"] == 5
        assert counts["math"] == 2 and counts["english"] == 5 and counts["creative-writing"] == 0
        assert set(counts) >= {
            "code",
            "math",
            "hard-prompts",
            "creative-writing",
            "instruction-following",
            "long",
            "multi-turn",
        }


def test_unknown_category_is_a_clear_422(arena_server: ArenaServer) -> None:
    with arena_server() as srv, srv.client() as c:
        r = c.get("/api/leaderboard", params={"category": "astrology"})
        assert r.status_code == 422 and "instruction-following" in r.json()["detail"]
