"""How far two raters agree on win/tie/loss: confusion matrix, Cohen's kappa, rank correlation."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import NDArray
from scipy import stats

# Row and column order of a confusion matrix: A wins, tie, B wins (as scores +1, 0, -1).
CLASSES = (1, 0, -1)


def confusion(first: Sequence[int], second: Sequence[int]) -> NDArray[np.int64]:
    """3×3 counts: rows are the first rater's verdicts, columns the second's (A, tie, B)."""
    out = np.zeros((3, 3), dtype=np.int64)
    index = {c: i for i, c in enumerate(CLASSES)}
    for x, y in zip(first, second, strict=True):
        out[index[x], index[y]] += 1
    return out


def agreement(matrix: NDArray[np.int64]) -> float | None:
    """The share of items both raters put in the same class; None without items."""
    total = int(matrix.sum())
    return float(np.trace(matrix)) / total if total else None


def cohen_kappa(matrix: NDArray[np.int64]) -> float | None:
    """Cohen's kappa of a square confusion matrix; None when undefined (no items, or both
    raters always give one and the same class, so chance agreement is 1)."""
    total = float(matrix.sum())
    if not total:
        return None
    observed = float(np.trace(matrix)) / total
    expected = float((matrix.sum(axis=0) * matrix.sum(axis=1)).sum()) / total**2
    if math.isclose(expected, 1.0):
        return None
    return (observed - expected) / (1.0 - expected)


def spearman(first: Mapping[str, float], second: Mapping[str, float]) -> float | None:
    """Spearman's rank correlation over the keys both have; None with fewer than three."""
    common = sorted(set(first) & set(second))
    if len(common) < 3:
        return None
    rho = stats.spearmanr([first[k] for k in common], [second[k] for k in common]).statistic
    return None if not np.isfinite(rho) else float(rho)
