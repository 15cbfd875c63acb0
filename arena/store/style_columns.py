"""A vote's style features as eight numeric columns (tokens, headers, lists, bold; a, then b).

A leaderboard with style control reads them for every counted vote: as plain floats they come
out of one SELECT straight into a numpy array, where a JSON list would be decoded vote by vote.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from arena.store.tables import Vote

#: The columns, in the order of the old style vector: side a's four features, then side b's.
STYLE_COLUMNS: tuple[str, ...] = tuple(
    f"style_{feature}_{side}" for side in "ab" for feature in ("tokens", "headers", "lists", "bold")
)


def style_fields(vector: Sequence[float] | None) -> dict[str, float | None]:
    """The column values of a style vector of 8 numbers; all None for anything else."""
    if vector is None or len(vector) != len(STYLE_COLUMNS):
        return dict.fromkeys(STYLE_COLUMNS)
    values = [float(x) for x in vector]
    if not all(math.isfinite(x) for x in values):
        return dict.fromkeys(STYLE_COLUMNS)
    return dict(zip(STYLE_COLUMNS, values, strict=True))


def stored_style(row: Vote | Any) -> list[float]:
    """The 8 style features of a vote (or of a row holding the columns); [] when unknown."""
    values = [getattr(row, name) for name in STYLE_COLUMNS]
    if any(v is None for v in values):
        return []
    return [float(v) for v in values]


def with_style(vote: Vote, vector: Sequence[float] | None) -> Vote:
    """The vote with its style columns set from a style vector (NULLs for none)."""
    for name, value in style_fields(vector).items():
        setattr(vote, name, value)
    return vote
