"""The auditable board on SQLite and PostgreSQL: votes in the database, the board's JSON out."""

from __future__ import annotations

import json
from collections.abc import Iterator

import numpy as np
import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from arena.store.tables import RatingSnapshot
from arena.votes.board import compute_payload, load_votes
from arena.votes.board_options import LeaderboardOptions, RankingConfig
from arena.votes.history import model_history
from arena.votes.pair_audit import audit_chosen_pair
from arena.votes.personal import personal_board, shrunk_rate
from ratings import Battles
from ratings.flip import removal_mask
from tests.board_seed import days_ago, seed_votes, snapshot
from tests.conftest import migrated_engine
from tests.ratings.test_ratings_audit import synthetic, weighted_mle

CONFIG = RankingConfig(min_battles=30)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    with migrated_engine(database_url, ()) as eng:
        yield eng


def board(engine: Engine, **opts: object) -> dict:
    return compute_payload(engine, LeaderboardOptions(**opts), CONFIG)["leaderboard"]  # type: ignore[arg-type]


def listed(data: dict) -> list[tuple]:
    keys = ("model", "rating", "ci_lower", "ci_upper", "rank", "rank_ub", "rank_lb", "battles")
    return [tuple(m[k] for k in keys) for m in data["models"] if not m["preliminary"]]


def test_six_thousand_plus_one_in_the_database(engine: Engine) -> None:
    base = synthetic()
    seed_votes(engine, base)
    before = board(engine)
    assert before["total_battles"] == 6000
    newcomer = Battles.from_arrays(["newcomer", base.names[0]], [0], [1], [0])
    seed_votes(engine, newcomer, start=6000)
    after = board(engine)
    got, want = listed(after), listed(before)
    assert [(r[0], *r[4:]) for r in got] == [(r[0], *r[4:]) for r in want]
    assert [x for r in got for x in r[1:4]] == pytest.approx([x for r in want for x in r[1:4]])
    last = after["models"][-1]
    assert (last["model"], last["preliminary"], last["battles"]) == ("newcomer", True, 1)
    assert last["flagged"] == "no losses"
    assert after["total_battles"] == 6001
    # Every row carries the rank spread, and the CSV too.
    assert all(m["rank_ub"] <= m["rank"] <= m["rank_lb"] for m in after["models"])


def test_the_boards_flip_audit_is_confirmed_by_a_scipy_refit(engine: Engine) -> None:
    seed_votes(engine, synthetic())
    data = board(engine)
    audit = data["flip_audit"]
    top, second = data["models"][0]["model"], data["models"][1]["model"]
    assert (audit["top"], audit["other"]) == (top, second)
    assert audit["votes"] == sum(x["votes"] for x in audit["removed"]) > 0
    battles, _ = load_votes(engine, LeaderboardOptions(), CONFIG.hygiene)
    keep = removal_mask(battles, audit["removed"])
    refit = weighted_mle(battles, keep.astype(np.float64))
    assert refit[battles.names.index(second)] > refit[battles.names.index(top)]
    # One vote fewer (the last removed put back) keeps them in order.
    fewer = [dict(x) for x in audit["removed"]]
    fewer[-1]["votes"] -= 1
    keep = removal_mask(battles, [x for x in fewer if x["votes"]])
    again = weighted_mle(battles, keep.astype(np.float64))
    assert again[battles.names.index(top)] > again[battles.names.index(second)]


def test_a_chosen_pair_and_bad_pairs(engine: Engine) -> None:
    seed_votes(engine, synthetic(n=3000))
    data = board(engine)
    third, fifth = data["models"][2]["model"], data["models"][4]["model"]
    audit = audit_chosen_pair(engine, LeaderboardOptions(), CONFIG, fifth, third)
    assert (audit["top"], audit["other"]) == (third, fifth) and audit["votes"] > 0
    with pytest.raises(ValueError, match="not on this leaderboard"):
        audit_chosen_pair(engine, LeaderboardOptions(), CONFIG, "nobody", third)
    with pytest.raises(ValueError, match="different"):
        audit_chosen_pair(engine, LeaderboardOptions(), CONFIG, third, third)


def test_reweighting_and_ties_on_the_board(engine: Engine) -> None:
    b = synthetic(m=6, n=2000, seed=3)
    seed_votes(engine, b)
    battles, _ = load_votes(engine, LeaderboardOptions(), CONFIG.hygiene)
    lo = np.minimum(battles.model_a, battles.model_b)
    hi = np.maximum(battles.model_a, battles.model_b)
    key = lo * len(battles.names) + hi
    n_pair = np.bincount(key)[key]
    reference = weighted_mle(battles, 1.0 / np.maximum(n_pair, 50))
    data = board(engine, reweight=True)
    assert data["reweighted"] is True and data["ties"] == "half"
    got = {m["model"]: m["rating"] for m in data["models"]}
    assert [got[n] for n in battles.names] == pytest.approx(reference, abs=0.01)
    dropped = board(engine, ties="drop")
    assert dropped["ties"] == "drop"
    assert dropped["total_battles"] == int((b.outcome < 2).sum())
    assert all(m["ties"] == 0 for m in dropped["models"])


def test_one_snapshot_a_day_and_the_history(engine: Engine) -> None:
    b = synthetic(m=4, n=900)
    for day, part in enumerate(np.array_split(np.arange(len(b)), 3)):
        seed_votes(engine, b.select(np.isin(np.arange(len(b)), part)), start=int(part[0]))
        snapshot(engine, days_ago(2 - day), CONFIG)
    # The same day again (another worker, a later refresh): still one row for it.
    snapshot(engine, days_ago(0), CONFIG)
    with Session(engine) as s:
        rows = s.exec(select(RatingSnapshot)).all()
    assert len(rows) == 3 and len({(r.day, r.key) for r in rows}) == 3
    history = model_history(engine, LeaderboardOptions().key(), "m0")
    assert [p.day for p in history] == sorted(p.day for p in history)
    assert [p.battles for p in history] == sorted(p.battles for p in history)
    today = board(engine)
    m0 = next(m for m in today["models"] if m["model"] == "m0")
    assert history[-1].rating == pytest.approx(m0["rating"])
    assert json.loads(rows[0].ratings)["m0"][4] < m0["battles"]


def test_your_leaderboard_needs_enough_votes(engine: Engine) -> None:
    seed_votes(engine, synthetic(m=4, n=200))
    mine = Battles.from_arrays(
        ["m0", "m1", "m2"], [0, 0, 1, 0, 2], [1, 2, 2, 1, 1], [0, 0, 0, 2, 1]
    )
    seed_votes(engine, mine, start=1000, voter="me")
    early = personal_board(engine, "me", min_votes=6)
    assert (early.votes, early.needed, early.rows) == (5, 1, [])
    full = personal_board(engine, "me", min_votes=5)
    rows = {r.model: r for r in full.rows}
    assert (rows["m0"].wins, rows["m0"].losses, rows["m0"].ties) == (2, 0, 1)
    assert rows["m0"].shrunk == pytest.approx(shrunk_rate(2, 1, 3)) == pytest.approx(4.5 / 7)
    assert full.rows[0].model == "m0" and rows["m0"].rank == 1
    # m1 won two, lost one and tied one; m2 lost all three.
    assert rows["m1"].shrunk == pytest.approx(4.5 / 8)
    assert rows["m2"].shrunk == pytest.approx(2 / 7) and rows["m2"].rank == 3
