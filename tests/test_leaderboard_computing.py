"""A leaderboard never computed before: views do not wait for the refit, they say "computing"
(the page polls with htmx, the API answers 202 with Retry-After) until the job is done."""

from __future__ import annotations

import time

import httpx

from tests.conftest import ArenaServer


def _until(client: httpx.Client, url: str, ready: int = 200, **kw: object) -> httpx.Response:
    deadline = time.monotonic() + 20
    while True:
        r = client.get(url, **kw)  # type: ignore[arg-type]
        if r.status_code == ready or time.monotonic() > deadline:
            return r
        time.sleep(0.2)


def test_api_answers_202_then_the_board(arena_server: ArenaServer) -> None:
    with arena_server(leaderboard_wait_seconds=0) as srv, srv.client() as client:
        # The bootstrap board is one the refresher does not compute by itself.
        first = client.get("/api/leaderboard", params={"ci": "bootstrap"})
        assert first.status_code == 202, first.text
        assert first.headers["Retry-After"] == "2"
        assert first.json()["computing"] is True and "computed" in first.json()["detail"]
        later = _until(client, "/api/leaderboard", params={"ci": "bootstrap"})
        assert later.status_code == 200, later.text
        assert later.json()["ci"] == "bootstrap"
        assert later.headers["X-Leaderboard-Stale"] == "false"
        download = _until(client, "/leaderboard.csv", params={"category": "long"})
        assert download.status_code == 200 and download.text.startswith("model,rating")


def test_page_shows_computing_and_polls(arena_server: ArenaServer) -> None:
    with arena_server(leaderboard_wait_seconds=0) as srv, srv.client() as client:
        page = client.get("/leaderboard", params={"category": "code"})
        assert page.status_code == 200
        assert "Computing…" in page.text
        assert 'hx-get="/leaderboard?category=code&amp;show=active' in page.text
        assert 'hx-trigger="load delay:2s"' in page.text
        assert "<html" in page.text.lower()
        # What the polling fetches: the board alone once it is there.
        board = client.get(
            "/leaderboard", params={"category": "code"}, headers={"HX-Request": "true"}
        )
        deadline = time.monotonic() + 20
        while "Computing…" in board.text and time.monotonic() < deadline:
            time.sleep(0.2)
            board = client.get(
                "/leaderboard", params={"category": "code"}, headers={"HX-Request": "true"}
            )
        assert "Computing…" not in board.text
        assert 'class="toggles"' in board.text and "<html" not in board.text.lower()


def test_small_board_within_the_wait_is_shown_at_once(arena_server: ArenaServer) -> None:
    with arena_server(leaderboard_wait_seconds=10) as srv, srv.client() as client:
        r = client.get("/api/leaderboard", params={"ci": "bootstrap", "category": "code"})
        assert r.status_code == 200, r.text
        page = client.get("/leaderboard", params={"category": "multi-turn"})
        assert "Computing…" not in page.text and 'class="toggles"' in page.text
