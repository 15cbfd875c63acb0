"""Prices, speed and cost: exact costs from the upstream's usage, estimates marked, no price is
null (not zero), nothing before the vote, and the daily budget (on SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import tomli_w
from sqlalchemy import update
from sqlmodel import Session, col, select

from arena.store.endpoints import drawable_endpoints
from arena.store.spend import Usage, apply_budgets, next_midnight, record_spend
from arena.store.tables import Answer, Endpoint, Spend, utcnow
from arena.upstream.tokens import estimate_tokens
from tests.admin_client import AUTH
from tests.conftest import MODELS, read_events
from tests.fake_openai import Behavior, FakeOpenAI
from tests.inproc import InProcessArena

ALPHA = {"input_price": 2.0, "output_price": 8.0}  # per million tokens
PROMPT_TOKENS, COMPLETION_TOKENS = 1000, 500
# (1000 × 2 + 500 × 8) / 1e6: what one answer of alpha costs.
ALPHA_ANSWER_COST = 0.006


def models_file(path: Path, base_url: str, entries: dict[str, dict[str, Any]]) -> Path:
    """A models.toml of these names, each with its own extra fields (prices, budgets)."""
    rows = [
        {"name": name, "base_url": base_url, "model": MODELS.get(name, f"upstream-{name}"), **extra}
        for name, extra in entries.items()
    ]
    path.write_text(tomli_w.dumps({"models": rows}))
    return path


Start = Callable[..., AbstractContextManager[InProcessArena]]


@pytest.fixture
def priced(arena_server: Start, fake: FakeOpenAI, tmp_path: Path) -> Iterator[InProcessArena]:
    """An arena where alpha has prices and beta none; the upstream reports known usage."""
    for upstream_id in MODELS.values():
        fake.set_behavior(
            upstream_id,
            Behavior(prompt_tokens=PROMPT_TOKENS, completion_tokens=COMPLETION_TOKENS),
        )
    path = models_file(tmp_path / "priced.toml", fake.base_url, {"alpha": ALPHA, "beta": {}})
    with arena_server(models=path, min_battles=0) as srv:
        yield srv


def start(client: httpx.Client, prompt: str = "What is 2+2?") -> str:
    r = client.post("/api/battles", json={"prompt": prompt})
    assert r.status_code == 201, r.text
    return str(r.json()["battle_id"])


def vote(client: httpx.Client, battle: str, winner: str = "model_a") -> dict[str, Any]:
    r = client.post(f"/api/battles/{battle}/vote", json={"winner": winner})
    assert r.status_code == 200, r.text
    return dict(r.json())


def board(client: httpx.Client, battles: int, **params: str) -> dict[str, Any]:
    """The leaderboard once it counts `battles` battles (the refresher catches up in seconds)."""
    deadline = time.monotonic() + 20
    while True:
        data = client.get("/api/leaderboard", params=params).json()
        if data["total_battles"] == battles or time.monotonic() > deadline:
            assert data["total_battles"] == battles, data
            return dict(data)
        time.sleep(0.2)


def test_costs_are_exact_from_the_upstream_usage(priced: InProcessArena) -> None:
    with priced.client() as client:
        battle = start(client)
        read_events(client, f"/api/battles/{battle}/stream")
        reveal = vote(client, battle)
        by_model = {
            reveal["model_a"]: reveal["figures"]["a"],
            reveal["model_b"]: reveal["figures"]["b"],
        }
        assert by_model["alpha"]["cost"] == pytest.approx(ALPHA_ANSWER_COST, rel=1e-12)
        assert by_model["alpha"]["prompt_tokens"] == PROMPT_TOKENS
        assert by_model["alpha"]["completion_tokens"] == COMPLETION_TOKENS
        assert by_model["alpha"]["tokens_estimated"] is False
        assert by_model["beta"]["cost"] is None  # no price: unknown, not free
        assert by_model["alpha"]["ttft_ms"] > 0

        # A second battle: two answers each, the board's cost per 1,000 battles is exact.
        battle = start(client, "And 3+3?")
        read_events(client, f"/api/battles/{battle}/stream")
        vote(client, battle, "tie")
        data = board(client, 2)
        rows = {m["model"]: m for m in data["models"]}
        assert data["currency"] == "USD"
        assert rows["alpha"]["cost_per_1k_battles"] == pytest.approx(1000 * ALPHA_ANSWER_COST)
        assert rows["alpha"]["answers"] == 2
        assert rows["alpha"]["answer_tokens_p50"] == COMPLETION_TOKENS
        assert rows["alpha"]["ttft_p50_ms"] > 0
        assert rows["beta"]["cost_per_1k_battles"] is None
        assert rows["beta"]["answers"] == 2

        # CSV and Markdown carry the same columns, blank (not 0) without a price.
        text = client.get("/api/leaderboard", params={"format": "csv"}).text
        table = {r["model"]: r for r in csv.DictReader(io.StringIO(text))}
        assert float(table["alpha"]["cost_per_1k_battles"]) == pytest.approx(6.0)
        assert table["beta"]["cost_per_1k_battles"] == ""
        assert table["alpha"]["answers"] == "2"
        md = client.get("/api/leaderboard", params={"format": "markdown"}).text
        assert "cost_per_1k_battles" in md.splitlines()[0]

        # The admin's spend view: today's tokens and cost per model.
        spend = client.get("/api/admin/spend", headers=AUTH).json()
        days = {d["model"]: d for d in spend["days"]}
        assert days["alpha"]["answers"] == 2
        assert days["alpha"]["prompt_tokens"] == 2 * PROMPT_TOKENS
        assert days["alpha"]["completion_tokens"] == 2 * COMPLETION_TOKENS
        assert days["alpha"]["cost"] == pytest.approx(2 * ALPHA_ANSWER_COST)
        assert days["beta"]["cost"] is None and days["beta"]["answers"] == 2

        # The page shows the columns and the frontier pictures.
        page = client.get("/leaderboard").text
        assert "Cost/1k" in page and "$6.00" in page
        assert 'class="chart frontier cost"' in page and 'class="chart frontier speed"' in page


def test_a_server_without_usage_gives_estimated_counts(
    priced: InProcessArena, fake: FakeOpenAI
) -> None:
    reply = "你好世界 and some more words"  # 4 CJK characters, 20 others: 4 + 5 tokens
    assert estimate_tokens(reply) == 9
    fake.set_behavior(MODELS["alpha"], Behavior(reply=reply, no_usage=True))
    with priced.client() as client:
        battle = start(client, "Say hello")
        read_events(client, f"/api/battles/{battle}/stream")
        reveal = vote(client, battle)
        side = "a" if reveal["model_a"] == "alpha" else "b"
        figures = reveal["figures"][side]
        assert figures["tokens_estimated"] is True
        assert figures["completion_tokens"] == 9
        assert figures["prompt_tokens"] == estimate_tokens("Say hello")
        other = reveal["figures"]["b" if side == "a" else "a"]
        assert other["tokens_estimated"] is False  # beta's server reported usage
        rows = {m["model"]: m for m in board(client, 1)["models"]}
        assert rows["alpha"]["tokens_estimated"] is True
        assert rows["alpha"]["answer_tokens_p50"] == 9
    with Session(priced.app.state.arena.engine) as s:
        answers = s.exec(select(Answer)).all()
        assert sorted(a.tokens_estimated for a in answers) == [False, True]


# What would give a model away before the vote: any of the figures' keys or their rendering.
# (The page holds an empty `id="figures-a"` under each name, filled only by the reveal.)
LEAKS = ('"figures"', "data-figures", "ttft", "total_ms", "_tokens", "cost", "0.006", "first token")


def test_nothing_of_it_before_the_vote(priced: InProcessArena) -> None:
    with priced.client() as client:
        created = client.post("/api/battles", json={"prompt": "What is 2+2?"})
        battle = created.json()["battle_id"]
        seen = [created.text]
        with client.stream("GET", f"/api/battles/{battle}/stream") as r:
            seen.append(r.read().decode())
        seen.append(client.get(f"/api/battles/{battle}").text)
        page = client.get(f"/battles/{battle}")
        seen.append(page.text)
        with client.stream("GET", f"/battles/{battle}/events") as r:
            seen.append(r.read().decode())
        for body in seen:
            for leak in LEAKS:
                assert leak not in body.replace("csrf_token", ""), (leak, body[:300])
        assert "data-figures=" not in page.text
        assert '<p class="side-figures" id="figures-a"></p>' in page.text  # empty until then

        reveal = vote(client, battle)
        assert reveal["figures"]["a"]["ttft_ms"] is not None
        after = client.get(f"/api/battles/{battle}").json()
        assert set(after["figures"]) == {"a", "b"}
        assert 'data-figures="a"' in client.get(f"/battles/{battle}").text


def test_the_reveal_fragment_shows_cost_and_time(priced: InProcessArena) -> None:
    from tests.admin_client import csrf_in

    with priced.client() as client:
        home = client.get("/")
        csrf = csrf_in(home.text)
        battle = start(client)
        read_events(client, f"/api/battles/{battle}/stream")
        r = client.post(
            f"/battles/{battle}/vote",
            data={"winner": "model_a", "csrf_token": csrf},
            headers={"HX-Request": "true"},
        )
        assert r.status_code == 200, r.text
        assert r.text.count("data-figures=") == 2
        assert "$0.00600" in r.text and "no price" in r.text
        assert "first token" in r.text


def test_the_budget_stops_drawing_and_resets_the_next_day(
    arena_server: Start, fake: FakeOpenAI, tmp_path: Path
) -> None:
    for upstream_id in (*MODELS.values(), "upstream-gamma"):
        fake.set_behavior(
            upstream_id,
            Behavior(prompt_tokens=PROMPT_TOKENS, completion_tokens=COMPLETION_TOKENS),
        )
    # Below one answer of alpha: the first battle it is in spends its budget.
    entries = {"alpha": {**ALPHA, "daily_budget": 0.005}, "beta": ALPHA}
    path = models_file(tmp_path / "budget.toml", fake.base_url, entries)
    with arena_server(models=path, min_battles=0) as srv, srv.client() as client:
        engine = srv.app.state.arena.engine
        battle = start(client)
        read_events(client, f"/api/battles/{battle}/stream")
        assert {vote(client, battle)["model_a"], "beta"} <= {"alpha", "beta"}
        alpha = client.get("/api/admin/models/alpha", headers=AUTH).json()
        assert alpha["state"] == "over-budget"
        assert alpha["budget"]["over"] is True
        midnight = next_midnight(utcnow())
        assert alpha["budget"]["until"] == midnight.isoformat()
        spend = client.get("/api/admin/spend", headers=AUTH).json()
        states = {m["model"]: m for m in spend["models"]}
        assert states["alpha"]["over_budget"] and states["alpha"]["spent_today"] == pytest.approx(
            ALPHA_ANSWER_COST
        )
        assert not states["beta"]["over_budget"]

        # Not drawn any more: with gamma added, every battle is beta against gamma.
        r = client.post(
            "/api/admin/models",
            headers=AUTH,
            json={"name": "gamma", "base_url": fake.base_url, "model": "upstream-gamma"},
        )
        assert r.status_code == 201, r.text
        for _ in range(4):
            battle = start(client)
            read_events(client, f"/api/battles/{battle}/stream")
            reveal = vote(client, battle, "tie")
            assert {reveal["model_a"], reveal["model_b"]} == {"beta", "gamma"}

        # The next UTC day it is drawn again, and one answer does not stop it at once.
        with Session(engine) as s:
            assert "alpha" not in {e.name for e in drawable_endpoints(s)}
            tomorrow = midnight + timedelta(seconds=1)
            assert "alpha" in {e.name for e in drawable_endpoints(s, now=tomorrow)}
            alpha_id = s.exec(select(Endpoint.id).where(Endpoint.name == "alpha")).one()
        with engine.begin() as conn:
            apply_budgets(conn, [alpha_id], tomorrow)  # a new day: nothing spent yet
            record_spend(conn, [Usage(alpha_id, 100, 100)], tomorrow)  # 0.001 < 0.005
        with Session(engine) as s:
            again = s.get(Endpoint, alpha_id)
            assert again is not None and again.over_budget_until is None
            days = s.exec(select(Spend).where(Spend.endpoint_id == alpha_id)).all()
            assert sorted(d.day for d in days) == [utcnow().date(), tomorrow.date()]

        # End to end: once the stop has passed (as it does at midnight), battles draw it again.
        with engine.begin() as conn:
            conn.execute(
                update(Endpoint)
                .where(col(Endpoint.id) == alpha_id)
                .values(over_budget_until=utcnow() - timedelta(seconds=1))
            )
        drawn: set[str] = set()
        for _ in range(12):
            battle = start(client)
            read_events(client, f"/api/battles/{battle}/stream")
            reveal = vote(client, battle, "tie")
            drawn |= {reveal["model_a"], reveal["model_b"]}
            if "alpha" in drawn:
                break
        assert "alpha" in drawn


def test_raising_the_budget_today_lets_it_be_drawn_again(
    priced: InProcessArena, fake: FakeOpenAI
) -> None:
    with priced.client() as client:
        r = client.patch("/api/admin/models/alpha", headers=AUTH, json={"daily_budget": 0.001})
        assert r.status_code == 200, r.text
        battle = start(client)
        read_events(client, f"/api/battles/{battle}/stream")
        vote(client, battle)
        assert client.get("/api/admin/models/alpha", headers=AUTH).json()["budget"]["over"]
        r = client.patch("/api/admin/models/alpha", headers=AUTH, json={"daily_budget": 1.0})
        assert r.json()["budget"]["over"] is False and r.json()["state"] == "enabled"
        for bad in ({"input_price": -1}, {"daily_budget": 0}, {"output_price": "free"}):
            r = client.patch("/api/admin/models/alpha", headers=AUTH, json=bad)
            assert r.status_code == 422, (bad, r.text)
        assert json.loads(r.text)["detail"]


def test_the_cli_sets_prices_and_exports_the_columns(
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    fake: FakeOpenAI,
) -> None:
    from arena.cli.main import main
    from arena.store.engine import make_engine, migrate

    monkeypatch.setenv("ARENA_DATABASE_URL", database_url)
    monkeypatch.setenv("ARENA_CONFIG", str(tmp_path / "none.toml"))
    engine = make_engine(database_url)
    migrate(engine)
    add = ["models", "add", "local", "--base-url", fake.base_url, "--model", "m1"]
    assert main([*add, "--input-price", "0.4"]) == 0
    assert main(["models", "set", "local", "--output-price", "1.2", "--daily-budget", "5"]) == 0
    with Session(engine) as s:
        row = s.exec(select(Endpoint).where(Endpoint.name == "local")).one()
        assert (row.input_price, row.output_price, row.daily_budget) == (0.4, 1.2, 5.0)
    engine.dispose()
    assert main(["models", "set", "local", "--input-price", "-1"]) != 0
    capsys.readouterr()
    assert main(["leaderboard", "--format", "csv"]) == 0
    header = capsys.readouterr().out.splitlines()[0].split(",")
    assert header[-5:] == [
        "ttft_p50_ms",
        "tokens_per_s_p50",
        "answer_tokens_p50",
        "cost_per_1k_battles",
        "answers",
    ]


def test_the_admin_spend_page(priced: InProcessArena) -> None:
    from tests.admin_client import login

    with priced.client() as client:
        battle = start(client)
        read_events(client, f"/api/battles/{battle}/stream")
        vote(client, battle)
        assert client.get("/admin/spend").status_code in (303, 401)  # not signed in
        login(client)
        page = client.get("/admin/spend")
        assert page.status_code == 200, page.text
        assert "$0.00600" in page.text  # alpha's one answer today
        assert "no price" in page.text  # beta's
        assert 'href="/admin/spend"' in client.get("/admin").text
        assert client.get("/admin/spend", params={"days": 0}).status_code == 422
