"""The leaderboard refresher: each worker recomputes the stored boards that are behind the votes,
taking a lease in the database so that only one worker computes a given board."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from sqlalchemy import Engine, update
from sqlmodel import col, select

from arena.core import metrics
from arena.store.engine import in_thread, session_scope
from arena.store.tables import LeaderboardCache, utcnow
from arena.votes.board import compute_payload, store_payload
from arena.votes.board_options import LeaderboardOptions, RankingConfig
from arena.votes.cache import VoteCache
from arena.votes.failure_log import log_failure
from arena.votes.version import votes_version

log = logging.getLogger("arena.votes.board")


def refresh_stale(
    engine: Engine, config: RankingConfig, *, lease: timedelta, cache: VoteCache | None = None
) -> int:
    """Recompute the stored leaderboards that are behind the votes; returns how many."""
    now = utcnow()
    with session_scope(engine) as session:
        version = votes_version(session)
        wanted = session.exec(
            select(col(LeaderboardCache.key)).where(
                col(LeaderboardCache.version) != version,
                col(LeaderboardCache.last_requested_at) > now - timedelta(hours=1),
            )
        ).all()
        default = LeaderboardOptions().key()
        if session.get(LeaderboardCache, default) is None:
            wanted = [*wanted, default]
    done = 0
    for key in wanted:
        if not _take_lease(engine, key, lease):
            continue
        try:
            with metrics.LEADERBOARD_REFRESH.time():
                payload = compute_payload(engine, LeaderboardOptions.from_key(key), config, cache)
            store_payload(engine, key, version, payload)
            done += 1
        except Exception as exc:
            log_failure(f"recomputing leaderboard {key} failed", exc)
            _release_lease(engine, key)
    return done


def _take_lease(engine: Engine, key: str, lease: timedelta) -> bool:
    now = utcnow()
    with session_scope(engine) as session:
        if session.get(LeaderboardCache, key) is None:
            return True  # the first computation of an entry: nothing to share yet
        taken = session.execute(
            update(LeaderboardCache)
            .where(
                col(LeaderboardCache.key) == key,
                (col(LeaderboardCache.computing_until).is_(None))
                | (col(LeaderboardCache.computing_until) < now),
            )
            .values(computing_until=now + lease)
        )
        return bool(taken.rowcount == 1)  # type: ignore[attr-defined]


def _release_lease(engine: Engine, key: str) -> None:
    with session_scope(engine) as session:
        session.execute(
            update(LeaderboardCache)
            .where(col(LeaderboardCache.key) == key)
            .values(computing_until=None)
        )


async def refresher(
    engine: Engine, config: RankingConfig, every: float, cache: VoteCache | None = None
) -> None:
    """Keep the wanted leaderboards current, forever (one per worker; leases avoid double work)."""
    while True:
        try:
            await in_thread(refresh_stale, engine, config, lease=timedelta(minutes=2), cache=cache)
        except Exception as exc:
            log_failure("leaderboard refresher failed", exc)
        await asyncio.sleep(every)
