"""Vote review: filters, exclude and include (API, pages, leaderboard), and the battle export."""

from __future__ import annotations

import json
import time
from datetime import date, timedelta
from typing import Any

import httpx
from sqlmodel import Session, select

from arena.admin.review import vote_counts
from arena.store.engine import make_engine
from arena.store.tables import Vote
from tests.admin_client import AUTH, htmx, login, play
from tests.conftest import ArenaServer


def vote_row(database_url: str, battle_id: str) -> Vote:
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            return session.exec(select(Vote).where(Vote.battle_id == battle_id)).one()
    finally:
        engine.dispose()


def counts(database_url: str) -> dict[str, dict[str, int]]:
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            return vote_counts(session)
    finally:
        engine.dispose()


def leaderboard_battles(client: httpx.Client, expected: int) -> int | None:
    """total_battles of GET /api/leaderboard once it shows `expected` (None: no leaderboard)."""
    seen = None
    for _ in range(100):
        r = client.get("/api/leaderboard")
        if r.status_code == 404:
            return None
        seen = int(r.json()["total_battles"])
        if seen == expected:
            break
        time.sleep(0.1)
    return seen


def test_review_filters_exclude_and_include(arena_server: ArenaServer, database_url: str) -> None:
    # The leaderboard refreshes often, so that it soon shows an exclusion (its default is 2 s).
    with arena_server(leaderboard_refresh_seconds=0.2) as srv, srv.client() as client:
        review_filters_exclude_and_include(client, database_url)


def review_filters_exclude_and_include(client: httpx.Client, database_url: str) -> None:
    first = play(client, "model_a", "First question")
    second = play(client, "tie", "Second question")
    votes = client.get("/api/admin/votes", headers=AUTH).json()
    assert [v["battle_id"] for v in votes] == [second, first]  # newest first
    v = votes[1]
    assert {v["model_a"], v["model_b"]} == {"alpha", "beta"} and v["winner"] == "model_a"
    assert v["turns"][0]["prompt"] == "First question"
    assert v["turns"][0]["a"]["content"].startswith("Echo: First question")
    assert v["turns"][0]["b"]["content"].startswith("Echo: First question")
    assert len(v["judge"]) == 16 and v["judge"] not in client.cookies.get("arena_voter", "")
    assert v["excluded"] is False and v["leaked"] is False

    today = date.today()
    query: list[tuple[dict[str, Any], int]] = [
        ({"model": "alpha"}, 2),
        ({"excluded": "true"}, 0),
        ({"excluded": "false"}, 2),
        ({"leaked": "true"}, 0),
        ({"since": str(today - timedelta(days=1))}, 2),
        ({"until": str(today - timedelta(days=2))}, 0),
        ({"limit": 1}, 1),
    ]
    for params, n in query:
        r = client.get("/api/admin/votes", headers=AUTH, params=params)
        assert r.status_code == 200 and len(r.json()) == n, params

    r = client.post(f"/api/admin/votes/{first}/exclude", headers=AUTH, json={"reason": "spam"})
    assert r.status_code == 200, r.text
    assert r.json()["excluded"] is True and r.json()["exclude_reason"] == "spam"
    row = vote_row(database_url, first)
    assert (row.excluded, row.exclude_reason, row.counted) == (True, "spam", False)
    assert counts(database_url)["alpha"] == {"votes": 2, "counted": 1, "excluded": 1}
    assert client.get("/api/admin/models/alpha", headers=AUTH).json()["votes"]["excluded"] == 1
    only = client.get("/api/admin/votes", headers=AUTH, params={"excluded": "true"}).json()
    assert [v["battle_id"] for v in only] == [first]
    total = leaderboard_battles(client, 1)
    assert total in (None, 1)

    r = client.post(f"/api/admin/votes/{first}/include", headers=AUTH)
    assert r.status_code == 200 and r.json()["excluded"] is False
    row = vote_row(database_url, first)
    assert (row.excluded, row.exclude_reason, row.counted) == (False, None, True)
    assert leaderboard_battles(client, 2) in (None, 2)


def test_bad_exclusions(client: httpx.Client, database_url: str) -> None:
    voted = play(client)
    r = client.post("/api/battles", json={"prompt": "not voted"})
    unvoted = r.json()["battle_id"]
    for body in ({}, {"reason": ""}, {"reason": "   "}, {"reason": "x" * 501}):
        r = client.post(f"/api/admin/votes/{voted}/exclude", headers=AUTH, json=body)
        assert r.status_code == 422, body
    assert vote_row(database_url, voted).excluded is False
    r = client.post("/api/admin/votes/nope/exclude", headers=AUTH, json={"reason": "spam"})
    assert r.status_code == 404 and "no battle" in r.json()["detail"]
    r = client.post(f"/api/admin/votes/{unvoted}/exclude", headers=AUTH, json={"reason": "spam"})
    assert r.status_code == 409 and "no vote" in r.json()["detail"]
    assert client.get("/api/admin/votes?model=nope", headers=AUTH).status_code == 404
    assert client.get("/api/admin/votes?since=soon", headers=AUTH).status_code == 422


def test_the_export_keeps_excluded_votes_marked(client: httpx.Client) -> None:
    first = play(client, "model_b", "Export me")
    second = play(client, "tie (bothbad)", "And me")
    client.post(f"/api/admin/votes/{second}/exclude", headers=AUTH, json={"reason": "spam"})
    r = client.get("/api/admin/battles.jsonl", headers=AUTH)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/x-ndjson")
    records = [json.loads(line) for line in r.text.splitlines()]
    assert [rec["question_id"] for rec in records] == [first, second]
    one, two = records
    assert {one["model_a"], one["model_b"]} == {"alpha", "beta"} and one["winner"] == "model_b"
    assert one["anony"] is True and isinstance(one["tstamp"], float) and one["turn"] == 1
    assert len(one["judge"]) == 16 and one["judge"] == two["judge"]
    assert (one["excluded"], one["exclude_reason"]) == (False, None)
    assert (two["excluded"], two["exclude_reason"]) == (True, "spam")
    assert one["conversation_a"][0] == {"role": "user", "content": "Export me"}
    assert one["conversation_a"][1]["role"] == "assistant"
    assert one["conversation_b"][1]["content"].startswith("Echo: Export me")
    # Only the counted ones, on request.
    r = client.get("/api/admin/battles.jsonl?include_excluded=false", headers=AUTH)
    assert [json.loads(line)["question_id"] for line in r.text.splitlines()] == [first]


def test_review_through_the_pages(client: httpx.Client, database_url: str) -> None:
    battle = play(client, "model_a", "Spam spam spam")
    csrf = login(client)
    page = client.get("/admin/votes")
    assert page.status_code == 200
    assert "Spam spam spam" in page.text and f'id="vote-{battle}"' in page.text
    assert client.get("/admin/votes?excluded=yes").text.count('class="admin-vote') == 0

    r = client.post(f"/admin/votes/{battle}/exclude", headers=htmx(csrf), data={"reason": "spam"})
    assert r.status_code == 200 and "excluded: spam" in r.text and "Include again" in r.text
    assert vote_row(database_url, battle).excluded is True
    filtered = client.get("/admin/votes?excluded=yes&model=alpha")
    assert f'id="vote-{battle}"' in filtered.text

    r = client.post(f"/admin/votes/{battle}/exclude", headers=htmx(csrf), data={"reason": " "})
    # Refused in place: the vote again, the reason beside its field (not the page's top).
    assert r.status_code == 422 and "hx-retarget" not in r.headers
    assert f'id="vote-{battle}"' in r.text and 'class="field-error"' in r.text

    r = client.post(f"/admin/votes/{battle}/include", data={"csrf_token": csrf})
    assert r.status_code == 303 and r.headers["location"].startswith("/admin/votes")
    assert vote_row(database_url, battle).excluded is False

    export = client.get("/admin/export.jsonl")
    assert export.status_code == 200 and json.loads(export.text)["question_id"] == battle


def test_a_leaked_vote_stays_out_when_included_again(
    client: httpx.Client, database_url: str
) -> None:
    battle = play(client)
    engine = make_engine(database_url)
    with Session(engine) as session:
        row = session.exec(select(Vote).where(Vote.battle_id == battle)).one()
        row.leaked, row.counted = True, False
        session.add(row)
        session.commit()
    engine.dispose()
    flagged = client.get("/api/admin/votes", headers=AUTH, params={"leaked": "true"}).json()
    assert [v["battle_id"] for v in flagged] == [battle]
    client.post(f"/api/admin/votes/{battle}/exclude", headers=AUTH, json={"reason": "x"})
    client.post(f"/api/admin/votes/{battle}/include", headers=AUTH)
    row = vote_row(database_url, battle)
    assert (row.excluded, row.counted) == (False, False)
