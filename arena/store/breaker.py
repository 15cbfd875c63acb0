"""The circuit breaker: a model that fails K times in a row is paused for T and not drawn.

After the pause the model is on probation: its count of failures in a row is kept, so one more
failure pauses it again at once, and one complete answer clears it (a half-open breaker).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Connection, Engine, bindparam, update
from sqlmodel import col

from arena.store.engine import session_scope
from arena.store.tables import Endpoint, utcnow


def record_successes(conn: Connection, endpoint_ids: list[int]) -> None:
    """Complete answers reset their models' counts of failures in a row (in the caller's
    transaction: the turn's final save)."""
    conn.execute(_RESET_FAILURES, {"ids": endpoint_ids})


_RESET_FAILURES = (  # built once: it runs for every finished turn
    update(Endpoint)
    .where(
        col(Endpoint.id).in_(bindparam("ids", expanding=True)),
        col(Endpoint.consecutive_failures) > 0,
    )
    .values(consecutive_failures=0)
)


def record_failure(
    engine: Engine, endpoint_id: int, detail: str, threshold: int, pause: timedelta
) -> bool:
    """Count a failure; pause the model at `threshold` in a row (or more). True if paused now."""
    with session_scope(engine) as session:
        session.execute(
            update(Endpoint)
            .where(col(Endpoint.id) == endpoint_id)
            .values(
                consecutive_failures=col(Endpoint.consecutive_failures) + 1,
                last_error=detail[:2000],
            )
        )
        endpoint = session.get(Endpoint, endpoint_id)
        if endpoint is None or endpoint.consecutive_failures < threshold:
            return False
        endpoint.paused_until = utcnow() + pause
        session.add(endpoint)
        return True
