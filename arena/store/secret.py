"""The arena's shared secret: ARENA_SECRET_KEY, or in development one kept in the database."""

from __future__ import annotations

import secrets

from sqlalchemy import Engine

from arena.core.settings import Settings
from arena.store.engine import session_scope
from arena.store.tables import Meta


def shared_secret(engine: Engine, settings: Settings) -> str:
    """ARENA_SECRET_KEY, or (in development) one generated once and shared through the database."""
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value()
    if settings.environment == "production":
        raise RuntimeError("ARENA_SECRET_KEY (at least 32 characters) is required in production")
    with session_scope(engine) as session:
        row = session.get(Meta, "secret_key")
        if row is None:
            row = Meta(key="secret_key", value=secrets.token_urlsafe(48))
            session.add(row)
            session.flush()
        return row.value
