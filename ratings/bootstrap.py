"""Vectorised bootstrap: resample counts (or battles), refit warm-started, batch by batch."""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csr_matrix
from scipy.special import expit

from ratings.counts import PairCounts
from ratings.design import Design, Outcomes
from ratings.linear_bootstrap import bootstrap_linear
from ratings.newton import Factor, Fit, factor, fit, solve

# Rows x replicates handled at once: bounds memory to a few hundred MB of float64.
_BATCH_CELLS = 4_000_000
_CHORD_STEPS = 30
#: Prior ridge for replicates whose MLE may not exist (same value as compute.PRIOR_RIDGE).
REPLICATE_RIDGE = 0.01
#: Count tables whose rounds x cells stay under this are bootstrapped by exact multinomial
#: resampling and refits (about 0.5 s); larger ones by the linearised count-table bootstrap,
#: which matches it there and costs what the models cost (ratings/linear_bootstrap.py).
EXACT_BOOTSTRAP_CELLS = 5_000_000


def bootstrap(
    c: PairCounts,
    d: Design,
    o: Outcomes,
    f: Fit,
    *,
    basis: NDArray[np.float64],
    ridge: NDArray[np.float64],
    rounds: int,
    seed: int,
) -> NDArray[np.float64]:
    """What ``ci="bootstrap"`` runs: battles resampled with style features (rows), the count
    table resampled exactly when that is cheap, else the linearised count-table bootstrap."""
    kw = {"basis": basis, "ridge": ridge, "rounds": rounds, "seed": seed}
    if d.z.shape[1]:
        return bootstrap_rows(d, o, f, **kw)  # type: ignore[arg-type]
    if rounds * 3 * len(d.a) <= EXACT_BOOTSTRAP_CELLS:
        return bootstrap_counts(c, d, f, **kw)  # type: ignore[arg-type]
    return bootstrap_linear(c, d, o, f, rounds=rounds, seed=seed)


def multinomial(rng: np.random.Generator, cells: NDArray[np.int64], size: int) -> NDArray[np.int64]:
    """Exact Multinomial(N, cells / N) draws, ``size`` of them, via Poisson draws plus thinning.

    Independent Poisson(cells) counts given their sum T are Multinomial(T, p); topping up N - T
    draws from p, or removing T - N items uniformly at random, gives Multinomial(N, p) exactly.
    This is ~2x faster than ``Generator.multinomial`` on tables with many cells.
    """
    n = int(cells.sum())
    out = rng.poisson(cells.astype(np.float64), size=(size, len(cells))).astype(np.int64)
    cdf = np.cumsum(cells / max(n, 1))
    if len(cdf):
        cdf[-1] = 1.0
    for row in out:
        diff = n - int(row.sum())
        if diff > 0:
            np.add.at(row, np.searchsorted(cdf, rng.random(diff), side="right"), 1)
        elif diff < 0:
            pos = rng.choice(n - diff, size=-diff, replace=False)
            np.subtract.at(row, np.searchsorted(np.cumsum(row), pos, side="right"), 1)
    return out


def _incidence(d: Design) -> csr_matrix:
    rows = np.arange(len(d.a))
    data = np.concatenate([np.ones(len(rows)), -np.ones(len(rows))])
    return csr_matrix(
        (data, (np.concatenate([rows, rows]), np.concatenate([d.a, d.b]))),
        shape=(len(rows), d.n_models),
    )


def refit_batch(
    d: Design,
    score: NDArray[np.float64],
    total: NDArray[np.float64],
    *,
    start: NDArray[np.float64],
    fac: Factor,
    ridge: NDArray[np.float64],
    inc: csr_matrix,
    tol: float,
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Chord-Newton for many replicates at once, reusing the full-data factor.

    ``score``/``total`` have shape (replicates, rows). Returns parameters and a converged flag.
    """
    m = d.n_models
    x = np.tile(start, (score.shape[0], 1))
    done = np.zeros(score.shape[0], dtype=bool)
    for _ in range(_CHORD_STEPS):
        lg = x[:, d.a] - x[:, d.b]
        if d.z.shape[1]:
            lg += x[:, m:] @ d.z.T
        resid = score - total * expit(lg)
        g = np.empty_like(x)
        g[:, :m] = (inc.T @ resid.T).T
        if d.z.shape[1]:
            g[:, m:] = resid @ d.z
        g -= ridge * x
        step = solve(fac, g.T).T
        step[~np.isfinite(step)] = 0.0
        x += step
        done = np.abs(step).max(axis=1, initial=0.0) < tol
        if bool(done.all()):
            break
    return x, done


def _refit_all(
    d: Design,
    score: NDArray[np.float64],
    total: NDArray[np.float64],
    ctx: _Context,
) -> NDArray[np.float64]:
    x, done = refit_batch(
        d, score, total, start=ctx.start, fac=ctx.fac, ridge=ctx.ridge, inc=ctx.inc, tol=ctx.tol
    )
    # The chord iteration did not settle (a replicate near separation): full Newton, with the
    # same small prior the point fit uses when its MLE does not exist, so the refit is finite.
    ridge = ctx.ridge.copy()
    ridge[: d.n_models] = np.maximum(ridge[: d.n_models], REPLICATE_RIDGE)
    for r in np.flatnonzero(~done):
        zeros = np.zeros_like(score[r])
        ro = Outcomes(score[r], total[r] - score[r], zeros, zeros, zeros, zeros)
        x[r] = fit(d, ro, basis=ctx.basis, ridge=ridge, start=ctx.start, tol=ctx.tol).params
    return x


@dataclass(frozen=True)
class _Context:
    start: NDArray[np.float64]
    fac: Factor
    basis: NDArray[np.float64]
    ridge: NDArray[np.float64]
    inc: csr_matrix
    tol: float


def _context(d: Design, f: Fit, basis: NDArray[np.float64], ridge: NDArray[np.float64]) -> _Context:
    # 1e-7 natural-log units = 4e-6 rating points: far below any percentile's noise.
    return _Context(f.params, factor(f.system), basis, ridge, _incidence(d), 1e-7)


def _run(
    batches: list[tuple[int, np.random.Generator]],
    one: Callable[[int, np.random.Generator], NDArray[np.float64]],
    n_params: int,
) -> NDArray[np.float64]:
    """Run batches on up to two threads (numpy releases the GIL); order and seeds are fixed."""
    if not batches:
        return np.empty((0, n_params))
    workers = min(2, os.cpu_count() or 1, len(batches))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return np.concatenate(list(pool.map(lambda nb: one(*nb), batches)))


def _batches(rounds: int, rows: int, seed: int) -> list[tuple[int, np.random.Generator]]:
    size = batch_size(rows)
    sizes = [min(size, rounds - k) for k in range(0, rounds, size)]
    seeds = np.random.SeedSequence(seed).spawn(len(sizes))
    return [(n, np.random.Generator(np.random.PCG64(s))) for n, s in zip(sizes, seeds, strict=True)]


def bootstrap_counts(
    c: PairCounts,
    d: Design,
    f: Fit,
    *,
    basis: NDArray[np.float64],
    ridge: NDArray[np.float64],
    rounds: int,
    seed: int,
) -> NDArray[np.float64]:
    """Parameters refitted on ``rounds`` multinomial resamples of the count table."""
    cells = _merged_counts(c)
    # Mean weight per (pair, outcome) cell turns resampled counts back into weighted sums.
    mean_w = np.divide(c.weighted, cells, out=np.zeros_like(c.weighted), where=cells > 0)
    flat = cells.astype(np.int64).ravel()
    ctx = _context(d, f, basis, ridge)

    def one(n: int, rng: np.random.Generator) -> NDArray[np.float64]:
        draw = np.asarray(multinomial(rng, flat, n), dtype=np.float64).reshape(n, -1, 3) * mean_w
        wa, wb, wt = draw[:, :, 0], draw[:, :, 1], draw[:, :, 2]
        return _refit_all(d, wa + 0.5 * wt, wa + wb + wt, ctx)

    return _run(_batches(rounds, flat.size, seed), one, d.n_params)


def bootstrap_rows(
    d: Design,
    o: Outcomes,
    f: Fit,
    *,
    basis: NDArray[np.float64],
    ridge: NDArray[np.float64],
    rounds: int,
    seed: int,
) -> NDArray[np.float64]:
    """Parameters refitted on ``rounds`` resamples of the rows (battles) with replacement."""
    ones = np.ones(len(d.a), dtype=np.int64)
    ctx = _context(d, f, basis, ridge)
    score, total = o.score, o.total

    def one(n: int, rng: np.random.Generator) -> NDArray[np.float64]:
        mult = np.asarray(multinomial(rng, ones, n), dtype=np.float64)
        return _refit_all(d, mult * score, mult * total, ctx)

    return _run(_batches(rounds, len(d.a), seed), one, d.n_params)


def _merged_counts(c: PairCounts) -> NDArray[np.float64]:
    t = c.counts
    return np.column_stack([t[:, 0], t[:, 1], t[:, 2] + t[:, 3]]).astype(np.float64)


def batch_size(rows: int) -> int:
    """Replicates per batch so that a batch holds about ``_BATCH_CELLS`` floats per array."""
    return int(max(1, min(512, _BATCH_CELLS // max(rows, 1))))
