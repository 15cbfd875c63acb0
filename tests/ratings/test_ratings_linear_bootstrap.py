"""The linearised count-table bootstrap (what `ci="bootstrap"` runs on large tables) gives the
intervals of resampling the battles themselves and of the exact count-table refits: on dense
data, on sparse data with poorly sampled models, and through `compute_leaderboard`."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ratings import aggregate, compute_leaderboard_from_counts
from ratings.bootstrap import EXACT_BOOTSTRAP_CELLS, bootstrap_counts, bootstrap_rows
from ratings.compute import _ridge
from ratings.counts import PairCounts, model_stats
from ratings.design import Design, Outcomes, from_counts
from ratings.graph import analyse, gauge_basis
from ratings.linear_bootstrap import bootstrap_linear
from ratings.newton import Fit, fit


def _battles(m: int, n: int, seed: int) -> tuple[NDArray[np.int64], ...]:
    rng = np.random.default_rng(seed)
    strength = rng.normal(0.0, 0.8, m)
    a = rng.integers(0, m, n)
    b = (a + rng.integers(1, m, n)) % m
    p = 1.0 / (1.0 + np.exp(strength[b] - strength[a]))
    outcome = np.where(rng.random(n) < 0.25, 2, np.where(rng.random(n) < p, 0, 1))
    return a, b, outcome


def _fitted(counts: PairCounts) -> tuple[Design, Outcomes, Fit, dict[str, object]]:
    d, o = from_counts(counts)
    graph = analyse(counts, model_stats(counts))
    basis, ridge = gauge_basis(graph.component), _ridge(d, graph)
    return d, o, fit(d, o, basis=basis, ridge=ridge), {"basis": basis, "ridge": ridge}


def _interval(reps: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    centred = reps - reps.mean(axis=1, keepdims=True)  # ratings are centred on the board
    lo, hi = np.percentile(centred, [2.5, 97.5], axis=0)
    return lo, hi


def test_linear_bootstrap_matches_battle_bootstrap() -> None:
    m, n = 12, 12_000
    a, b, outcome = _battles(m, n, seed=7)
    counts = aggregate(a, b, outcome, m)
    d, o, f, kw = _fitted(counts)
    linear = bootstrap_linear(counts, d, o, f, rounds=1000, seed=1)
    rows = Design(m, a.astype(np.intp), b.astype(np.intp), np.zeros((n, 0)))
    ones = np.ones(n)
    win_a, win_b, tie = (outcome == 0) * ones, (outcome == 1) * ones, (outcome == 2) * ones
    ro = Outcomes(win_a, win_b, tie, win_a, win_b, tie)
    fr = fit(rows, ro, **kw)  # type: ignore[arg-type]
    battles = bootstrap_rows(rows, ro, fr, rounds=1000, seed=2, **kw)  # type: ignore[arg-type]
    lo_l, hi_l = _interval(linear)
    lo_b, hi_b = _interval(battles)
    half = (hi_b - lo_b) / 2
    # Two independent Monte Carlo runs of 1,000 rounds (about 4% standard error each).
    assert np.all(np.abs(lo_l - lo_b) < 0.2 * half)
    assert np.all(np.abs(hi_l - hi_b) < 0.2 * half)
    np.testing.assert_allclose((hi_l - lo_l) / 2, half, rtol=0.1)
    assert abs(float(np.mean((hi_l - lo_l) / (2 * half))) - 1.0) < 0.03


def test_linear_bootstrap_with_poorly_sampled_models_matches_refits() -> None:
    # 40 models, ~5 battles a pair: every model is under the normal-limit threshold, so every
    # cell is drawn; a few models have a handful of battles only.
    m = 40
    a, b, outcome = _battles(m, 4_000, seed=3)
    rare = np.isin(a, [0, 1]) | np.isin(b, [0, 1])
    keep = ~rare | (np.random.default_rng(0).random(len(a)) < 0.1)
    counts = aggregate(a[keep], b[keep], outcome[keep], m)
    d, o, f, kw = _fitted(counts)
    linear = bootstrap_linear(counts, d, o, f, rounds=1000, seed=1)
    exact = bootstrap_counts(counts, d, f, rounds=1000, seed=2, **kw)  # type: ignore[arg-type]
    assert np.isfinite(linear).all()
    lo_l, hi_l = _interval(linear)
    lo_e, hi_e = _interval(exact)
    ratio = (hi_l - lo_l) / (hi_e - lo_e)
    assert abs(float(ratio.mean()) - 1.0) < 0.06
    assert float(ratio.min()) > 0.75 and float(ratio.max()) < 1.25


def test_linear_bootstrap_is_reproducible_and_seeded() -> None:
    a, b, outcome = _battles(20, 30_000, seed=5)
    counts = aggregate(a, b, outcome, 20)
    d, o, f, _ = _fitted(counts)
    one = bootstrap_linear(counts, d, o, f, rounds=200, seed=4)
    np.testing.assert_array_equal(one, bootstrap_linear(counts, d, o, f, rounds=200, seed=4))
    assert not np.array_equal(one, bootstrap_linear(counts, d, o, f, rounds=200, seed=5))
    # Each replicate keeps the board's centre: the step only moves differences.
    np.testing.assert_allclose(one.mean(axis=1), f.params.mean(), atol=1e-9)


def test_large_board_bootstrap_runs_linear_and_agrees_with_the_sandwich() -> None:
    # 100 models: 4,950 pairs x 3 cells x 1,000 rounds is over the exact budget.
    m = 100
    a, b, outcome = _battles(m, 400_000, seed=11)
    counts = aggregate(a, b, outcome, m)
    assert 1000 * 3 * len(counts.i) > EXACT_BOOTSTRAP_CELLS
    names = [f"m{k:03d}" for k in range(m)]
    boot = compute_leaderboard_from_counts(counts, names, ci="bootstrap", rounds=1000, seed=0)
    sand = compute_leaderboard_from_counts(counts, names, ci="sandwich")
    by_name = {r.model: r for r in sand.models}
    widths = [
        (r.ci_upper - r.ci_lower) / (by_name[r.model].ci_upper - by_name[r.model].ci_lower)
        for r in boot.models
    ]
    assert abs(float(np.mean(widths)) - 1.0) < 0.03
    assert min(widths) > 0.85 and max(widths) < 1.15
    assert [r.model for r in boot.models] == [r.model for r in sand.models]
