"""A category board beside the overall one: each model's overall rank and how it moved."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from arena.votes.category_bits import CATEGORIES, bit

if TYPE_CHECKING:
    from arena.votes.cache import Snapshot


def snapshot_counts(snap: Snapshot) -> dict[str, int]:
    """Counted anonymous battles per category, from a worker's vote columns (for the chips)."""
    bits = snap.categories
    return {c: int(np.count_nonzero(bits & bit(c))) for c in CATEGORIES}


def add_rank_overall(models: list[dict[str, Any]], overall: list[dict[str, Any]]) -> None:
    """Give each row `rank_overall` (its rank on the unfiltered board) and `rank_change`
    (places gained in the category: 3 when 5th overall and 2nd here; null when unranked)."""
    ranks = {m["model"]: m["rank"] for m in overall}
    for m in models:
        m["rank_overall"] = ranks.get(m["model"])
        m["rank_change"] = None if m["rank_overall"] is None else m["rank_overall"] - m["rank"]
