"""Daily snapshots of the leaderboard: written with every stored board, read by the history chart.

A board stored on a day overwrites that day's snapshot for its key (an upsert on (day, key)),
so several workers storing the same board at once leave exactly one row a day, holding the
newest ratings of that day.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select

from arena.store.tables import RatingSnapshot


@dataclass(frozen=True)
class Point:
    """One model on one day."""

    day: str
    rating: float
    ci_lower: float
    ci_upper: float
    rank: int
    battles: int
    preliminary: bool


def record_snapshot(conn: Connection, key: str, payload: dict[str, Any], now: datetime) -> None:
    """Store (or replace) today's snapshot of this board, inside the caller's transaction."""
    models = payload.get("leaderboard", {}).get("models")
    if not models:
        return
    ratings = {
        m["model"]: [
            m["rating"],
            m["ci_lower"],
            m["ci_upper"],
            m["rank"],
            m["battles"],
            bool(m["preliminary"]),
        ]
        for m in models
        if m["rating"] is not None
    }
    insert = sqlite_insert if conn.dialect.name == "sqlite" else postgresql_insert
    stmt = insert(RatingSnapshot).values(
        day=now.date().isoformat(), key=key, ratings=json.dumps(ratings), taken_at=now
    )
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[col(RatingSnapshot.day), col(RatingSnapshot.key)],
            set_={"ratings": stmt.excluded.ratings, "taken_at": stmt.excluded.taken_at},
            where=col(RatingSnapshot.taken_at) <= stmt.excluded.taken_at,
        )
    )


def model_history(engine: Engine, key: str, model: str, days: int = 365) -> list[Point]:
    """The model's daily ratings on this board, oldest first (days it was not rated left out)."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(col(RatingSnapshot.day), col(RatingSnapshot.ratings))
            .where(col(RatingSnapshot.key) == key)
            .order_by(col(RatingSnapshot.day).desc())
            .limit(days)
        ).all()
    out = []
    for day, raw in reversed(rows):
        r = json.loads(raw).get(model)
        if r is not None:
            out.append(Point(str(day), r[0], r[1], r[2], int(r[3]), int(r[4]), bool(r[5])))
    return out
