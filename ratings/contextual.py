"""Per-battle rows for style control (contextual Bradley-Terry)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ratings.battles import MODEL_A, MODEL_B, TIE, Battles
from ratings.design import Design, Outcomes
from ratings.style import normalised_features


def pair_sizes(battles: Battles) -> NDArray[np.float64]:
    """Number of battles of each battle's unordered pair."""
    m = len(battles.names)
    a = battles.model_a.astype(np.int64)
    b = battles.model_b.astype(np.int64)
    key = np.minimum(a, b) * m + np.maximum(a, b)
    _, inverse, sizes = np.unique(key, return_inverse=True, return_counts=True)
    return sizes[inverse].astype(np.float64)


def battle_weights(battles: Battles, *, reweight: bool) -> NDArray[np.float64] | None:
    """Per-battle weights: given weights times ``1/max(n_pair, 50)`` when ``reweight``."""
    w = battles.weights
    if reweight:
        inv = 1.0 / np.maximum(pair_sizes(battles), 50.0)
        w = inv if w is None else w * inv
    return w


def style_rows(battles: Battles, weights: NDArray[np.float64] | None) -> tuple[Design, Outcomes]:
    """Design with standardised normalised style differences, one row per battle."""
    if battles.style is None:
        raise ValueError("style control needs style features")
    z = normalised_features(battles.style)
    d = Design(
        len(battles.names),
        battles.model_a.astype(np.intp),
        battles.model_b.astype(np.intp),
        np.ascontiguousarray(z),
    )
    w = np.ones(len(battles)) if weights is None else weights
    o = battles.outcome
    win_a = np.where(o == MODEL_A, w, 0.0)
    win_b = np.where(o == MODEL_B, w, 0.0)
    tie = np.where(o >= TIE, w, 0.0)
    return d, Outcomes(win_a, win_b, tie, win_a * w, win_b * w, tie * w)
