"""Admin sessions kept on the server: a row per signed-in browser, so that logout, "log out
everywhere" and a new admin token end sessions on every worker, not just forget a cookie."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import col, delete, select

from arena.store.engine import session_scope
from arena.store.tables import AdminSession, utcnow


def _row_id(secret: str) -> str:
    return hashlib.sha256(b"admin-session:" + secret.encode()).hexdigest()


def start(
    engine: Engine, secret: str, token_fingerprint: str, client_ip: str | None, hours: float
) -> None:
    """Record a new session (its secret is the random part of the signed cookie)."""
    now = utcnow()
    with session_scope(engine) as session:
        # Expired rows go when new ones come: the table stays the size of the live sessions.
        session.exec(delete(AdminSession).where(col(AdminSession.expires_at) < now))
        session.add(
            AdminSession(
                id=_row_id(secret),
                token_fingerprint=token_fingerprint,
                client_ip=client_ip,
                created_at=now,
                expires_at=now + timedelta(hours=hours),
            )
        )


def alive(engine: Engine, secret: str, token_fingerprint: str | None) -> bool:
    """Whether the session exists, has not expired and began under the admin token in force."""
    if token_fingerprint is None:
        return False
    with session_scope(engine) as session:
        row = session.get(AdminSession, _row_id(secret))
    return (
        row is not None and row.expires_at > utcnow() and row.token_fingerprint == token_fingerprint
    )


def end(engine: Engine, secret: str) -> None:
    """Log one session out."""
    with session_scope(engine) as session:
        session.exec(delete(AdminSession).where(col(AdminSession.id) == _row_id(secret)))


def end_all(engine: Engine) -> int:
    """Log every session out; how many there were."""
    with session_scope(engine) as session:
        count = len(session.exec(select(AdminSession.id)).all())
        session.exec(delete(AdminSession))
    return count
