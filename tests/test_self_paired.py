"""A battle never pits a model against itself, and a vote that does cannot stop the leaderboard.

Both sides of a battle can fail at once and look for a replacement at the same moment, each from
its own read of the battle row; both then saw the same healthy model free.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from arena.battles.seats import seat_replacement
from arena.store.tables import Battle, Endpoint, Vote
from arena.votes.board import compute_payload
from arena.votes.board_options import LeaderboardOptions, RankingConfig
from tests.conftest import migrated_engine

NAMES = ("alpha", "beta", "gamma", "delta")


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    with migrated_engine(database_url, NAMES) as eng:
        yield eng


def ids(engine: Engine) -> dict[str, int]:
    with Session(engine) as s:
        return {e.name: e.id or 0 for e in s.exec(select(Endpoint)).all()}


def add_battle(engine: Engine, battle_id: str, a: int, b: int) -> None:
    with Session(engine) as s:
        s.add(Battle(id=battle_id, voter_id="v", model_a_id=a, model_b_id=b, status="ready"))
        s.commit()


def test_a_seat_the_other_side_took_meanwhile_is_not_taken_again(engine: Engine) -> None:
    m = ids(engine)
    add_battle(engine, "b1", m["alpha"], m["beta"])
    # Side b has just been given gamma; side a read the row before that (so it excludes only the
    # models it saw) and now looks for a replacement among alpha, beta and gamma.
    with Session(engine) as s:
        battle = s.get(Battle, "b1")
        assert battle is not None
        battle.model_b_id = m["gamma"]
        s.commit()
    stale = {m["alpha"], m["beta"]}
    only_gamma = [(m["alpha"], 1.0), (m["beta"], 1.0), (m["gamma"], 1.0)]
    with Session(engine) as s:
        assert seat_replacement(s, "b1", "a", only_gamma, stale, random.Random(1)) is None
        s.commit()
    with_delta = [*only_gamma, (m["delta"], 1.0)]
    with Session(engine) as s:
        assert seat_replacement(s, "b1", "a", with_delta, stale, random.Random(1)) == m["delta"]
        s.commit()
    with Session(engine) as s:
        battle = s.get(Battle, "b1")
        assert battle is not None
        assert (battle.model_a_id, battle.model_b_id) == (m["delta"], m["gamma"])


def test_a_self_paired_vote_is_left_out_with_a_warning(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    m = ids(engine)
    pairs = [("alpha", "beta", "model_a"), ("beta", "gamma", "model_b"), ("gamma", "alpha", "tie")]
    with Session(engine) as s:
        for n, (a, b, winner) in enumerate(pairs * 3):
            s.add(Battle(id=f"ok{n}", voter_id=f"v{n}", model_a_id=m[a], model_b_id=m[b]))
            s.add(
                Vote(
                    battle_id=f"ok{n}",
                    winner=winner,
                    voter_id=f"v{n}",
                    model_a_id=m[a],
                    model_b_id=m[b],
                )
            )
        s.add(Battle(id="self", voter_id="x", model_a_id=m["alpha"], model_b_id=m["alpha"]))
        s.add(
            Vote(
                battle_id="self",
                winner="model_a",
                voter_id="x",
                model_a_id=m["alpha"],
                model_b_id=m["alpha"],
            )
        )
        s.commit()
    with caplog.at_level(logging.WARNING, logger="arena.votes.board"):
        board = compute_payload(engine, LeaderboardOptions(), RankingConfig(min_battles=0))
    data = board["leaderboard"]
    assert data["total_battles"] == 9
    assert {row["model"] for row in data["models"]} == {"alpha", "beta", "gamma"}
    assert data["excluded"]["self_paired"] == 1
    assert "1 counted votes pit a model against itself" in caplog.text
