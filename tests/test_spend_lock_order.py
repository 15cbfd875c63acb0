"""Turns ending at once never deadlock on the day's spend rows (PostgreSQL row locks).

Two battles between the same two models, one with them as (A, B) and one as (B, A), end at the
same moment: each final save adds to both models' spend rows. Taken in the answers' order, the
two transactions lock those rows in opposite orders, and PostgreSQL kills one of them as a
deadlock: that turn's end was lost, the voter was told it was ready and then could not vote.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, update
from sqlmodel import Session, col, select

from arena.store.engine import begin, retrying
from arena.store.spend import Usage, record_spend
from arena.store.tables import Endpoint, Spend
from tests.conftest import database_for, migrated_engine

ROUNDS = 150


def test_concurrent_turn_ends_in_opposite_orders_all_count(engine: Engine) -> None:
    with Session(engine) as s:
        ids = sorted(e.id for e in s.exec(select(Endpoint)).all() if e.id is not None)[:2]
    assert len(ids) == 2
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def ender(order: list[int]) -> None:
        start.wait()
        for _ in range(ROUNDS):
            try:
                with begin(engine) as conn:
                    record_spend(conn, [Usage(i, 3, 5) for i in order])
            except Exception as exc:
                errors.append(exc)
                return

    threads = [
        threading.Thread(target=ender, args=(ids if n % 2 else ids[::-1],)) for n in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    with Session(engine) as s:
        answers = s.exec(select(func.sum(Spend.answers))).one()
        tokens = s.exec(select(func.sum(Spend.completion_tokens))).one()
    assert answers == 2 * 4 * ROUNDS  # every turn's two answers, once each
    assert tokens == 5 * 2 * 4 * ROUNDS


@pytest.fixture
def pg_engine(tmp_path: Path) -> Iterator[Engine]:
    """PostgreSQL alone: SQLite has one writer at a time, so it cannot deadlock."""
    for url in database_for("postgresql", tmp_path):
        with migrated_engine(url) as eng:
            yield eng


def test_a_transaction_aborted_as_a_deadlock_runs_again(pg_engine: Engine) -> None:
    """`retrying` gives a transaction PostgreSQL killed to break a deadlock another try."""
    engine = pg_engine
    with Session(engine) as s:
        first, second = sorted(e.id for e in s.exec(select(Endpoint)).all() if e.id is not None)[:2]
    both_locked_one = threading.Barrier(2)
    tries: list[int] = []

    def touch(a: int, b: int) -> None:
        tries.append(a)
        with begin(engine) as conn:
            for n, endpoint_id in enumerate((a, b)):
                conn.execute(
                    update(Endpoint)
                    .where(col(Endpoint.id) == endpoint_id)
                    .values(consecutive_failures=col(Endpoint.consecutive_failures) + 1)
                )
                if n == 0 and len(tries) <= 2:  # the first tries meet: a real deadlock
                    both_locked_one.wait(10)

    results: list[BaseException | None] = []

    def run(a: int, b: int) -> None:
        try:
            retrying(touch, a, b)
            results.append(None)
        except BaseException as exc:
            results.append(exc)

    threads = [threading.Thread(target=run, args=p) for p in ((first, second), (second, first))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert results == [None, None]
    assert len(tries) == 3  # the deadlock's victim ran twice
    with Session(engine) as s:
        counts = [s.get(Endpoint, i).consecutive_failures for i in (first, second)]  # type: ignore[union-attr]
    assert counts == [2, 2]  # both transactions landed, each once
