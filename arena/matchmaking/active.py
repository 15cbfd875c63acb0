"""Statistics for active matchmaking: a Bradley-Terry fit of the votes and each rule's pair gains.

See `arena.matchmaking` for the rules and why the greedy design is the default.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.linalg import LinAlgError, cho_factor, cho_solve
from scipy.special import expit
from threadpoolctl import threadpool_limits

from arena.core.errors import MatchmakingError

Floats = NDArray[np.float64]
WINNERS = ("model_a", "model_b", "tie", "tie (bothbad)")


@dataclass(frozen=True, eq=False)
class ActiveStats:
    """A Bradley-Terry fit of the votes; each rule's pair scores are computed on first use."""

    model_ids: tuple[int, ...]
    rating: Floats  # natural-log units, mean zero
    cov: Floats  # Fisher (Laplace) covariance of `rating`, mean-zero gauge
    pair_battles: Floats  # symmetric
    pair_ties: Floats  # symmetric
    horizon: int  # votes the greedy design plans ahead

    @property
    def win_prob(self) -> Floats:
        """Fitted P(i beats j), ties as half."""
        return np.asarray(expit(self.rating[:, None] - self.rating[None, :]), dtype=np.float64)

    @cached_property
    def gain_ratings(self) -> Floats:
        """Drop of the sum of rating standard errors from one more battle of each pair."""
        with threadpool_limits(1):
            return _gain_ratings(self.cov, self.win_prob)

    @cached_property
    def gain_pairs(self) -> Floats:
        """The paper's drop of each pair's win-rate standard error."""
        return _gain_pairs(self.win_prob, self.pair_battles, self.pair_ties)

    @cached_property
    def plan(self) -> Floats:
        """Share of the next ``horizon`` votes the greedy design gives each pair."""
        with threadpool_limits(1):
            return _plan(self.cov, self.win_prob, self.horizon)


def pair_tables(
    model_ids: Sequence[int], rows: Iterable[tuple[int, int, str, int]]
) -> tuple[Floats, Floats]:
    """(wins, ties) matrices from (model_a_id, model_b_id, winner, count) rows; others ignored."""
    index = {mid: k for k, mid in enumerate(model_ids)}
    m = len(model_ids)
    wins, ties = np.zeros((m, m)), np.zeros((m, m))
    for a_id, b_id, winner, count in rows:
        a, b = index.get(a_id), index.get(b_id)
        if a is None or b is None or a == b:
            continue
        if winner == "model_a":
            wins[a, b] += count
        elif winner == "model_b":
            wins[b, a] += count
        elif winner in WINNERS:
            ties[a, b] += count
            ties[b, a] += count
    return wins, ties


def fit_bt(wins: Floats, ties: Floats, prior_sd: float) -> tuple[Floats, Floats]:
    """MAP Bradley-Terry strengths (ties half, N(0, prior_sd^2) prior) and their information."""
    m = wins.shape[0]
    off = 1.0 - np.eye(m)  # a model against itself carries no information
    n = (wins + wins.T + ties) * off
    score = (wins + 0.5 * ties) * off  # score[i, j]: i's points against j
    lam = 1.0 / prior_sd**2
    theta = np.zeros(m)

    def objective(t: Floats) -> float:
        d = t[:, None] - t[None, :]
        return float((score * np.logaddexp(0.0, -d)).sum() + 0.5 * lam * (t @ t))

    def information(t: Floats) -> tuple[Floats, Floats]:
        p = expit(t[:, None] - t[None, :])
        w = n * p * (1.0 - p)
        info = -w
        info[np.diag_indices(m)] = w.sum(axis=1) + lam
        grad = (score - n * p).sum(axis=1) - lam * t
        return info, grad

    f_old = objective(theta)
    for _ in range(100):
        info, grad = information(theta)
        step = _solve(info, grad)
        t = 1.0
        while True:
            cand = theta + t * step
            f_new = objective(cand)
            if f_new <= f_old - 1e-4 * t * float(grad @ step) or t < 1e-6:
                break
            t *= 0.5
        theta, f_old = cand, f_new
        if float(np.abs(t * step).max(initial=0.0)) < 1e-9:
            break
    info, _ = information(theta)
    return theta, info


def active_stats(
    model_ids: Sequence[int],
    wins: ArrayLike,
    ties: ArrayLike | None = None,
    *,
    prior_sd: float = 2.0,
    horizon: int = 250,
) -> ActiveStats:
    """Fit the votes (``wins[i, j]``: i beat j; ``ties`` symmetric) and score every pair."""
    m = len(model_ids)
    w = np.array(wins, dtype=np.float64)  # copies: the caller's tables stay untouched
    t = np.zeros((m, m)) if ties is None else np.array(ties, dtype=np.float64)
    if len(set(model_ids)) != m:
        raise MatchmakingError("model ids must be distinct")
    if w.shape != (m, m) or t.shape != (m, m):
        raise MatchmakingError(f"wins and ties must be {m}x{m} matrices")
    if not (np.isfinite(w).all() and np.isfinite(t).all() and (w >= 0).all() and (t >= 0).all()):
        raise MatchmakingError("counts must be finite and 0 or more")
    if not (math.isfinite(prior_sd) and prior_sd > 0):
        raise MatchmakingError("prior_sd must be a positive number")
    if horizon < 1:
        raise MatchmakingError("horizon must be at least 1")
    t = 0.5 * (t + t.T)
    np.fill_diagonal(w, 0.0)
    np.fill_diagonal(t, 0.0)
    # Small dense solves: many BLAS threads on busy cores are far slower than one.
    with threadpool_limits(1):
        theta, info = fit_bt(w, t, prior_sd)
        # With a ridge prior the all-ones vector is an eigenvector of info, so projecting to the
        # mean-zero gauge commutes with the rank-one updates of the active rules.
        centre = np.eye(m) - 1.0 / max(m, 1)
        cov = centre @ _solve(info, np.eye(m)) @ centre
    return ActiveStats(tuple(model_ids), theta, 0.5 * (cov + cov.T), w + w.T + t, t, horizon)


def _solve(a: Floats, b: Floats) -> Floats:
    try:
        factor = cho_factor(a, lower=True, check_finite=False)
    except LinAlgError:
        jitter = 1e-10 * max(1.0, float(np.abs(np.diagonal(a)).max(initial=0.0)))
        factor = cho_factor(a + jitter * np.eye(a.shape[0]), lower=True, check_finite=False)
    return np.asarray(cho_solve(factor, b, check_finite=False), dtype=np.float64)


def _gain_ratings(cov: Floats, p: Floats, chunk: int = 4096) -> Floats:
    """Drop of sum_k sd_k from one more battle of each pair (exact rank-one update)."""
    m = cov.shape[0]
    out = np.zeros((m, m))
    if m < 2:
        return out
    var = np.clip(np.diagonal(cov), 0.0, None)
    sd = np.sqrt(var)
    ii, jj = np.triu_indices(m, 1)
    for lo in range(0, len(ii), chunk):
        i, j = ii[lo : lo + chunk], jj[lo : lo + chunk]
        u = cov[:, i] - cov[:, j]  # C x for every pair in the chunk, one column each
        s = np.clip(cov[i, i] + cov[j, j] - 2.0 * cov[i, j], 0.0, None)  # x^T C x
        w = p[i, j] * (1.0 - p[i, j])
        drop = (w / (1.0 + w * s))[None, :] * u * u
        gain = (sd[:, None] - np.sqrt(np.clip(var[:, None] - drop, 0.0, None))).sum(axis=0)
        out[i, j] = gain
        out[j, i] = gain
    return out


def _plan(cov: Floats, p: Floats, horizon: int, refresh: int = 8) -> Floats:
    """Greedy design: pick the pair whose battle most lowers sum_k sd_k, update C, repeat.

    The score is the first-order drop ``sum_k drop_k / (2 sd_k) = beta x^T G x`` with
    ``G = C D C``, ``D = diag(1 / (2 sd))``. After a pick ``C -= beta u u^T`` and ``G`` follows in
    O(m^2); ``D`` (and so ``G``) is recomputed every ``refresh`` picks.
    """
    m = cov.shape[0]
    out = np.zeros((m, m))
    if m < 2:
        return out
    c = cov.copy()
    ii, jj = np.triu_indices(m, 1)
    w = p[ii, jj] * (1.0 - p[ii, jj])
    picks = np.zeros(len(ii))
    half_inv_sd = np.zeros(m)
    g = np.zeros((m, m))
    for step in range(horizon):
        if step % refresh == 0:
            half_inv_sd = 0.5 / np.sqrt(np.clip(np.diagonal(c), 1e-300, None))
            g = (c * half_inv_sd[None, :]) @ c
        dc, dg = np.diagonal(c), np.diagonal(g)
        s = np.clip(dc[ii] + dc[jj] - 2.0 * c[ii, jj], 0.0, None)  # x^T C x
        beta = w / (1.0 + w * s)
        k = int(np.argmax(beta * (dg[ii] + dg[jj] - 2.0 * g[ii, jj])))
        picks[k] += 1.0
        u = c[:, ii[k]] - c[:, jj[k]]
        v = c @ (half_inv_sd * u)  # C D u
        b = float(beta[k])
        c -= b * np.outer(u, u)
        g += b * b * float(u @ (half_inv_sd * u)) * np.outer(u, u) - b * (
            np.outer(u, v) + np.outer(v, u)
        )
    out[ii, jj] = picks / horizon
    out[jj, ii] = picks / horizon
    return out


def _gain_pairs(p: Floats, n: Floats, ties: Floats) -> Floats:
    """The paper's rule: drop of sqrt(S/n) from one more battle (n + 1 pseudo-count)."""
    tie_share = np.divide(ties, n, out=np.zeros_like(n), where=n > 0)
    s = np.clip(p * (1.0 - p) - tie_share / 4.0, 1e-4, None)
    gain = np.sqrt(s) * (1.0 / np.sqrt(n + 1.0) - 1.0 / np.sqrt(n + 2.0))
    np.fill_diagonal(gain, 0.0)
    return np.asarray(gain, dtype=np.float64)
