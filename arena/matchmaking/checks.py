"""Startup checks of the matchmaking inputs."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import col, select

from arena.matchmaking.policy import Candidate, NotEnoughModels, validate
from arena.store.engine import session_scope
from arena.store.tables import Endpoint


def check_weights(engine: Engine) -> list[str]:
    """Refuse a negative or NaN weight among enabled models; warn when fewer than two can meet."""

    with session_scope(engine) as session:
        rows = session.exec(
            select(Endpoint).where(col(Endpoint.enabled), col(Endpoint.retired).is_(False))
        ).all()
        candidates = [Candidate(e.id, e.weight) for e in rows if e.id is not None]
    try:
        validate(candidates)
    except NotEnoughModels:
        return ["fewer than two enabled models with a weight above 0: battles get 409 until then"]
    return []
