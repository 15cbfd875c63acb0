"""Rows into numpy records: PostgreSQL's packed read gives what the plain read gives."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import sqlalchemy as sa
from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from arena.store.tables import Vote
from arena.votes import records
from arena.votes.records import fetch_records
from ratings import Battles
from tests.board_seed import seed_votes
from tests.conftest import migrated_engine

DTYPE = np.dtype(
    [("id", np.int64), ("a", np.int64), ("ip", object), ("tokens", np.float64), ("anony", bool)]
)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    with migrated_engine(database_url, ()) as eng:
        yield eng


def query(after: int = 0) -> Any:
    return (
        select(
            col(Vote.id),
            col(Vote.model_a_id),
            col(Vote.client_ip),
            col(Vote.style_tokens_a),
            col(Vote.anony),
        )
        .where(col(Vote.id) > after)
        .order_by(col(Vote.id))
    )


def plain(engine: Engine, stmt: Any) -> Any:
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
    return np.array([tuple(r) for r in rows], dtype=DTYPE)


def same(got: Any, want: Any) -> None:
    assert got.dtype == want.dtype and len(got) == len(want)
    for name in ("id", "a", "anony"):
        assert got[name].tolist() == want[name].tolist()
    assert np.array_equal(got["tokens"], want["tokens"], equal_nan=True)
    # A NULL string may come back as '' from the packed read: both mean "none".
    assert [x or None for x in got["ip"]] == [x or None for x in want["ip"]]


def test_packed_and_plain_reads_agree(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    seed_votes(engine, Battles.from_arrays(["x", "y"], [0, 1, 0, 1], [1, 0, 1, 0], [0, 1, 2, 3]))
    with Session(engine) as s:
        ids = sorted(int(v) for v in s.exec(select(col(Vote.id))).all())
        s.execute(update(Vote).where(col(Vote.id) == ids[0]).values(client_ip="10.0.0.1"))
        s.execute(update(Vote).where(col(Vote.id) == ids[1]).values(style_tokens_a=2.5))
        s.execute(update(Vote).where(col(Vote.id) == ids[2]).values(anony=False))
        s.commit()
    with engine.connect() as conn:
        got = fetch_records(conn, query(), DTYPE)
        assert len(fetch_records(conn, query(after=ids[-1]), DTYPE)) == 0
    same(got, plain(engine, query()))
    assert got["tokens"][1] == 2.5 and np.isnan(got["tokens"][0])

    # A string holding the separator cannot be unpacked: the plain read is used instead.
    with Session(engine) as s:
        s.execute(update(Vote).where(col(Vote.id) == ids[3]).values(client_ip="a\x1fb"))
        s.commit()
    fallbacks: list[int] = []
    real = records._packed

    def packed(*args: Any) -> Any:
        out = real(*args)
        fallbacks.append(out is None)
        return out

    monkeypatch.setattr(records, "_packed", packed)
    with engine.connect() as conn:
        got = fetch_records(conn, query(), DTYPE)
    same(got, plain(engine, query()))
    assert got["ip"][3] == "a\x1fb"
    assert fallbacks == ([True] if engine.dialect.name == "postgresql" else [])


def test_a_packed_read_that_fails_falls_back_and_keeps_the_transaction(engine: Engine) -> None:
    # 1e400 is a valid numeric but no float8: packing it fails on the server; the plain read
    # gives infinity, as SQLite's does.
    huge = sa.select(
        sa.literal_column("1").label("id"),
        sa.literal_column("CAST('1e400' AS numeric)").label("x"),
    )
    dtype = np.dtype([("id", np.int64), ("x", np.float64)])
    with engine.connect() as conn:
        got = fetch_records(conn, huge, dtype)
        assert got["id"].tolist() == [1] and np.isposinf(got["x"][0])
        # The transaction the read ran in is still usable.
        assert conn.execute(sa.select(sa.literal_column("2"))).scalar_one() == 2
