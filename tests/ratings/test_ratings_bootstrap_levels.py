"""Resampling the pair count table gives the intervals of resampling the battles themselves: the
count-level bootstrap (what `ci="bootstrap"` runs without style control) against the battle-level
one (one row per battle, each battle drawn with replacement) on the same mid-size data."""

from __future__ import annotations

import numpy as np

from ratings import aggregate
from ratings.bootstrap import bootstrap_counts, bootstrap_rows
from ratings.compute import _ridge
from ratings.counts import model_stats
from ratings.design import Design, Outcomes, from_counts
from ratings.graph import analyse, gauge_basis
from ratings.newton import fit


def test_count_bootstrap_matches_battle_bootstrap() -> None:
    rng = np.random.default_rng(7)
    m, n = 12, 12_000
    strength = rng.normal(0.0, 0.8, m)
    a = rng.integers(0, m, n)
    b = (a + rng.integers(1, m, n)) % m
    p = 1.0 / (1.0 + np.exp(strength[b] - strength[a]))
    u = rng.random(n)
    outcome = np.where(u < 0.25, 2, np.where(rng.random(n) < p, 0, 1))
    counts = aggregate(a, b, outcome, m)
    d, o = from_counts(counts)
    graph = analyse(counts, model_stats(counts))
    basis, ridge = gauge_basis(graph.component), _ridge(d, graph)
    f = fit(d, o, basis=basis, ridge=ridge)
    kw = {"basis": basis, "ridge": ridge, "rounds": 1000, "seed": 1}
    by_counts = bootstrap_counts(counts, d, f, **kw)  # type: ignore[arg-type]
    # The same fit with one row per battle: its parameters are the pair fit's.
    rows = Design(m, a.astype(np.intp), b.astype(np.intp), np.zeros((n, 0)))
    ones = np.ones(n)
    win_a, win_b, tie = (outcome == 0) * ones, (outcome == 1) * ones, (outcome == 2) * ones
    ro = Outcomes(win_a, win_b, tie, win_a, win_b, tie)
    fr = fit(rows, ro, basis=basis, ridge=ridge)
    np.testing.assert_allclose(fr.params, f.params, atol=1e-8)
    by_battles = bootstrap_rows(rows, ro, fr, **kw)  # type: ignore[arg-type]
    lo_c, hi_c = np.percentile(by_counts, [2.5, 97.5], axis=0)
    lo_b, hi_b = np.percentile(by_battles, [2.5, 97.5], axis=0)
    half = (hi_b - lo_b) / 2
    # Two independent Monte Carlo runs of 1,000 rounds: bounds agree to a small part of the
    # half-width (about 4% standard error each), widths to within 10%.
    assert np.all(np.abs(lo_c - lo_b) < 0.2 * half)
    assert np.all(np.abs(hi_c - hi_b) < 0.2 * half)
    np.testing.assert_allclose((hi_c - lo_c) / 2, half, rtol=0.1)
