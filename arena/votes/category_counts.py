"""How many counted battles each category has: one SQL pass, a bitwise AND per category."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, case, func, literal
from sqlalchemy import select as sa_select
from sqlmodel import col

from arena.store.engine import session_scope
from arena.store.tables import Vote
from arena.votes.category_bits import CATEGORIES, bit


def category_counts(engine: Engine) -> dict[str, Any]:
    """`{"total_battles", "categories": [{"category", "battles"}]}` over the counted anonymous
    votes (the ones the leaderboard ranks, before vote hygiene)."""
    bits = col(Vote.category_bits)
    sums = [
        func.coalesce(func.sum(case((bits.op("&")(literal(bit(c))) != 0, 1), else_=0)), 0)
        for c in CATEGORIES
    ]
    with session_scope(engine) as session:
        row = session.execute(
            sa_select(func.count(), *sums).where(col(Vote.counted), col(Vote.anony))
        ).one()
    total, *counts = (int(x or 0) for x in row)
    return {
        "total_battles": total,
        "categories": [
            {"category": c, "battles": n} for c, n in zip(CATEGORIES, counts, strict=True)
        ],
    }
