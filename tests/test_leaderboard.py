"""The live leaderboard: votes show up, the page's structure, the exports parse back."""

from __future__ import annotations

import csv
import io
import json
import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import insert
from sqlmodel import Session

from arena.store.engine import make_engine, migrate
from arena.store.tables import LeaderboardCache, utcnow
from arena.votes.board import store_payload
from arena.votes.board_options import LeaderboardOptions
from arena.web.app import create_app
from tests.conftest import MODELS, ArenaServer, arena_settings, read_events
from tests.fake_openai import Behavior, FakeOpenAI
from tests.inproc import InProcessArena


def battle_and_vote(
    client: httpx.Client, winner_name: str | None, prompt: str = "hi"
) -> dict[str, Any]:
    """One whole battle through the API; vote for `winner_name` (or tie when None)."""
    r = client.post("/api/battles", json={"prompt": prompt})
    assert r.status_code == 201, r.text
    battle = r.json()["battle_id"]
    read_events(client, f"/api/battles/{battle}/stream")
    if winner_name is None:
        return client.post(f"/api/battles/{battle}/vote", json={"winner": "tie"}).json()
    # Which side holds which model is hidden until the vote: the `labelled` fixture makes each
    # model start its answer with its name, so the test can vote by content, like a voter.
    state = client.get(f"/api/battles/{battle}").json()
    side = "a" if state["turns"][0]["a"]["content"].startswith(winner_name) else "b"
    return client.post(f"/api/battles/{battle}/vote", json={"winner": f"model_{side}"}).json()


def leaderboard(client: httpx.Client, **params: Any) -> dict[str, Any]:
    r = client.get("/api/leaderboard", params=params)
    assert r.status_code == 200, r.text
    return dict(r.json())


def wait_for_battles(client: httpx.Client, n: int, **params: Any) -> dict[str, Any]:
    """The leaderboard once it counts n battles (the contract allows 5 seconds)."""
    deadline = time.monotonic() + 10
    while True:
        data = leaderboard(client, **params)
        if data["total_battles"] >= n or time.monotonic() > deadline:
            return data
        time.sleep(0.2)


@pytest.fixture
def labelled(fake: FakeOpenAI) -> FakeOpenAI:
    """Each model starts its answer with its own arena name, so tests can vote by content."""
    for name, model_id in MODELS.items():
        fake.set_behavior(model_id, Behavior(reply=f"{name}: here is my answer."))
    return fake


def test_votes_reach_the_leaderboard(arena_server: ArenaServer, labelled: FakeOpenAI) -> None:
    with (
        arena_server(count_leaked_votes=True, leaderboard_refresh_seconds=0.5) as srv,
        srv.client() as c,
    ):
        empty = leaderboard(c)
        assert empty["total_battles"] == 0 and empty["models"] == []
        for _ in range(3):
            battle_and_vote(c, "alpha")
        battle_and_vote(c, None)
        data = wait_for_battles(c, 4)
        assert data["total_battles"] == 4
        assert [m["model"] for m in data["models"]] == ["alpha", "beta"]
        alpha, beta = data["models"]
        assert (alpha["wins"], alpha["losses"], alpha["ties"]) == (3, 0, 1)
        assert (beta["wins"], beta["losses"], beta["ties"]) == (0, 3, 1)
        assert alpha["rank"] == 1 and beta["rank"] == 2
        assert alpha["preliminary"] and beta["preliminary"]
        assert data["method"] == "bt" and data["ci"] == "sandwich"
        assert set(data) >= {"generated_at", "total_battles", "style_control", "category", "models"}
        for m in data["models"]:
            assert m["ci_lower"] <= m["rating"] <= m["ci_upper"]
        assert alpha["rating"] + beta["rating"] == pytest.approx(2000, abs=1e-6)


LMSYS_ROWS: list[dict[str, Any]] = [
    {
        "question_id": f"q{i}",
        "model_a": a,
        "model_b": b,
        "winner": w,
        "anony": True,
        "tstamp": 1_700_000_000 + i,
        "judge": f"arena_user_{i % 7}",
        "language": "English",
        "turn": 1,
        "unknown_key": {"nested": [1, 2]},
        "conversation_a": [
            {"role": "user", "content": f"question {i}"},
            {"role": "assistant", "content": "## Title\n- one\n- **two**"},
        ],
        "conversation_b": [
            {"role": "user", "content": f"question {i}"},
            {"role": "assistant", "content": "plain answer"},
        ],
        "conv_metadata": {
            "sum_assistant_a_tokens": 40,
            "sum_assistant_b_tokens": 10,
            "header_count_a": {"h1": 0, "h2": 1, "h3": 0, "h4": 0, "h5": 0, "h6": 0},
            "header_count_b": {"h1": 0, "h2": 0, "h3": 0, "h4": 0, "h5": 0, "h6": 0},
            "list_count_a": {"ordered": 0, "unordered": 2},
            "list_count_b": {"ordered": 0, "unordered": 0},
            "bold_count_a": {"**": 1, "__": 0},
            "bold_count_b": {"**": 0, "__": 0},
        },
    }
    for i, (a, b, w) in enumerate(
        [
            ("gpt-x", "qwen-y", "model_a"),
            ("qwen-y", "gpt-x", "model_b"),
            ("gpt-x", "llama-z", "tie"),
            ("llama-z", "qwen-y", "tie (bothbad)"),
            ("qwen-y", "llama-z", "model_a"),
            ("gpt-x", "llama-z", "model_a"),
            ("llama-z", "gpt-x", "model_a"),
            ("qwen-y", "gpt-x", "model_a"),
        ]
        * 5
    )
]


def write_jsonl(path: Any, rows: list[Any]) -> Any:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_lmsys_file_imports_and_ranks(arena_server: ArenaServer, tmp_path: Any) -> None:
    from arena.admin.battlefiles import import_battles
    from ratings import compute_leaderboard, load_battles

    rows = [*LMSYS_ROWS, {**LMSYS_ROWS[0], "question_id": "private", "anony": False}]
    for path in (write_jsonl(tmp_path / "b.jsonl", rows), tmp_path / "b.json"):
        if path.suffix == ".json":
            path.write_text(json.dumps(rows))
        with arena_server(leaderboard_refresh_seconds=0.2) as srv, srv.client() as c:
            report = import_battles(srv.app.state.arena.engine, path)
            # The second file holds the same battles: all of them are duplicates then.
            assert (report.imported, report.duplicates, report.rejected) in (
                (41, 0, []),
                (0, 41, []),
            )
            assert report.total == 41
            data = wait_for_battles(c, 40)
        expected = compute_leaderboard(load_battles(path).battles, min_battles=30)
        assert data["total_battles"] == expected.total_battles == 40
        got = {m["model"]: m["rating"] for m in data["models"]}
        for m in expected.models:
            assert got[m.model] == pytest.approx(m.rating, abs=1e-6)


@pytest.fixture(scope="module")
def seeded_arena(
    module_database_url: str, upstream: FakeOpenAI, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[InProcessArena]:
    """One arena holding the LMSYS-style battles above, for the tests that only read it."""
    from arena.admin.battlefiles import import_battles

    tmp = tmp_path_factory.mktemp("seeded")
    settings = arena_settings(
        tmp,
        upstream.base_url,
        database_url=module_database_url,
        min_battles=15,
        leaderboard_refresh_seconds=0.2,
    )
    with InProcessArena(create_app(settings)) as srv, srv.client() as c:
        import_battles(srv.app.state.arena.engine, write_jsonl(tmp / "seed.jsonl", LMSYS_ROWS))
        wait_for_battles(c, 40)
        yield srv


@pytest.fixture
def seeded(seeded_arena: InProcessArena) -> Iterator[httpx.Client]:
    """A visitor of the arena holding the LMSYS-style battles above."""
    with seeded_arena.client() as c:
        yield c


def test_page_structure(seeded: httpx.Client) -> None:
    page = seeded.get("/leaderboard")
    assert page.status_code == 200
    html = page.text
    data = leaderboard(seeded)
    rows = re.findall(r'<tr data-model="([^"]+)" class="status-(\w+)">', html)
    # Imported models have no endpoint: shown by default, marked as imported.
    assert [r[0] for r in rows] == [m["model"] for m in data["models"]]
    assert {r[1] for r in rows} == {"imported"}
    assert "imported, no endpoint" in html
    for m in data["models"]:
        up, down = round(m["ci_upper"] - m["rating"]), round(m["rating"] - m["ci_lower"])
        assert f"+{up} / −{down}" in html
    # Every model here has at least 25 battles, over the fixture's minimum of 15.
    assert "badge prelim" not in html
    assert 'name="style_control"' in html and 'name="category"' in html and 'name="show"' in html
    assert html.count('<rect class="cell"') == 2 * 3 * 2  # two heatmaps, 3×2 off-diagonal cells
    assert "<title>gpt-x vs qwen-y: wins" in html
    assert 'class="chart intervals"' in html
    # Sorting by a column, and the htmx partial alone.
    by_battles = seeded.get("/leaderboard", params={"show": "all", "sort": "model", "dir": "desc"})
    names = re.findall(r'<tr data-model="([^"]+)"', by_battles.text)
    assert names == sorted(names, reverse=True)
    partial = seeded.get("/leaderboard", params={"show": "all"}, headers={"HX-Request": "true"})
    assert partial.text.lstrip().startswith('<div id="board"') and "<html" not in partial.text


def test_preliminary_badge(arena_server: ArenaServer, tmp_path: Any) -> None:
    from arena.admin.battlefiles import import_battles

    # gpt-x has 30 battles, the other two 25 each.
    with arena_server(min_battles=26, leaderboard_refresh_seconds=0.2) as srv, srv.client() as c:
        import_battles(srv.app.state.arena.engine, write_jsonl(tmp_path / "seed.jsonl", LMSYS_ROWS))
        data = wait_for_battles(c, 40)
        html = c.get("/leaderboard", params={"show": "all"}).text
    prelim = {m["model"] for m in data["models"] if m["preliminary"]}
    assert prelim == {"qwen-y", "llama-z"}
    assert html.count("badge prelim") == len(prelim)


def test_exports_parse_back(seeded: httpx.Client) -> None:
    data = leaderboard(seeded)
    as_json = seeded.get("/leaderboard.json")
    assert "attachment" in as_json.headers["content-disposition"]
    assert as_json.json()["models"] == data["models"]
    rows = list(csv.DictReader(io.StringIO(seeded.get("/leaderboard.csv").text)))
    api_csv = list(
        csv.DictReader(io.StringIO(seeded.get("/api/leaderboard", params={"format": "csv"}).text))
    )
    assert rows == api_csv
    md = seeded.get("/leaderboard.md").text.strip().splitlines()
    header = [c.strip() for c in md[0].strip("|").split("|")]
    assert header == list(rows[0].keys())
    assert len(md) == 2 + len(data["models"])
    for row, md_line, m in zip(rows, md[2:], data["models"], strict=True):
        cells = [c.strip() for c in md_line.strip("|").split("|")]
        assert cells == list(row.values())
        assert row["model"] == m["model"]
        assert float(row["rating"]) == pytest.approx(m["rating"], abs=0.005)
        assert float(row["ci_lower"]) == pytest.approx(m["ci_lower"], abs=0.005)
        assert float(row["ci_upper"]) == pytest.approx(m["ci_upper"], abs=0.005)
        for key in ("rank", "rank_ub", "battles", "wins", "losses", "ties"):
            assert int(row[key]) == m[key]
        assert float(row["win_rate"]) == pytest.approx(m["win_rate"], abs=5e-5)
        assert row["preliminary"] == str(m["preliminary"]).lower()


def test_toggles_change_the_fit(seeded: httpx.Client) -> None:
    styled = leaderboard(seeded, style_control="true")
    assert styled["style_control"] is True
    assert set(styled["style_coefficients"]) >= {"tokens", "headers", "lists", "bold"}
    # Category "english": every imported row says language English.
    english = leaderboard(seeded, category="english")
    assert english["category"] == "english" and english["total_battles"] == 40
    code = leaderboard(seeded, category="code")
    assert code["total_battles"] == 0 and code["models"] == []
    r = seeded.get("/api/leaderboard", params={"category": "klingon"})
    assert r.status_code == 422 and "klingon" in r.json()["detail"]
    html = seeded.get("/leaderboard", params={"category": "code"}).text
    assert "No votes yet in this category" in html


def test_export_import_round_trip(
    arena_server: ArenaServer, labelled: FakeOpenAI, tmp_path: Any, database_url: str
) -> None:
    """Export from one arena, import into an empty one: the same leaderboard."""
    import contextlib

    from arena.admin.battlefiles import export_battles, import_battles
    from tests.databases import postgres_database

    winners = ["alpha", "alpha", "beta", None, "alpha", "beta", "alpha"]
    with (
        arena_server(count_leaked_votes=True) as first,
        first.client() as c,
    ):
        for w in winners:
            battle_and_vote(c, w, prompt=f"Question about {w} with ```code```")
        admin = {"Authorization": "Bearer test-admin-token-0123"}
        one = c.get("/api/admin/votes", headers=admin).json()[0]["battle_id"]
        r = c.post(f"/api/admin/votes/{one}/exclude", json={"reason": "spam"}, headers=admin)
        assert r.status_code == 200, r.text
        before = {
            opt: wait_for_battles(c, len(winners) - 1, style_control=opt)
            for opt in ("false", "true")
        }
        dump = tmp_path / "export.jsonl"
        with dump.open("w") as out:
            assert export_battles(
                first.app.state.arena.engine, out, secret="test-secret-key-0123456789abcdef0123"
            ) == len(winners)
    records = [json.loads(line) for line in dump.read_text().splitlines()]
    assert sum(r["excluded"] for r in records) == 1
    assert all(r["conv_metadata"]["sum_assistant_a_tokens"] > 0 for r in records)
    assert all(len(r["judge"]) == 16 for r in records)  # hashed, not the voter id
    second_db = contextlib.ExitStack()
    with second_db:
        if database_url.startswith("sqlite"):
            url = f"sqlite:///{tmp_path / 'second.db'}"
        else:
            url = second_db.enter_context(postgres_database())
        with (
            arena_server(database_url=url, leaderboard_refresh_seconds=0.2) as second,
            second.client() as c,
        ):
            report = import_battles(second.app.state.arena.engine, dump)
            assert (report.imported, report.rejected) == (len(winners), [])
            for opt in ("false", "true"):
                after = wait_for_battles(c, len(winners) - 1, style_control=opt)
                assert after["total_battles"] == before[opt]["total_battles"]
                got = {m["model"]: m for m in after["models"]}
                for m in before[opt]["models"]:
                    for key in ("rating", "ci_lower", "ci_upper"):
                        assert got[m["model"]][key] == pytest.approx(m[key], abs=1e-6)
                    for key in ("rank", "rank_ub", "battles", "wins", "losses", "ties"):
                        assert got[m["model"]][key] == m[key]
            # Importing the same file again adds nothing.
            again = import_battles(second.app.state.arena.engine, dump)
            assert (again.imported, again.duplicates) == (0, len(winners))


def test_bad_import_files(arena_server: ArenaServer, tmp_path: Any) -> None:
    from arena.admin.battlefiles import import_battles

    good = {"model_a": "x", "model_b": "y", "winner": "model_a"}
    lines = [
        json.dumps(good),
        json.dumps({**good, "winner": "model_c"}),
        json.dumps({**good, "model_b": "x"}),
        json.dumps({"model_a": "x", "winner": "tie"}),
        "{not json",
        json.dumps({**good, "tstamp": "yesterday"}),
        json.dumps({**good, "conversation_a": "not a list"}),
        json.dumps(good)[:-5],  # truncated last line, no newline
    ]
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines))
    with arena_server() as srv, srv.client() as c:
        strict = import_battles(srv.app.state.arena.engine, path, strict=True)
        assert strict.imported == 0
        assert [n for n, _ in strict.rejected] == [2]  # --strict stops at the first bad line
        assert leaderboard(c)["total_battles"] == 0  # nothing half-imported
        report = import_battles(srv.app.state.arena.engine, path)
        reasons = dict(report.rejected)
        assert report.imported == 1
        assert "unknown winner" in reasons[2] and "model_a equals model_b" in reasons[3]
        assert "missing field 'model_b'" in reasons[4] and "malformed JSON" in reasons[5]
        assert "tstamp" in reasons[6] and "conversation_a" in reasons[7]
        assert "truncated" in reasons[8]
        array = tmp_path / "bad.json"
        array.write_text('[{"model_a": "x", "model_b": "y", "winner": "tie"}, {"model_a": ')
        truncated = import_battles(srv.app.state.arena.engine, array)
        assert truncated.imported == 1 and "truncated" in truncated.rejected[0][1]


def test_an_entry_stored_twice_at_once(database_url: str) -> None:
    """A first page view and a worker's refresher may both store the same new entry: neither
    fails (CI once saw a 503 from the second insert), and the entry of the newer votes wins."""
    engine = make_engine(database_url)
    migrate(engine)
    key = LeaderboardOptions(category="coding").key()
    now = utcnow()
    first = {"key": key, "payload": '{"by": "first"}', "computed_at": now, "last_requested_at": now}
    try:
        with engine.connect() as other, ThreadPoolExecutor(1) as pool:
            tx = other.begin()
            other.execute(insert(LeaderboardCache).values(version=2, **first))
            # Not committed yet: a store of the same key now waits on that row (or the write lock).
            late = pool.submit(store_payload, engine, key, 1, {"by": "second"})
            time.sleep(0.5)
            tx.commit()
            late.result(timeout=30)
        with Session(engine) as s:
            row = s.get(LeaderboardCache, key)
            assert row is not None and (row.version, row.payload) == (2, '{"by": "first"}')
            row.computing_until = now + timedelta(minutes=2)
            s.add(row)
            s.commit()
        store_payload(engine, key, 3, {"by": "third"})
        with Session(engine) as s:
            row = s.get(LeaderboardCache, key)
            assert row is not None
            assert (row.version, json.loads(row.payload)) == (3, {"by": "third"})
            assert row.computing_until is None  # the lease ends with the store
    finally:
        engine.dispose()
