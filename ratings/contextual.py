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


#: A style feature explained this well (R²) by who plays whom and the features kept before it is
#: not identifiable: its coefficient trades off against a model's strength and both intervals
#: explode (VIF 100).
COLLINEAR_R2 = 0.99


def collinear_features(d: Design) -> list[tuple[int, float, int | None]]:
    """Features (index, R², the model it coincides with or None) that the models and the
    earlier kept features explain almost exactly; computed on the normal equations, so the cost
    grows with the number of models, not of battles."""
    m, k = d.n_models, int(d.z.shape[1])
    if k == 0 or len(d.a) == 0:
        return []
    pair = np.bincount(d.a * m + d.b, minlength=m * m).reshape(m, m).astype(np.float64)
    gram_m = np.diag(pair.sum(axis=0) + pair.sum(axis=1)) - pair - pair.T
    cross = np.stack(
        [
            np.bincount(d.a, weights=d.z[:, j], minlength=m)
            - np.bincount(d.b, weights=d.z[:, j], minlength=m)
            for j in range(k)
        ],
        axis=1,
    )
    gram_z = d.z.T @ d.z
    kept: list[int] = []
    out: list[tuple[int, float, int | None]] = []
    for j in range(k):
        total = float(gram_z[j, j])
        if total <= 1e-12 * len(d.a):
            continue  # a constant column is already left out of the fit
        gram = np.block([[gram_m, cross[:, kept]], [cross[:, kept].T, gram_z[np.ix_(kept, kept)]]])
        rhs = np.concatenate([cross[:, j], gram_z[kept, j]])
        beta = np.linalg.lstsq(gram, rhs, rcond=None)[0]
        r2 = float(rhs @ beta) / total
        if r2 < COLLINEAR_R2:
            kept.append(j)
            continue
        scale = np.sqrt(np.maximum(np.diagonal(gram_m), 1e-300) * total)
        corr = np.abs(cross[:, j]) / scale
        best = int(np.argmax(corr))
        out.append((j, r2, best if corr[best] > 0.9 else None))
    return out
