"""Rate limits and the daily vote cap, counted from the database so every worker agrees.

A limit is N events per window per voter (signed cookie) and per client IP. The count is a
sliding window over indexed rows (`battle`, `vote`), so there is no counter to keep in sync and
nothing in process memory; an over-limit request gets 429 with the seconds until a slot frees up.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from arena.core import metrics
from arena.core.errors import BattleError
from arena.core.rules import Limits
from arena.store.tables import Battle, Vote, utcnow


class RateLimited(BattleError):
    """Too many requests; `retry_after` is in whole seconds."""

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(429, detail)
        self.retry_after = retry_after


HOUR = timedelta(hours=1)


@cache
def _window_query(table: Any, column: str) -> Select[str, int, datetime | None]:
    """Events and the oldest of them since `:since` for each of `:values` of `column` (built once:
    building the expression cost more than running the indexed count)."""
    key = getattr(table, column)
    oldest: ColumnElement[datetime | None] = func.min(table.created_at)
    return (
        sa_select(key, func.count(), oldest)
        .where(key.in_(bindparam("values", expanding=True)), table.created_at > bindparam("since"))
        .group_by(key)
    )


class Usage:
    """How much of the hourly `what` (battles|votes) some voters and IPs have used.

    Counted once for a batch of requests, then kept current as the batch lets requests through,
    so that two requests of one voter in the same batch cannot both take its last slot.
    `pending` adds events this worker has let through but not stored yet.
    """

    def __init__(
        self,
        session: Session,
        *,
        what: str,
        limits: Limits,
        voter_ids: Iterable[str],
        client_ips: Iterable[str | None],
        pending: Mapping[tuple[str, str], int] | None = None,
    ) -> None:
        table = Battle if what == "battles" else Vote
        self.what = what
        self.now = utcnow()
        self.limits = {
            "voter_id": limits.battles_per_voter if what == "battles" else limits.votes_per_voter,
            "client_ip": limits.battles_per_ip if what == "battles" else limits.votes_per_ip,
        }
        self.used: dict[tuple[str, str], tuple[int, datetime | None]] = {}
        for column, values in (("voter_id", voter_ids), ("client_ip", client_ips)):
            wanted = sorted({v for v in values if v})
            if not self.limits[column] or not wanted:
                continue
            rows = session.connection().execute(
                _window_query(table, column), {"values": wanted, "since": self.now - HOUR}
            )
            found = {value: (int(n), oldest) for value, n, oldest in rows}
            for value in wanted:
                n, oldest = found.get(value, (0, None))
                self.used[column, value] = (n + (pending or {}).get((column, value), 0), oldest)

    def _keys(self, voter_id: str, client_ip: str | None) -> list[tuple[str, str]]:
        keys = [("voter_id", voter_id), ("client_ip", client_ip or "")]
        return [k for k in keys if k in self.used]

    def check(self, voter_id: str, client_ip: str | None) -> None:
        """Raise RateLimited when this voter or IP has used up its hour."""
        for key in self._keys(voter_id, client_ip):
            used, oldest = self.used[key]
            limit = self.limits[key[0]]
            if used >= limit:
                who = "you" if key[0] == "voter_id" else "your network"
                frees = (oldest + HOUR) if oldest else (self.now + HOUR)
                wait = (frees - self.now).total_seconds()
                by = "voter" if key[0] == "voter_id" else "ip"
                metrics.LIMITS_HIT.labels(f"{self.what}_per_{by}").inc()
                raise RateLimited(
                    f"Too many {self.what} from {who}: at most {limit} an hour. Try again later.",
                    max(1, math.ceil(wait)),
                )

    def count(self, voter_id: str, client_ip: str | None) -> None:
        """One more event of this voter and IP (let through, not stored yet)."""
        for key in self._keys(voter_id, client_ip):
            used, oldest = self.used[key]
            self.used[key] = (used + 1, oldest)


def check(
    session: Session, *, what: str, voter_id: str, client_ip: str | None, limits: Limits
) -> None:
    """Raise RateLimited when this voter or IP has used up its hourly `what` (battles|votes)."""
    usage = Usage(session, what=what, limits=limits, voter_ids=[voter_id], client_ips=[client_ip])
    usage.check(voter_id, client_ip)


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
