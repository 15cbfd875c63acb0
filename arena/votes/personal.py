"""Your leaderboard: how one voter's own votes rank the models, beside the public board.

A handful of votes give noisy win rates (one win is 100%), so each model's win rate is shrunk
towards even: ``(wins + ties / 2 + K / 2) / (battles + K)`` with ``K = 4`` pseudo-battles, the
mean of a Beta(2, 2) prior updated by the votes. A model seen once moves little from 50%; one
seen twenty times is mostly its own record.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlmodel import col, select

from arena.store.tables import Endpoint, Vote

PRIOR_BATTLES = 4.0


@dataclass(frozen=True)
class PersonalRow:
    """One model as this voter's votes see it."""

    model: str
    battles: int
    wins: int
    losses: int
    ties: int
    shrunk: float
    rank: int = 0


@dataclass(frozen=True)
class PersonalBoard:
    """The voter's ranking, or how many more votes it needs."""

    votes: int
    needed: int
    rows: list[PersonalRow]


def shrunk_rate(wins: int, ties: int, battles: int, prior: float = PRIOR_BATTLES) -> float:
    """Win rate (ties half) shrunk towards 0.5 by ``prior`` pseudo-battles."""
    return (wins + 0.5 * ties + 0.5 * prior) / (battles + prior)


def personal_board(engine: Engine, voter_id: str, min_votes: int) -> PersonalBoard:
    """The voter's own board once they have cast ``min_votes`` votes (every vote they cast)."""
    with engine.connect() as conn:
        names = {int(i or 0): str(n) for i, n in conn.execute(select(Endpoint.id, Endpoint.name))}
        votes = conn.execute(
            select(col(Vote.model_a_id), col(Vote.model_b_id), col(Vote.winner)).where(
                col(Vote.voter_id) == voter_id
            )
        ).all()
    if len(votes) < min_votes:
        return PersonalBoard(len(votes), min_votes - len(votes), [])
    tally: dict[int, list[int]] = {}
    for a, b, winner in votes:
        if a == b:
            continue
        for me, side in ((a, "model_a"), (b, "model_b")):
            t = tally.setdefault(me, [0, 0, 0])
            if winner == side:
                t[0] += 1
            elif winner in ("model_a", "model_b"):
                t[1] += 1
            else:
                t[2] += 1
    rows = [
        PersonalRow(names.get(k, f"#{k}"), w + lo + ti, w, lo, ti, shrunk_rate(w, ti, w + lo + ti))
        for k, (w, lo, ti) in tally.items()
    ]
    rows.sort(key=lambda r: (-r.shrunk, r.model))
    ranked = [
        PersonalRow(**{**r.__dict__, "rank": 1 + sum(x.shrunk > r.shrunk for x in rows)})
        for r in rows
    ]
    return PersonalBoard(len(votes), 0, ranked)
