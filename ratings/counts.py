"""Per-pair count tables: aggregate battles once, then every fit costs O(pairs)."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

# Above this many (pair, outcome) bins a dense bincount would waste memory; use np.unique.
_DENSE_BINS = 1 << 26


@dataclass(frozen=True)
class PairCounts:
    """Battle counts per unordered pair ``i < j``.

    ``counts[:, k]`` are raw battle counts for k = (i won, j won, tie, tie (bothbad));
    ``weighted`` / ``weighted_sq`` hold sums of weights / squared weights for
    (i won, j won, any tie). Without weights, ``weighted == weighted_sq`` == merged counts.
    """

    n_models: int
    i: NDArray[np.intp]
    j: NDArray[np.intp]
    counts: NDArray[np.int64]
    weighted: NDArray[np.float64]
    weighted_sq: NDArray[np.float64]

    @property
    def total(self) -> int:
        """Number of battles in the table."""
        return int(self.counts.sum())

    @property
    def pair_totals(self) -> NDArray[np.int64]:
        """Raw number of battles per pair."""
        out: NDArray[np.int64] = self.counts.sum(axis=1)
        return out

    def without_ties(self) -> PairCounts:
        """Drop tie and tie (bothbad) battles."""
        counts = self.counts.copy()
        counts[:, 2:] = 0
        weighted, weighted_sq = self.weighted.copy(), self.weighted_sq.copy()
        weighted[:, 2] = 0.0
        weighted_sq[:, 2] = 0.0
        return _drop_empty(replace(self, counts=counts, weighted=weighted, weighted_sq=weighted_sq))

    def reweighted(self, floor: float = 50.0) -> PairCounts:
        """Multiply weights by ``1 / max(n_pair, floor)`` (LMArena's inverse pair frequency)."""
        scale = 1.0 / np.maximum(self.pair_totals.astype(np.float64), floor)
        return replace(
            self,
            weighted=self.weighted * scale[:, None],
            weighted_sq=self.weighted_sq * (scale**2)[:, None],
        )


def _drop_empty(c: PairCounts) -> PairCounts:
    keep = c.counts.sum(axis=1) > 0
    if bool(keep.all()):
        return c
    return replace(
        c,
        i=c.i[keep],
        j=c.j[keep],
        counts=c.counts[keep],
        weighted=c.weighted[keep],
        weighted_sq=c.weighted_sq[keep],
    )


def _merge_ties(table: NDArray[np.generic]) -> NDArray[np.float64]:
    t = np.asarray(table, dtype=np.float64)
    return np.column_stack([t[:, 0], t[:, 1], t[:, 2] + t[:, 3]])


def aggregate(
    model_a: NDArray[np.integer],
    model_b: NDArray[np.integer],
    outcome: NDArray[np.integer],
    n_models: int,
    weights: NDArray[np.floating] | None = None,
) -> PairCounts:
    """Count battles per unordered pair and outcome in one pass (outcome codes 0-3)."""
    m = int(n_models)
    # 32-bit keys halve the memory traffic whenever they fit.
    dt = np.int32 if m * m * 4 < 2**31 else np.int64
    a: NDArray[np.integer] = np.asarray(model_a, dtype=dt)
    b: NDArray[np.integer] = np.asarray(model_b, dtype=dt)
    cat = np.asarray(outcome, dtype=np.int8)
    # Seen from the lower id, a win by model_b of a swapped pair is a win by `lo` (0 <-> 1).
    cat = cat ^ ((a > b) & (cat < 2)).view(np.int8)
    key = np.minimum(a, b) * dt(4 * m)
    key += np.maximum(a, b) * dt(4)
    key += cat
    if m * m * 4 <= _DENSE_BINS:
        return _from_keys_dense(key, m, weights)
    return _from_keys_sparse(key, m, weights)


def _from_keys_dense(
    key: NDArray[np.integer], m: int, weights: NDArray[np.floating] | None
) -> PairCounts:
    table = np.bincount(key, minlength=m * m * 4).reshape(m * m, 4)
    nz = np.flatnonzero(table.any(axis=1))
    counts = table[nz].astype(np.int64)
    if weights is None:
        w = _merge_ties(counts)
        w2 = w
    else:
        wt = np.asarray(weights, dtype=np.float64)
        w = _merge_ties(np.bincount(key, wt, minlength=m * m * 4).reshape(m * m, 4)[nz])
        w2 = _merge_ties(np.bincount(key, wt * wt, minlength=m * m * 4).reshape(m * m, 4)[nz])
    return PairCounts(m, nz // m, nz % m, counts, w, w2)


def _from_keys_sparse(
    key: NDArray[np.integer], m: int, weights: NDArray[np.floating] | None
) -> PairCounts:
    uniq, inverse = np.unique(key, return_inverse=True)
    pair_keys, pair_index = np.unique(uniq // 4, return_inverse=True)
    cell = pair_index * 4 + uniq % 4
    size = len(pair_keys) * 4
    per_key = np.bincount(inverse, minlength=len(uniq))
    counts = np.bincount(cell, per_key, minlength=size).reshape(-1, 4).astype(np.int64)
    if weights is None:
        w = _merge_ties(counts)
        w2 = w
    else:
        wt = np.asarray(weights, dtype=np.float64)
        sums = np.bincount(inverse, wt, minlength=len(uniq))
        sums_sq = np.bincount(inverse, wt * wt, minlength=len(uniq))
        w = _merge_ties(np.bincount(cell, sums, minlength=size).reshape(-1, 4))
        w2 = _merge_ties(np.bincount(cell, sums_sq, minlength=size).reshape(-1, 4))
    pk = pair_keys.astype(np.intp)
    return PairCounts(m, pk // m, pk % m, counts, w, w2)


@dataclass(frozen=True)
class ModelStats:
    """Raw per-model totals over a count table."""

    battles: NDArray[np.int64]
    wins: NDArray[np.int64]
    losses: NDArray[np.int64]
    ties: NDArray[np.int64]

    @property
    def win_rate(self) -> NDArray[np.float64]:
        """(wins + ties / 2) / battles, 0 for models without battles."""
        score = self.wins + 0.5 * self.ties
        return np.divide(score, self.battles, out=np.zeros(len(score)), where=self.battles > 0)


def model_stats(c: PairCounts) -> ModelStats:
    """Battles, wins, losses and ties (both kinds) per model."""
    m = c.n_models

    def per_model(x: NDArray[np.int64], y: NDArray[np.int64]) -> NDArray[np.int64]:
        return (np.bincount(c.i, x, minlength=m) + np.bincount(c.j, y, minlength=m)).astype(
            np.int64
        )

    ties = c.counts[:, 2] + c.counts[:, 3]
    wins = per_model(c.counts[:, 0], c.counts[:, 1])
    losses = per_model(c.counts[:, 1], c.counts[:, 0])
    ties_m = per_model(ties, ties)
    return ModelStats(wins + losses + ties_m, wins, losses, ties_m)


def pair_matrices(
    c: PairCounts, order: NDArray[np.intp]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Battle-count and observed win-rate (ties half, NaN without battles) matrices in ``order``."""
    m = c.n_models
    n = np.zeros((m, m))
    score = np.zeros((m, m))
    tot = c.pair_totals.astype(np.float64)
    ties = (c.counts[:, 2] + c.counts[:, 3]).astype(np.float64)
    n[c.i, c.j] = tot
    n[c.j, c.i] = tot
    score[c.i, c.j] = c.counts[:, 0] + 0.5 * ties
    score[c.j, c.i] = c.counts[:, 1] + 0.5 * ties
    n, score = n[np.ix_(order, order)], score[np.ix_(order, order)]
    rate = np.divide(score, n, out=np.full(n.shape, np.nan), where=n > 0)
    return n, rate
