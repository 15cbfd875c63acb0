"""A bootstrap of the count table that costs what the models cost, not what the battles cost.

Resampling every battle (or every cell of the pair count table) and refitting is exact but
grows with the table: at 300 models and ten million battles, 1,000 rounds draw 135 million
cell counts and refit 1,000 times. Here each round is one Newton step from the full-data fit,
with the full-data Hessian (the resampled Hessian differs from it by O(1/sqrt(n)), which moves
an interval by far less than its Monte Carlo noise). The step is linear in the resampled counts:

    params* = params + A^-1 X^T u,   u_pair = sum over outcomes of (N - n) * w * (y - p)

with ``N`` Poisson(n) counts (independent Poisson counts are the multinomial resample given its
total). Small pairs are drawn cell by cell. For pairs with many battles ``X^T u`` is a sum of
independent terms whose law is normal to within the draws' own noise, with covariance
``X^T diag(var u) X`` (the same matrix the sandwich calls J): it is drawn once per round from
that model-sized matrix instead of pair by pair. The percentile intervals then match the
battle-level bootstrap (tests/test_ratings_linear_bootstrap.py checks it against refits).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csr_matrix
from scipy.special import expit

from ratings.counts import PairCounts
from ratings.design import Design, Outcomes, gram, logits
from ratings.newton import Fit, factor, solve

#: Pairs between two models that each have at least this many battles are resampled through
#: the normal limit of their sum (each model's score sums over all of its battles).
WELL_SAMPLED = 200
# Small-pair cell draws held in memory at once (rounds x cells).
_BATCH_CELLS = 4_000_000


def bootstrap_linear(
    c: PairCounts, d: Design, o: Outcomes, f: Fit, *, rounds: int, seed: int
) -> NDArray[np.float64]:
    """``rounds`` bootstrap replicates of the parameters, shape (rounds, n_params)."""
    if d.z.shape[1]:
        raise ValueError("the linear bootstrap is for plain count tables (no style features)")
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed)))
    m = d.n_models
    p = expit(logits(d, f.params))
    # Score residual of each outcome, per pair: a wins, b wins, tie (half a win).
    resid = np.column_stack([1.0 - p, -p, 0.5 - p])
    battles = np.bincount(d.a, c.pair_totals, minlength=m) + np.bincount(
        d.b, c.pair_totals, minlength=m
    )
    large = (battles[d.a] >= WELL_SAMPLED) & (battles[d.b] >= WELL_SAMPLED)
    grad = _normal_part(d, o, resid, large, rounds, rng)
    small = np.flatnonzero(~large)
    if small.size:
        grad += _poisson_part(c, d, resid, small, rounds, rng)
    fac = factor(f.system)
    out: NDArray[np.float64] = f.params[None, :m] + solve(fac, grad.T).T
    return out


def _normal_part(
    d: Design,
    o: Outcomes,
    resid: NDArray[np.float64],
    large: NDArray[np.bool_],
    rounds: int,
    rng: np.random.Generator,
) -> NDArray[np.float64]:
    """Draws of X^T u summed over the large pairs: normal, covariance X^T diag(var u) X."""
    var = o.sq_a * resid[:, 0] ** 2 + o.sq_b * resid[:, 1] ** 2 + o.sq_tie * resid[:, 2] ** 2
    meat = gram(d, np.where(large, var, 0.0))
    vals, vecs = np.linalg.eigh(meat)
    root = vecs * np.sqrt(np.clip(vals, 0.0, None))
    out: NDArray[np.float64] = rng.standard_normal((rounds, d.n_models)) @ root.T
    return out


def _poisson_part(
    c: PairCounts,
    d: Design,
    resid: NDArray[np.float64],
    small: NDArray[np.intp],
    rounds: int,
    rng: np.random.Generator,
) -> NDArray[np.float64]:
    """Draws of X^T u summed over the small pairs, cell by cell."""
    t = c.counts[small]
    cells = np.column_stack([t[:, 0], t[:, 1], t[:, 2] + t[:, 3]]).astype(np.float64)
    mean_w = np.divide(c.weighted[small], cells, out=np.zeros_like(cells), where=cells > 0)
    step = (mean_w * resid[small]).ravel()  # what one more battle in a cell adds to u
    lam = cells.ravel()
    n_pairs = small.size
    rows = np.repeat(np.arange(n_pairs), 3)
    # Cells -> models: +step to model a, -step to model b.
    to_models = csr_matrix(
        (
            np.concatenate([step, -step]),
            (
                np.concatenate([np.arange(lam.size)] * 2),
                np.concatenate([d.a[small][rows], d.b[small][rows]]),
            ),
        ),
        shape=(lam.size, d.n_models),
    )
    out = np.empty((rounds, d.n_models))
    batch = max(1, _BATCH_CELLS // max(lam.size, 1))
    for start in range(0, rounds, batch):
        n = min(batch, rounds - start)
        dev = rng.poisson(lam, size=(n, lam.size)) - lam
        out[start : start + n] = (to_models.T @ dev.T).T
    return out
