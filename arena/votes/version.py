"""The version of the counted votes: the leaderboard cache and every worker key on it."""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import Session, col

from arena.store.tables import Counter

VOTES_VERSION = "votes"


def bump_votes_version(session: Session) -> None:
    """Note that the set of counted votes changed (the leaderboard cache is keyed by this)."""
    session.execute(
        update(Counter).where(col(Counter.name) == VOTES_VERSION).values(value=Counter.value + 1)
    )


def votes_version(session: Session) -> int:
    """The current version of the counted votes."""
    row = session.get(Counter, VOTES_VERSION)
    return row.value if row else 0
