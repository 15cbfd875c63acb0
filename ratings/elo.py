"""Online Elo in vote order: a comparison column, never the ranking (it depends on order)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def online_elo(
    model_a: NDArray[np.integer],
    model_b: NDArray[np.integer],
    outcome: NDArray[np.integer],
    n_models: int,
    *,
    k: float = 4.0,
    base: float = 10.0,
    scale: float = 400.0,
    init: float = 1000.0,
) -> NDArray[np.float64]:
    """Sequential Elo updates over battles in the given order; ties score half."""
    ratings = [float(init)] * n_models
    score_of = (1.0, 0.0, 0.5, 0.5)
    for a, b, o in zip(model_a.tolist(), model_b.tolist(), outcome.tolist(), strict=True):
        ra, rb = ratings[a], ratings[b]
        expected = 1.0 / (1.0 + base ** ((rb - ra) / scale))
        delta = k * (score_of[o] - expected)
        ratings[a] = ra + delta
        ratings[b] = rb - delta
    return np.asarray(ratings, dtype=np.float64)
