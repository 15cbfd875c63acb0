"""Matchmaking's inputs from the database: the drawable models, the policy, the vote statistics.

The statistics (votes per pair, and in active mode a Bradley-Terry fit) change slowly and cost a
GROUP BY over every vote, so a worker re-reads them at most every `ttl` seconds. This is a cache
of database rows, nothing another worker needs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

from sqlalchemy import func
from sqlmodel import Session, col, select

from arena.core.rules import SamplingRules
from arena.matchmaking.policy import ActiveStats, Candidate, Policy, active_stats, pair_tables
from arena.store.endpoints import drawable_endpoints
from arena.store.tables import Endpoint, Vote

PairRow = tuple[int, int, str, int]  # model_a_id, model_b_id, winner, votes


class PairingCache:
    """Votes per (pair, winner) and the active-mode fit, re-read at most every `ttl` seconds."""

    def __init__(self, ttl: float = 5.0) -> None:
        self.ttl = ttl
        self._lock = threading.Lock()
        self._read_at = float("-inf")
        self._rows: list[PairRow] = []
        self._stats: tuple[tuple[int, ...], int, ActiveStats] | None = None

    def rows(self, session: Session) -> list[PairRow]:
        """The vote counts, from the database when the copy here is older than `ttl`."""
        with self._lock:
            if time.monotonic() - self._read_at > self.ttl:
                self._rows = pair_rows(session)
                self._read_at = time.monotonic()
                self._stats = None
            return self._rows

    def stats(self, known: Sequence[int], rows: list[PairRow], horizon: int) -> ActiveStats:
        """The active-mode fit of these rows (computed once per read of the rows)."""
        with self._lock:
            key = (tuple(known), horizon)
            if self._stats is None or self._stats[:2] != key:
                wins, ties = pair_tables(known, rows)
                self._stats = (*key, active_stats(known, wins, ties, horizon=horizon))
            return self._stats[2]


def pair_rows(session: Session) -> list[PairRow]:
    """Counted anonymous votes per (model_a, model_b, winner)."""
    return [
        (int(a), int(b), str(winner), int(n))
        for a, b, winner, n in session.exec(
            select(Vote.model_a_id, Vote.model_b_id, Vote.winner, func.count())
            .where(col(Vote.counted), col(Vote.anony))
            .group_by(col(Vote.model_a_id), col(Vote.model_b_id), col(Vote.winner))
        ).all()
    ]


def matchmaking_inputs(
    session: Session,
    rules: SamplingRules | None = None,
    endpoints: list[Endpoint] | None = None,
    cache: PairingCache | None = None,
) -> tuple[list[Candidate], Policy, ActiveStats | None]:
    """The drawable models, the policy and (in active mode) the vote statistics."""
    if endpoints is None:
        endpoints = [e for e in drawable_endpoints(session) if e.id is not None]
    if rules is None:
        return [Candidate(e.id, e.weight) for e in endpoints if e.id is not None], Policy(), None
    rows = cache.rows(session) if cache is not None else pair_rows(session)
    played: dict[int, int] = {}
    for a, b, _, n in rows:
        played[a] = played.get(a, 0) + n
        played[b] = played.get(b, 0) + n
    candidates = [
        Candidate(e.id, e.weight, played.get(e.id, 0)) for e in endpoints if e.id is not None
    ]
    by_name = {e.name: e.id for e in endpoints if e.id is not None}
    policy = Policy(
        mode=rules.mode,
        active_rule=rules.active_rule,
        exploration=rules.exploration,
        new_model_battles=rules.new_model_battles,
        new_model_boost=rules.new_model_boost,
        targets={
            by_name[name]: [by_name[r] for r in rivals if r in by_name]
            for name, rivals in rules.battle_targets.items()
            if name in by_name
        },
        target_boost=rules.target_boost,
    )
    stats = None
    if policy.mode == "active":
        # Every model with votes, drawable or not: paused models are still on the leaderboard.
        known = sorted({c.id for c in candidates} | {r[0] for r in rows} | {r[1] for r in rows})
        if cache is not None:
            stats = cache.stats(known, rows, rules.horizon)
        else:
            wins, ties = pair_tables(known, rows)
            stats = active_stats(known, wins, ties, horizon=rules.horizon)
    return candidates, policy, stats
