"""Intervals: sandwich vs bootstrap, rank_ub, reproducibility, exact multinomial draws."""

from __future__ import annotations

import numpy as np
import pytest

from ratings import Battles, aggregate, compute_leaderboard, compute_leaderboard_from_counts
from ratings.bootstrap import multinomial
from ratings.leaderboard import rank_upper_bounds


def _widths(lb):
    return {r.model: r.ci_upper - r.ci_lower for r in lb.models}


def test_sandwich_and_bootstrap_agree_on_connected_data(make_battles):
    strengths = np.random.default_rng(11).normal(0.0, 0.7, 10)
    b = make_battles(strengths, 40_000, tie_rate=0.3, seed=12)
    sw = compute_leaderboard(b, elo_k=None)
    bs = compute_leaderboard(b, ci="bootstrap", rounds=1000, seed=1, elo_k=None)
    assert bs.ci == "bootstrap" and sw.ci == "sandwich"
    ws, wb = _widths(sw), _widths(bs)
    for name in ws:
        assert wb[name] == pytest.approx(ws[name], rel=0.15)
    # Same point estimates whatever the interval method.
    for x, y in zip(sw.models, bs.models, strict=True):
        assert x.model == y.model and x.rating == pytest.approx(y.rating)
        assert y.ci_lower < y.rating < y.ci_upper


def test_sandwich_is_narrower_than_fisher_with_ties(make_battles):
    # With many ties the per-battle score variance is below p(1-p): J < H.
    b = make_battles(np.array([0.0, 0.3, -0.3, 0.6]), 20_000, tie_rate=0.6, seed=13)
    lb = compute_leaderboard(b)
    no_ties = make_battles(np.array([0.0, 0.3, -0.3, 0.6]), 20_000, tie_rate=0.0, seed=13)
    lb0 = compute_leaderboard(no_ties)
    assert np.mean(list(_widths(lb).values())) < 0.95 * np.mean(list(_widths(lb0).values()))


def test_bootstrap_is_seeded(make_battles):
    b = make_battles(np.array([0.0, 0.3, -0.3, 0.6]), 2_000, seed=14)
    one = compute_leaderboard(b, ci="bootstrap", rounds=200, seed=5)
    two = compute_leaderboard(b, ci="bootstrap", rounds=200, seed=5)
    other = compute_leaderboard(b, ci="bootstrap", rounds=200, seed=6)
    assert [(r.ci_lower, r.ci_upper) for r in one.models] == [
        (r.ci_lower, r.ci_upper) for r in two.models
    ]
    assert [r.ci_lower for r in one.models] != [r.ci_lower for r in other.models]


def test_bootstrap_with_sparse_replicates_stays_finite():
    recs = [("a", "b", "model_a")] * 5 + [("b", "a", "model_a")] * 2 + [("b", "c", "model_a")]
    recs += [("c", "b", "model_a")] * 3 + [("a", "c", "tie")]
    lb = compute_leaderboard(Battles.from_records(recs), ci="bootstrap", rounds=300)
    for r in lb.models:
        assert np.isfinite([r.ci_lower, r.ci_upper]).all()
        assert r.ci_lower <= r.rating + 1e-6 and r.rating - 1e-6 <= r.ci_upper


def test_rank_ub_definition():
    lower = np.array([10.0, 8.0, 5.0, 1.0])
    upper = np.array([12.0, 11.0, 9.5, 3.0])
    # model 2 (upper 9.5) is beaten for sure by model 0 only; model 3 by all three.
    assert rank_upper_bounds(lower, upper, np.zeros(4, np.intp)).tolist() == [1, 1, 2, 4]
    # Models in other components never count.
    assert rank_upper_bounds(lower, upper, np.array([0, 0, 1, 1])).tolist() == [1, 1, 1, 2]


def test_rank_ub_matches_leaderboard_bounds(make_battles):
    b = make_battles(np.linspace(-1, 1, 8), 3_000, seed=15)
    lb = compute_leaderboard(b)
    for r in lb.models:
        expected = 1 + sum(o.ci_lower > r.ci_upper for o in lb.models)
        assert r.rank_ub == expected
        assert r.rank_ub <= r.rank
    assert [r.rank for r in lb.models] == list(range(1, 9))
    assert [r.rating for r in lb.models] == sorted((r.rating for r in lb.models), reverse=True)


def test_counts_path_matches_battles_path(make_battles):
    b = make_battles(np.array([0.1, 0.5, -0.5, 0.0]), 5_000, seed=16)
    counts = aggregate(b.model_a, b.model_b, b.outcome, len(b.names))
    via_counts = compute_leaderboard_from_counts(counts, b.names)
    via_battles = compute_leaderboard(b)
    for x, y in zip(via_counts.models, via_battles.models, strict=True):
        assert (x.model, x.battles, x.wins, x.ties) == (y.model, y.battles, y.wins, y.ties)
        assert x.ci_lower == pytest.approx(y.ci_lower) and x.rating == pytest.approx(y.rating)
        assert x.elo is None and y.elo is not None


def test_multinomial_draws_are_exact():
    rng = np.random.default_rng(0)
    cells = np.array([0, 5, 100, 3000, 1, 0, 42], dtype=np.int64)
    draws = multinomial(rng, cells, 4000)
    assert (draws.sum(axis=1) == cells.sum()).all()
    assert (draws[:, cells == 0] == 0).all()
    p = cells / cells.sum()
    assert draws.mean(axis=0) == pytest.approx(cells, rel=0.05, abs=0.1)
    var = cells.sum() * p * (1 - p)
    assert draws.var(axis=0) == pytest.approx(var, rel=0.15, abs=0.1)
