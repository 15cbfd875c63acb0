"""Concurrency and scale-out: one vote per battle under a race, short transactions, and two arena
processes on one PostgreSQL database serving the same battle."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from arena.store.engine import make_engine
from arena.store.tables import Endpoint, Meta, Vote
from tests.arena_process import ArenaProcess
from tests.conftest import MODELS, ArenaServer, answers, database_for, read_events, write_models
from tests.fake_openai import Behavior, FakeOpenAI, default_reply
from tests.inproc import RunningArena

SECRET = "a-secret-key-shared-by-all-workers-0123456789"


def ready_battle(client: httpx.Client, prompt: str = "Why is the sky blue?") -> str:
    r = client.post("/api/battles", json={"prompt": prompt})
    assert r.status_code == 201, r.text
    battle = str(r.json()["battle_id"])
    assert read_events(client, f"/api/battles/{battle}/stream")[-1][0] == "end"
    return battle


def vote_count(engine: Engine, battle_id: str) -> int:
    with Session(engine) as s:
        return int(s.exec(select(func.count()).where(Vote.battle_id == battle_id)).one())


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    eng = make_engine(database_url)
    yield eng
    eng.dispose()


def test_simultaneous_votes_on_one_battle_count_once(
    client: httpx.Client, arena: RunningArena, engine: Engine
) -> None:
    """Four requests vote on the same battle at the same instant: one 200, three 409, one row."""
    for _ in range(5):
        battle = ready_battle(client)
        barrier = threading.Barrier(4)
        statuses: list[int] = []

        def vote(battle: str, winner: str, barrier: threading.Barrier, out: list[int]) -> None:
            with arena.client(cookies=client.cookies) as c:
                barrier.wait()
                r = c.post(f"/api/battles/{battle}/vote", json={"winner": winner})
                out.append(r.status_code)

        threads = [
            threading.Thread(target=vote, args=(battle, w, barrier, statuses))
            for w in ("model_a", "model_b", "tie", "tie (bothbad)")
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert sorted(statuses) == [200, 409, 409, 409]
        assert vote_count(engine, battle) == 1
        state = client.get(f"/api/battles/{battle}").json()
        assert state["status"] == "voted" and state["model_a"] in MODELS


def test_no_transaction_is_held_while_upstreams_stream(
    arena_server: ArenaServer, fake: FakeOpenAI
) -> None:
    """Generation holds a database connection only for its short saves, never across a stream:
    with every upstream stalled mid-answer the pool is (at least at times) fully idle."""
    fake.set_default(Behavior(stall_after=3))
    with arena_server(stall_timeout=30) as srv, srv.client() as c:
        battles = [c.post("/api/battles", json={"prompt": f"q{i}"}).json() for i in range(4)]
        assert all("battle_id" in b for b in battles)
        fake.wait_for(
            lambda: sum(r.outcome == "stalled" for r in fake.chat_requests) == 8, timeout=20
        )
        engine = srv.app.state.arena.engine
        held = []
        for _ in range(40):
            held.append(engine.pool.checkedout())
            time.sleep(0.01)
        # Eight open upstream streams, and not one connection kept for them.
        assert min(held) == 0, held
        # Meanwhile votes, new battles and reads go through at once.
        assert c.get("/api/health").status_code == 200
        assert c.post("/api/battles", json={"prompt": "another"}).status_code == 201


@pytest.fixture(scope="module")
def two_workers(
    upstream: FakeOpenAI, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ArenaProcess, ArenaProcess]]:
    """Two arena processes on one PostgreSQL database, started (and migrating) at once; shared by
    the tests of this module that need them (each starts battles of its own)."""
    tmp = tmp_path_factory.mktemp("two-workers")
    with contextmanager(database_for)("postgresql", tmp) as pg_url:
        yield from _two_workers(pg_url, upstream, tmp)


def _two_workers(
    pg_url: str, upstream: FakeOpenAI, tmp: Path
) -> Iterator[tuple[ArenaProcess, ArenaProcess]]:
    env = {
        "ARENA_DATABASE_URL": pg_url,
        "ARENA_SECRET_KEY": SECRET,
        "ARENA_MODELS": str(write_models(tmp / "models.toml", upstream.base_url)),
        "ARENA_PERSIST_INTERVAL": "0.1",
        "ARENA_UPSTREAM_RETRIES": "0",
        "ARENA_HTMX_SOURCE": "local",
    }
    w1, w2 = ArenaProcess(env), ArenaProcess(env)
    try:
        for w in (w1.spawn(), w2.spawn()):
            w.wait_ready()
        yield w1, w2
    finally:
        w1.stop()
        w2.stop()


def test_two_workers_share_one_battle(
    two_workers: tuple[ArenaProcess, ArenaProcess], fake: FakeOpenAI
) -> None:
    """A battle created on worker 1 streams on worker 2 (replayed from the database while worker 1
    generates it) and is voted on worker 1: no state lives only in a process."""
    fake.set_default(Behavior(token_delay=0.02))
    w1, w2 = two_workers
    # One cookie jar for both: the voter cookie belongs to 127.0.0.1, whatever the port.
    with httpx.Client(timeout=30) as voter:
        prompt = "Compare rivers and canals"
        r = voter.post(f"{w1.url}/api/battles", json={"prompt": prompt})
        assert r.status_code == 201, r.text
        battle = r.json()["battle_id"]

        live = read_events(voter, f"{w2.url}/api/battles/{battle}/stream")
        assert live[-1] == ("end", json.dumps({"status": "ready"}))
        expected = default_reply([{"role": "user", "content": prompt}])
        assert answers(live) == {"a": expected, "b": expected}

        replay = read_events(voter, f"{w2.url}/api/battles/{battle}/stream")
        assert answers(replay) == answers(live)
        state = voter.get(f"{w2.url}/api/battles/{battle}").json()
        assert state["status"] == "ready"
        assert state["turns"][0]["a"]["content"] == expected
        # Exactly one generation for the battle across both workers.
        asked = [r for r in fake.chat_requests if (r.messages or [{}])[-1].get("content") == prompt]
        assert len(asked) == 2

        vote = voter.post(f"{w1.url}/api/battles/{battle}/vote", json={"winner": "tie"})
        assert vote.status_code == 200, vote.text
        again = voter.post(f"{w2.url}/api/battles/{battle}/vote", json={"winner": "tie"})
        assert again.status_code == 409
        seen = voter.get(f"{w2.url}/api/battles/{battle}").json()
        assert seen["status"] == "voted"
        assert {seen["model_a"], seen["model_b"]} == set(MODELS)


def test_stop_asked_on_another_worker(
    two_workers: tuple[ArenaProcess, ArenaProcess], fake: FakeOpenAI
) -> None:
    """A stop that reaches the worker not generating the turn still closes both upstream
    requests: the generating worker sees it when it next saves its live turns."""
    long_reply = " ".join(f"word{i}" for i in range(400))
    fake.set_default(Behavior(token_delay=0.05, reply=long_reply))  # 20 s per answer
    w1, w2 = two_workers
    with httpx.Client(timeout=30) as voter:
        r = voter.post(f"{w1.url}/api/battles", json={"prompt": "Tell a long story"})
        assert r.status_code == 201, r.text
        battle = r.json()["battle_id"]
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:  # wait until worker 2 sees text from both sides
            turn = voter.get(f"{w2.url}/api/battles/{battle}").json()["turns"][0]
            if turn["a"]["content"] and turn["b"]["content"]:
                break
            time.sleep(0.05)
        stop = voter.post(f"{w2.url}/api/battles/{battle}/stop", json={})
        assert stop.status_code == 200, stop.text

        events = read_events(voter, f"{w2.url}/api/battles/{battle}/stream")
        assert events[-1] == ("end", json.dumps({"status": "ready"}))
        text = answers(events)
        for side in "ab":  # kept as finished, and cut short
            assert text[side].startswith("word0 ") and len(text[side]) < len(long_reply)
        assert {rec.outcome for rec in fake.chat_requests} == {"disconnected"}
        vote = voter.post(f"{w1.url}/api/battles/{battle}/vote", json={"winner": "tie"})
        assert vote.status_code == 200, vote.text


def test_workers_starting_together_on_an_empty_database(
    database_url: str, fake: FakeOpenAI, tmp_path: Path
) -> None:
    """Three workers start at once on an empty database: one schema, one seeding, one secret."""
    models = write_models(tmp_path / "models.toml", fake.base_url)
    env = {"ARENA_DATABASE_URL": database_url, "ARENA_MODELS": str(models)}
    servers = [ArenaProcess(env) for _ in range(3)]
    try:
        for srv in servers:
            srv.spawn()
        for srv in servers:
            srv.wait_ready()
        engine = make_engine(database_url)
        with Session(engine) as session:
            names = sorted(e.name for e in session.exec(select(Endpoint)).all())
            secrets = session.exec(select(Meta).where(Meta.key == "secret_key")).all()
        engine.dispose()
        assert names == sorted(MODELS) and len(secrets) == 1
        # A cookie from one worker is good on the others: they share the generated secret.
        with httpx.Client(timeout=30) as c:
            r = c.post(f"{servers[0].url}/api/battles", json={"prompt": "hi"})
            assert r.status_code == 201
            battle = r.json()["battle_id"]
            assert c.get(f"{servers[2].url}/api/battles/{battle}").status_code == 200
    finally:
        for srv in servers:
            srv.stop()


def test_a_stopped_worker_leaves_no_connection_open(arena_server: ArenaServer) -> None:
    """Stopping cancels the background tasks, whose database work runs in threads. The engine is
    disposed only after those threads end, so none opens a connection that nobody closes (CI once
    saw one, from a disposed worker, reported as never closed several tests later)."""
    for _ in range(5):
        with (
            arena_server(leaderboard_refresh_seconds=0.001) as srv,
            srv.client() as c,
        ):
            assert c.get("/api/leaderboard").status_code == 200  # an entry to keep current
            time.sleep(0.2)  # the refresher now runs in a thread most of the time
        pool = srv.app.state.arena.engine.pool
        assert (pool.checkedin(), pool.checkedout()) == (0, 0)
