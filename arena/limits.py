"""Rate limits and the daily vote cap, counted from the database so every worker agrees.

A limit is N events per window per voter (signed cookie) and per client IP. The count is a
sliding window over indexed rows (`battle`, `vote`), so there is no counter to keep in sync and
nothing in process memory; an over-limit request gets 429 with the seconds until a slot frees up.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from arena.errors import BattleError
from arena.tables import Battle, Vote, utcnow


class RateLimited(BattleError):
    """Too many requests; `retry_after` is in whole seconds."""

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(429, detail)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Limits:
    """Per-hour limits (0 = none) and the daily cap on counted votes per voter."""

    battles_per_voter: int = 60
    battles_per_ip: int = 300
    votes_per_voter: int = 60
    votes_per_ip: int = 300
    counted_votes_per_voter_per_day: int = 100


HOUR = timedelta(hours=1)


def _window(
    session: Session, table: Any, column: Any, value: str, since: datetime
) -> tuple[int, datetime | None]:
    row = session.exec(
        select(func.count(), func.min(table.created_at)).where(
            column == value, table.created_at > since
        )
    ).one()
    return int(row[0]), row[1]


def check(
    session: Session, *, what: str, voter_id: str, client_ip: str | None, limits: Limits
) -> None:
    """Raise RateLimited when this voter or IP has used up its hourly `what` (battles|votes)."""
    table = Battle if what == "battles" else Vote
    per_voter = limits.battles_per_voter if what == "battles" else limits.votes_per_voter
    per_ip = limits.battles_per_ip if what == "battles" else limits.votes_per_ip
    now = utcnow()
    for limit, column, value, who in (
        (per_voter, col(table.voter_id), voter_id, "you"),
        (per_ip, col(table.client_ip), client_ip, "your network"),
    ):
        if not limit or not value:
            continue
        used, oldest = _window(session, table, column, value, now - HOUR)
        if used >= limit:
            wait = (oldest + HOUR - now).total_seconds() if oldest else HOUR.total_seconds()
            raise RateLimited(
                f"Too many {what} from {who}: at most {limit} an hour. Try again later.",
                max(1, math.ceil(wait)),
            )


def over_daily_cap(session: Session, voter_id: str, limits: Limits) -> bool:
    """Whether this voter has already had today's quota of counted votes."""
    cap = limits.counted_votes_per_voter_per_day
    if not cap:
        return False
    since = utcnow() - timedelta(days=1)
    used = session.exec(
        select(func.count()).where(
            col(Vote.voter_id) == voter_id, col(Vote.counted), col(Vote.created_at) > since
        )
    ).one()
    return int(used) >= cap
