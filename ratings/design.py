"""The (contextual) Bradley-Terry likelihood over rows of aggregated or single battles.

A row compares model ``a`` with model ``b`` (with optional features ``z``) and carries weighted
outcome sums. For plain BT the rows are the pairs of a count table; for style control they are
battles. Parameters are ``[theta (n_models), gamma (n_features)]`` in natural-log units, and
P(a beats b) = sigmoid(theta_a - theta_b + z @ gamma); a tie scores half a win.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.special import expit

from ratings.counts import PairCounts


@dataclass(frozen=True)
class Design:
    """Who meets whom in each row, plus the row's (standardised) features."""

    n_models: int
    a: NDArray[np.intp]
    b: NDArray[np.intp]
    z: NDArray[np.float64]  # shape (rows, n_features), n_features may be 0

    @property
    def n_params(self) -> int:
        """Number of parameters (models + features)."""
        return self.n_models + int(self.z.shape[1])


@dataclass(frozen=True)
class Outcomes:
    """Per-row sums of weights (and squared weights) for a wins, b wins, ties."""

    win_a: NDArray[np.float64]
    win_b: NDArray[np.float64]
    tie: NDArray[np.float64]
    sq_a: NDArray[np.float64]
    sq_b: NDArray[np.float64]
    sq_tie: NDArray[np.float64]

    @property
    def score(self) -> NDArray[np.float64]:
        """Weighted score of side a (ties half)."""
        return self.win_a + 0.5 * self.tie

    @property
    def total(self) -> NDArray[np.float64]:
        """Weighted number of battles."""
        return self.win_a + self.win_b + self.tie


def from_counts(c: PairCounts) -> tuple[Design, Outcomes]:
    """Rows = pairs of a count table."""
    design = Design(c.n_models, c.i, c.j, np.zeros((len(c.i), 0)))
    w, w2 = c.weighted, c.weighted_sq
    return design, Outcomes(w[:, 0], w[:, 1], w[:, 2], w2[:, 0], w2[:, 1], w2[:, 2])


def logits(d: Design, params: NDArray[np.float64]) -> NDArray[np.float64]:
    """theta_a - theta_b + z @ gamma for every row."""
    m = d.n_models
    out = params[d.a] - params[d.b]
    if d.z.shape[1]:
        out += d.z @ params[m:]
    return out


def neg_loglik(
    d: Design, params: NDArray[np.float64], score: NDArray[np.float64], total: NDArray[np.float64]
) -> float:
    """Negative weighted log-likelihood."""
    x = logits(d, params)
    # score*log(1+e^-x) + (total-score)*log(1+e^x) = total*log(1+e^x) - score*x: one logaddexp.
    return float(total @ np.logaddexp(0.0, x) - score @ x)


def gradient(
    d: Design, params: NDArray[np.float64], score: NDArray[np.float64], total: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Gradient of the log-likelihood and the fitted probabilities."""
    p = expit(logits(d, params))
    resid = score - total * p
    return scatter(d, resid), p


def scatter(d: Design, r: NDArray[np.float64]) -> NDArray[np.float64]:
    """Sum row values into parameters: X^T r with X = [e_a - e_b, z]."""
    m = d.n_models
    g = np.asarray(
        np.bincount(d.a, r, minlength=m) - np.bincount(d.b, r, minlength=m), dtype=np.float64
    )
    if d.z.shape[1]:
        g = np.concatenate([g, np.asarray(d.z.T @ r, dtype=np.float64)])
    return g


def gram(d: Design, w: NDArray[np.float64]) -> NDArray[np.float64]:
    """X^T diag(w) X with X = [e_a - e_b, z], built in O(rows + params^2)."""
    m, k = d.n_models, d.z.shape[1]
    flat = np.bincount(d.a * m + d.b, w, minlength=m * m).reshape(m, m)
    s = flat + flat.T
    out = np.zeros((m + k, m + k))
    out[:m, :m] = -s
    out[np.arange(m), np.arange(m)] = s.sum(axis=1)
    if k:
        wz = d.z.T * w  # (k, rows): each feature's weighted column contiguous for bincount
        cross = np.stack(
            [
                np.bincount(d.a, wz[t], minlength=m) - np.bincount(d.b, wz[t], minlength=m)
                for t in range(k)
            ],
            axis=1,
        )
        out[:m, m:] = cross
        out[m:, :m] = cross.T
        out[m:, m:] = wz @ d.z
    return out


def hessian(
    d: Design, params: NDArray[np.float64], total: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Observed information (minus the Hessian of the log-likelihood)."""
    p = expit(logits(d, params))
    return gram(d, total * p * (1.0 - p))


def score_outer(d: Design, params: NDArray[np.float64], o: Outcomes) -> NDArray[np.float64]:
    """Sum over battles of squared score contributions (the sandwich's meat J)."""
    p = expit(logits(d, params))
    v = o.sq_a * (1.0 - p) ** 2 + o.sq_b * p**2 + o.sq_tie * (0.5 - p) ** 2
    return gram(d, v)
