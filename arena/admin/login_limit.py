"""The limit on wrong admin tokens per client IP (login form and bearer API alike).

Failures are rows in the database, so every worker counts the same ones: a guesser cannot get
`workers ×` the attempts by landing on each worker in turn."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import Engine, func
from sqlmodel import col, delete, select

from arena.core import metrics
from arena.store.engine import session_scope
from arena.store.tables import AdminLoginFailure, utcnow
from arena.votes.limits import RateLimited


class TooManyAttempts(RateLimited):
    """429 (with Retry-After): this IP sent too many wrong admin tokens lately."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            f"Too many wrong admin tokens from this address; try again in {retry_after} s.",
            retry_after,
        )


def check(engine: Engine, client_ip: str, attempts: int, window: timedelta) -> None:
    """TooManyAttempts when this IP has `attempts` failures within `window` (0 = no limit)."""
    if attempts <= 0:
        return
    since = utcnow() - window
    with session_scope(engine) as session:
        count, oldest = session.exec(
            select(func.count(), func.min(AdminLoginFailure.at)).where(
                col(AdminLoginFailure.client_ip) == client_ip, col(AdminLoginFailure.at) >= since
            )
        ).one()
    if count >= attempts and oldest is not None:
        wait = (oldest + window - utcnow()).total_seconds()
        metrics.LIMITS_HIT.labels("admin_login_per_ip").inc()
        raise TooManyAttempts(max(1, math.ceil(wait)))


def record_failure(engine: Engine, client_ip: str, window: timedelta) -> None:
    """Count one wrong token from this IP (and forget failures older than the window)."""
    now = utcnow()
    with session_scope(engine) as session:
        session.exec(delete(AdminLoginFailure).where(col(AdminLoginFailure.at) < now - window))
        session.add(AdminLoginFailure(client_ip=client_ip, at=now))


def verify(
    engine: Engine, client_ip: str, attempts: int, window: timedelta, valid: Callable[[], bool]
) -> bool:
    """Check the limit, then the token (`valid`); a wrong one is counted. TooManyAttempts when
    the limit is reached, before the token is even looked at."""
    check(engine, client_ip, attempts, window)
    if valid():
        return True
    record_failure(engine, client_ip, window)
    return False
