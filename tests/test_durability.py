"""Durability: a vote answered with 2xx survives the server being killed with SIGKILL right after.

The arena runs as a real process (`uvicorn arena.asgi:app`) with voters hammering it from threads;
the moment enough votes are acknowledged it gets SIGKILL (no shutdown code runs), with other votes
still in flight. Every acknowledged vote must be in the database, and in the restarted server.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import httpx
from sqlalchemy import func
from sqlmodel import Session, col, select

from arena.store.engine import make_engine
from arena.store.tables import Vote
from arena.web.voters import VOTER_COOKIE
from tests.arena_process import ArenaProcess
from tests.conftest import write_models
from tests.fake_openai import FakeOpenAI

VOTERS = 6
TARGET = 30  # acknowledged votes before the kill


def test_acknowledged_votes_survive_sigkill(
    database_url: str, fake: FakeOpenAI, tmp_path: Path
) -> None:
    env = {
        "ARENA_DATABASE_URL": database_url,
        "ARENA_SECRET_KEY": "durability-test-secret-key-0123456789abc",
        "ARENA_MODELS": str(write_models(tmp_path / "models.toml", fake.base_url)),
        "ARENA_PERSIST_INTERVAL": "0.1",
        "ARENA_UPSTREAM_RETRIES": "0",
        "ARENA_HTMX_SOURCE": "local",
    }
    srv = ArenaProcess(env).start()
    acked: list[tuple[str, str]] = []  # (battle id, the voter's cookie)
    lock = threading.Lock()
    stop = threading.Event()
    refused: list[str] = []

    def voter() -> None:
        with httpx.Client(base_url=srv.url, timeout=10) as c:
            while not stop.is_set():
                try:
                    battle = c.post("/api/battles", json={"prompt": "Name a prime"}).json()
                    bid = battle["battle_id"]
                    with c.stream("GET", f"/api/battles/{bid}/stream") as s:
                        s.read()
                    r = c.post(f"/api/battles/{bid}/vote", json={"winner": "model_a"})
                except (httpx.HTTPError, KeyError, ValueError):
                    return  # the server is gone
                if r.status_code == 200:
                    with lock:
                        acked.append((bid, c.cookies[VOTER_COOKIE]))
                else:  # a refused vote is a finding, not a reason to stop voting
                    refused.append(f"{r.status_code} {r.text[:200]}")

    threads = [threading.Thread(target=voter, daemon=True) for _ in range(VOTERS)]
    try:
        for t in threads:
            t.start()
        deadline = time.monotonic() + 60
        while len(acked) < TARGET and time.monotonic() < deadline:
            time.sleep(0.002)
        srv.kill()  # right after an acknowledgement, with other votes in flight
        log = srv.log()  # (stop() closes it)
    finally:
        stop.set()
        srv.stop()
        for t in threads:
            t.join(15)
    assert len(acked) >= TARGET, log
    assert refused == [], log  # e.g. a turn said ready whose end was never saved

    engine = make_engine(database_url)
    try:
        with Session(engine) as s:
            ids = [bid for bid, _ in acked]
            stored = set(s.exec(select(Vote.battle_id).where(col(Vote.battle_id).in_(ids))).all())
            total = s.exec(select(func.count()).select_from(Vote)).one()
    finally:
        engine.dispose()
    assert stored == set(ids)  # every acknowledged vote is there
    assert len(ids) <= total <= len(ids) + VOTERS  # plus at most the ones in flight

    if database_url.startswith("sqlite"):
        path = database_url.removeprefix("sqlite:///")
        with sqlite3.connect(path) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)

    # The restarted server (recovering the WAL) shows every acknowledged battle as voted.
    with ArenaProcess(env) as again:
        for bid, cookie in acked:
            with httpx.Client(base_url=again.url, cookies={VOTER_COOKIE: cookie}) as c:
                state = c.get(f"/api/battles/{bid}").json()
                assert state["status"] == "voted" and state["model_a"] is not None
