"""The per-worker caches a cold board builds: style features read only for style control and
only for newer votes, and the answers behind the speed figures keyed by the votes version."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from arena.store.tables import Answer, Turn, Vote
from arena.votes import cache as vote_cache
from arena.votes import speed
from arena.votes.cache import VoteCache
from arena.votes.speed import AnswerCache
from arena.votes.version import bump_votes_version
from ratings import Battles
from tests.board_seed import seed_votes
from tests.conftest import migrated_engine

NAMES = ["alpha", "beta", "gamma"]


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    with migrated_engine(database_url, ()) as eng:
        yield eng


def add_votes(engine: Engine, start: int, n: int, *, style: bool = True) -> list[int]:
    """n votes (alpha beats beta), each with style features start+k and two timed answers."""
    battles = Battles.from_arrays(NAMES, [0] * n, [1] * n, [0] * n)
    seed_votes(engine, battles, start=start)
    with Session(engine) as s:
        wanted = [f"seed{start + k}" for k in range(n)]
        votes = s.exec(select(Vote).where(col(Vote.battle_id).in_(wanted))).all()
        ids = sorted(int(v.id) for v in votes)
        for v in votes:
            k = int(v.battle_id[4:])
            if style:
                s.execute(
                    update(Vote)
                    .where(col(Vote.id) == v.id)
                    .values(style_tokens_a=float(k), style_bold_b=k + 0.5)
                )
            turn = Turn(battle_id=v.battle_id, prompt="hi", status="done")
            s.add(turn)
            s.flush()
            for side, ep in (("a", v.model_a_id), ("b", v.model_b_id)):
                s.add(
                    Answer(
                        turn_id=turn.id or 0,
                        side=side,
                        endpoint_id=ep,
                        status="done",
                        ttft_ms=100.0 + k,
                        total_ms=1100.0 + k,
                        prompt_tokens=10,
                        completion_tokens=50,
                    )
                )
        bump_votes_version(s)
        s.commit()
    return ids


def test_style_is_read_for_style_boards_only_and_then_only_for_newer_votes(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = add_votes(engine, 0, 3)
    add_votes(engine, 3, 1, style=False)
    cache = VoteCache()
    snap = cache.snapshot(engine)
    assert not len(cache._style_rows)  # a board without style control reads no style
    style = cache.style(engine, snap.ids)
    assert style.shape == (4, 2, 4)
    assert style[:3, 0, 0].tolist() == [0.0, 1.0, 2.0]
    assert style[:3, 1, 3].tolist() == [0.5, 1.5, 2.5]
    assert np.isnan(style[3]).all()  # no style features: NaN, left out of a style fit
    assert np.isnan(style[:3, 0, 1]).all()

    later = add_votes(engine, 10, 2)
    reads: list[int] = []
    real = vote_cache._fetch

    def counting(conn: Any, stmt: Any, dtype: Any) -> Any:
        rows = real(conn, stmt, dtype)
        reads.append(len(rows))
        return rows

    monkeypatch.setattr(vote_cache, "_fetch", counting)
    snap = cache.snapshot(engine)
    reads.clear()
    style = cache.style(engine, snap.ids)
    assert reads == [2]  # only the two new votes' style
    assert style[-2:, 0, 0].tolist() == [10.0, 11.0]
    assert cache.style(engine, snap.ids[-1:])[0, 0, 0] == 11.0 and reads == [2]

    # An older vote excluded and counted again is still found, without reading anything.
    with Session(engine) as s:
        s.execute(update(Vote).where(col(Vote.id) == first[1]).values(counted=False))
        s.commit()
    assert first[1] not in cache.snapshot(engine).ids.tolist()
    with Session(engine) as s:
        s.execute(update(Vote).where(col(Vote.id) == first[1]).values(counted=True))
        s.commit()
    snap = cache.snapshot(engine)
    reads.clear()
    assert cache.style(engine, snap.ids)[1, 0, 0] == 1.0 and reads == []
    assert later == snap.ids[-2:].tolist()


def test_answers_are_read_again_only_when_a_vote_arrives(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_votes(engine, 0, 3)
    reads: list[int] = []
    real = speed._fetch

    def counting(conn: Any, after: int) -> Any:
        rows = real(conn, after)
        reads.append(len(rows))
        return rows

    monkeypatch.setattr(speed, "_fetch", counting)
    cache = AnswerCache()
    assert len(cache.read(engine).vote) == 6 and reads == [6]
    assert len(cache.read(engine).vote) == 6 and reads == [6]  # same votes version: no read

    ids = add_votes(engine, 3, 1)  # a vote bumps the version: its answers are read
    answers = cache.read(engine)
    assert len(answers.vote) == 8 and answers.vote[-2:].tolist() == ids * 2
    assert answers.ttft_ms[-1] == 103.0 and len(reads) == 2

    # A vote stored without a bump (as a seeding script might) still shows by its id.
    seed_votes(engine, Battles.from_arrays(NAMES, [0], [2], [1]), start=20)
    cache.read(engine)
    assert len(reads) == 3
    cache.read(engine)
    assert len(reads) == 3
