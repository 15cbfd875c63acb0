"""Vote blocks: a cold board read from the packed blocks is the board the vote rows give, and
every change to the votes that ranking sees makes a block stale (read row by row, rebuilt)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from sqlalchemy import Engine, delete, func, insert, update
from sqlmodel import Session, col, select

from arena.core.settings import Settings
from arena.store.tables import Vote, VoteBlock
from arena.votes import block_style, blocks
from arena.votes.board import compute_payload
from arena.votes.board_options import LeaderboardOptions, ranking_config
from arena.votes.cache import VoteCache
from arena.votes.category_bits import bit
from arena.votes.string_hash import hash_strings
from arena.votes.tag_jobs import bump_tags_version
from ratings import Battles
from tests.board_seed import seed_votes
from tests.conftest import migrated_engine

NAMES = ["alpha", "beta", "gamma", "delta"]
N = 90  # votes: blocks of 8 ids, so ten sealed blocks and a tail


@pytest.fixture
def engine(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    monkeypatch.setattr(blocks, "BLOCK", 8)
    monkeypatch.setattr(blocks, "SEAL_MARGIN", 4)
    with migrated_engine(database_url, ()) as eng:
        seed(eng)
        yield eng


def seed(engine: Engine) -> None:
    """N votes among four models, from a few voters, IPs and prompts (so that hygiene has
    groups to test), some with style features, some in the coding category."""
    rng = np.random.default_rng(7)
    a = rng.integers(0, 4, N)
    b = (a + rng.integers(1, 4, N)) % 4
    battles = Battles.from_arrays(NAMES, a, b, rng.integers(0, 4, N))
    seed_votes(engine, battles)
    with Session(engine) as s:
        for k, vote_id in enumerate(s.exec(select(Vote.id).order_by(col(Vote.id))).all()):
            values: dict[str, Any] = {
                "voter_id": f"voter-{k % 7}",
                "client_ip": f"10.0.0.{k % 5}" if k % 3 else None,
                "prompt_hash": f"p{k % 11}" if k % 2 else None,
                "category_bits": bit("coding") if k % 4 == 0 else 0,
                "modality": "vision" if k % 13 == 0 else "text",
            }
            if k % 5:
                values |= {"style_tokens_a": 100.0 + k, "style_tokens_b": 120.0 - k}
                values |= {"style_bold_a": float(k % 3), "style_lists_b": 0.5 * k}
            s.execute(update(Vote).where(col(Vote.id) == vote_id).values(**values))
        s.commit()


def board(engine: Engine, **options: Any) -> dict[str, Any]:
    """A board computed now by a worker that holds nothing."""
    config = ranking_config(Settings(min_battles=1, prompt_repeat_floor=2))
    payload = compute_payload(engine, LeaderboardOptions(**options), config)
    del payload["leaderboard"]["generated_at"]  # the clock, not the votes
    return payload


def from_rows(engine: Engine, monkeypatch: pytest.MonkeyPatch, **options: Any) -> dict[str, Any]:
    """The same board from the vote rows alone: no block read, none written."""
    with monkeypatch.context() as m:
        m.setattr(blocks, "LAYOUT", -1)
        m.setattr(blocks, "SEAL_MARGIN", 10**9)
        return board(engine, **options)


def stored(engine: Engine) -> dict[int, tuple[int, int, int]]:
    """Each stored block's fingerprint."""
    with Session(engine) as s:
        rows = s.exec(
            select(VoteBlock.block, VoteBlock.votes, VoteBlock.id_sum, VoteBlock.tags_version)
        ).all()
    return {int(k): (int(n), int(t), int(v)) for k, n, t, v in rows}


def used(monkeypatch: pytest.MonkeyPatch) -> list[list[int]]:
    """Records which blocks each cold read used."""
    seen: list[list[int]] = []
    real = blocks.read_cold

    def recording(conn: Any, tags: int) -> blocks.ColdRead:
        read = real(conn, tags)
        seen.append(sorted(read.used))
        return read

    monkeypatch.setattr(blocks, "read_cold", recording)
    return seen


def same(engine: Engine, monkeypatch: pytest.MonkeyPatch, **options: Any) -> None:
    assert board(engine, **options) == from_rows(engine, monkeypatch, **options)


def test_a_board_from_blocks_is_the_board_from_rows(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = used(monkeypatch)
    first = board(engine)  # reads rows, writes the sealed blocks
    assert reads[0] == []
    newest = N  # ids 1..N: blocks 0..9 end at or before N - SEAL_MARGIN
    assert sorted(stored(engine)) == list(range((newest - 4) // 8))
    for options in ({}, {"style_control": True}, {"category": "coding"}, {"modality": "vision"}):
        reads.clear()
        from_blocks = board(engine, **options)
        assert reads and all(r == list(range(10)) for r in reads)
        assert from_blocks == from_rows(engine, monkeypatch, **options)
    assert board(engine) == first
    lb = first["leaderboard"]
    assert lb["total_battles"] > 0 and any(lb["excluded"].values())  # hygiene had work


def test_style_features_come_from_the_blocks(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    board(engine)
    cache = VoteCache()
    snap = cache.snapshot(engine)
    with Session(engine) as s:
        ids = s.exec(select(Vote.id).order_by(col(Vote.id))).all()
    assert snap.ids.tolist() == list(ids)
    style = cache.style(engine, snap.ids)
    k = np.array([ids.index(int(i)) for i in snap.ids])
    has = k % 5 != 0
    assert style[has, 0, 0].tolist() == (100.0 + k[has]).tolist()
    assert style[has, 1, 2].tolist() == (0.5 * k[has]).tolist()
    assert np.isnan(style[~has]).all() and np.isnan(style[has, 0, 1]).all()


def test_blocks_get_their_style_from_the_first_style_board(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    board(engine)  # a board without style control reads no style: blocks without it
    with Session(engine) as s:
        assert {len(x) for x in s.exec(select(VoteBlock.style)).all()} == {0}
    reads: list[int] = []
    real = block_style.fetch_records

    def counting(conn: Any, stmt: Any, dtype: Any) -> Any:
        rows = real(conn, stmt, dtype)
        reads.append(len(rows))
        return rows

    monkeypatch.setattr(block_style, "fetch_records", counting)
    first = board(engine, style_control=True)
    assert reads == [N]  # every vote's style row by row, once
    with Session(engine) as s:
        for votes, style in s.exec(select(VoteBlock.votes, VoteBlock.style)).all():
            assert len(style) == 8 * 8 * votes
    reads.clear()
    assert (
        board(engine, style_control=True)
        == first
        == from_rows(engine, monkeypatch, style_control=True)
    )
    assert reads[0] == N - 80  # a new worker: the blocks' style, the tail row by row


@pytest.mark.parametrize("change", ["excluded", "included", "deleted", "late", "retagged"])
def test_a_changed_vote_makes_its_block_stale(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    board(engine)
    before = stored(engine)
    with Session(engine) as s:
        ids = s.exec(select(Vote.id).order_by(col(Vote.id))).all()
        target = int(ids[20])  # in block 2 (ids 17..24)
        if change == "included":  # counted again: excluded before the blocks were built
            s.execute(update(Vote).where(col(Vote.id) == target).values(counted=False))
            s.commit()
            s.execute(delete(VoteBlock))
            s.commit()
            board(engine)
            before = stored(engine)
        late = s.execute(select(Vote).where(col(Vote.id) == target)).scalar_one()
        if change in ("excluded", "included"):
            flag = change == "included"
            s.execute(update(Vote).where(col(Vote.id) == target).values(counted=flag))
        elif change in ("deleted", "late"):
            s.execute(delete(Vote).where(col(Vote.id) == target))
        else:  # the rules or the LLM tagger re-tag an older vote, and bump the tags counter
            bits = 0 if late.category_bits else bit("coding")
            s.execute(update(Vote).where(col(Vote.id) == target).values(category_bits=bits))
            bump_tags_version(s)
        s.commit()
        if change == "late":  # the vote of a transaction that commits after the block was built
            s.execute(delete(VoteBlock).where(col(VoteBlock.block) != 2))
            s.commit()
            board(engine)  # the block of the range without that vote
            before = stored(engine)
            columns = {c.name: getattr(late, c.name) for c in Vote.__table__.columns}
            s.execute(insert(Vote).values(**columns))
            s.commit()
    reads = used(monkeypatch)
    same(engine, monkeypatch)
    # Read row by row (a re-tag: every block, built at the older tags version) and rebuilt.
    assert reads[0] == ([] if change == "retagged" else [k for k in range(10) if k != 2])
    assert stored(engine)[2] != before[2]
    for options in ({"category": "coding"}, {"style_control": True}):
        reads.clear()
        same(engine, monkeypatch, **options)
        assert reads[0] == list(range(10))


def test_a_vote_changed_while_a_worker_holds_votes_rereads_from_the_blocks(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    board(engine)
    cache = VoteCache()
    cache.snapshot(engine)
    with Session(engine) as s:
        target = s.exec(select(Vote.id).order_by(col(Vote.id)).offset(40)).first()
        s.execute(update(Vote).where(col(Vote.id) == target).values(counted=False))
        s.commit()
    reads = used(monkeypatch)
    snap = cache.snapshot(engine)
    assert target not in snap.ids.tolist()
    assert reads == [[k for k in range(10) if k != (int(target or 0) - 1) // 8]]


def test_blocks_of_another_size_are_ignored_and_replaced(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    board(engine)
    monkeypatch.setattr(blocks, "BLOCK", 16)
    reads = used(monkeypatch)
    same(engine, monkeypatch)
    assert reads[0] == []
    with Session(engine) as s:
        sizes = s.exec(select(VoteBlock.size, func.count()).group_by(VoteBlock.size)).all()
    assert dict(sizes)[16] == (N - 4) // 16


def test_string_hashes_are_stable_and_none_is_zero() -> None:
    values = np.array(["abc", None, "", "abc", "é", "x" * 70, "x" * 70 + "y"], dtype=object)
    h = hash_strings(values)
    assert h[1] == h[2] == 0 and h[0] == h[3] != 0
    assert len(set(h[[0, 4, 5, 6]].tolist())) == 4
    # The same beside any other strings, in every process and on every machine: blocks written
    # by one worker are read by another (a change here must change blocks.LAYOUT).
    assert int(h[0]) == int(hash_strings(np.array(["abc"], dtype=object))[0])
    assert int(h[0]) == 7095259100103505468
    assert hash_strings(np.array([], dtype=object)).tolist() == []


def test_a_failed_write_leaves_the_board_as_the_rows_give_it(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing(*_: Any, **__: Any) -> None:
        from sqlalchemy.exc import OperationalError

        raise OperationalError("INSERT", {}, Exception("database is locked"))

    monkeypatch.setattr(blocks, "_store", failing)
    first = board(engine)
    assert stored(engine) == {}
    assert first == from_rows(engine, monkeypatch)
    assert board(engine) == first


def test_fingerprints_of_more_blocks_than_one_compound_statement_holds(engine: Engine) -> None:
    with engine.connect() as conn:
        found = blocks.fingerprints(conn, list(range(1200)))  # SQLite: at most 500 per SELECT
    assert len(found) == 1200
    assert found[0] == (8, sum(range(1, 9))) and found[11] == (2, 89 + 90)
    assert found[1199] == (0, 0)


def test_two_workers_building_the_same_blocks_at_once_leave_valid_blocks(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    with engine.connect() as conn:
        one, two = blocks.read_cold(conn, 0), blocks.read_cold(conn, 0)
    with Session(engine) as s:  # a vote excluded between the two writes
        target = s.exec(select(Vote.id).order_by(col(Vote.id)).offset(30)).first()
        s.execute(update(Vote).where(col(Vote.id) == target).values(counted=False))
        s.commit()
    assert blocks.write_blocks(engine, one) == 10
    assert blocks.write_blocks(engine, two) == 10  # the same blocks again: an upsert, no error
    reads = used(monkeypatch)
    same(engine, monkeypatch)
    assert reads[0] == [k for k in range(10) if k != (int(target or 0) - 1) // 8]
