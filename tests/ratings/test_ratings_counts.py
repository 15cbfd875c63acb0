"""Count tables: one pass over battles, both storage paths, per-model totals."""

from __future__ import annotations

import numpy as np
import pytest

from ratings import aggregate
from ratings.counts import model_stats


def test_aggregate_orients_pairs_and_keeps_raw_outcomes():
    a = np.array([0, 1, 1, 0, 2, 0])
    b = np.array([1, 0, 0, 1, 0, 1])
    o = np.array([0, 0, 1, 3, 2, 2])
    c = aggregate(a, b, o, 3)
    assert c.i.tolist() == [0, 0] and c.j.tolist() == [1, 2]
    # pair (0, 1): 0 won twice (battles 1 and 3), 1 won once, one tie, one bothbad.
    assert c.counts.tolist() == [[2, 1, 1, 1], [0, 0, 1, 0]]
    assert c.total == 6
    s = model_stats(c)
    assert s.battles.tolist() == [6, 5, 1]
    assert s.wins.tolist() == [2, 1, 0] and s.losses.tolist() == [1, 2, 0]
    assert s.ties.tolist() == [3, 2, 1]


def test_sparse_path_matches_dense(monkeypatch, make_battles):
    b = make_battles(np.zeros(7), 2_000, seed=61)
    w = np.random.default_rng(0).random(len(b))
    dense = aggregate(b.model_a, b.model_b, b.outcome, 7, w)
    monkeypatch.setattr("ratings.counts._DENSE_BINS", 0)
    sparse = aggregate(b.model_a, b.model_b, b.outcome, 7, w)
    assert sparse.i.tolist() == dense.i.tolist() and sparse.j.tolist() == dense.j.tolist()
    assert (sparse.counts == dense.counts).all()
    assert sparse.weighted == pytest.approx(dense.weighted)
    assert sparse.weighted_sq == pytest.approx(dense.weighted_sq)


def test_weights_and_without_ties():
    c = aggregate(
        np.array([0, 0, 0]), np.array([1, 1, 1]), np.array([0, 2, 3]), 2, np.array([2.0, 3.0, 0.5])
    )
    assert c.weighted.tolist() == [[2.0, 0.0, 3.5]]
    assert c.weighted_sq.tolist() == [[4.0, 0.0, 9.25]]
    nt = c.without_ties()
    assert nt.counts.tolist() == [[1, 0, 0, 0]] and nt.weighted.tolist() == [[2.0, 0.0, 0.0]]
    empty = aggregate(np.array([0]), np.array([1]), np.array([2]), 2).without_ties()
    assert empty.total == 0 and len(empty.i) == 0
