"""Which two models meet: a pure function over (id, weight) pairs and a random generator."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence


class NotEnoughModels(Exception):
    """Fewer than two models can be drawn."""


def draw_pair(candidates: Sequence[tuple[int, float]], rng: random.Random) -> tuple[int, int]:
    """Two distinct ids drawn by weight without replacement, in random side order."""
    pool = [(i, w) for i, w in candidates if w > 0 and math.isfinite(w)]
    if len({i for i, _ in pool}) < 2:
        raise NotEnoughModels("fewer than two models can be drawn")
    first = _weighted_choice(pool, rng)
    second = _weighted_choice([(i, w) for i, w in pool if i != first], rng)
    return (first, second) if rng.random() < 0.5 else (second, first)


def draw_replacement(
    candidates: Sequence[tuple[int, float]], exclude: set[int], rng: random.Random
) -> int | None:
    """One id by weight among those not excluded, or None when there is none."""
    pool = [(i, w) for i, w in candidates if i not in exclude and w > 0 and math.isfinite(w)]
    return _weighted_choice(pool, rng) if pool else None


def _weighted_choice(pool: Sequence[tuple[int, float]], rng: random.Random) -> int:
    total = sum(w for _, w in pool)
    x = rng.random() * total
    for i, w in pool:
        x -= w
        if x < 0:
            return i
    return pool[-1][0]
