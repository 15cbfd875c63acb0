"""Online Elo: a comparison column with the textbook update."""

from __future__ import annotations

import numpy as np
import pytest

from ratings.elo import online_elo


def test_single_update():
    r = online_elo(np.array([0]), np.array([1]), np.array([0]), 2, k=4.0)
    assert r == pytest.approx([1002.0, 998.0])
    r = online_elo(np.array([0]), np.array([1]), np.array([3]), 2, k=32.0)
    assert r == pytest.approx([1000.0, 1000.0])


def test_expected_score_uses_base_and_scale():
    # After one win a leads by 4; a tie then moves 4 * (0.5 - E) points back.
    r = online_elo(np.array([0, 0]), np.array([1, 1]), np.array([0, 2]), 2, k=4.0)
    expected = 1 / (1 + 10 ** (-4 / 400))
    assert r[0] == pytest.approx(1002 + 4 * (0.5 - expected))


def test_total_is_conserved_and_order_matters(make_battles):
    b = make_battles(np.array([0.0, 1.0, -1.0, 0.5]), 4_000, seed=41)
    r = online_elo(b.model_a, b.model_b, b.outcome, 4)
    assert r.sum() == pytest.approx(4000.0)
    assert np.argsort(r).tolist() == [2, 0, 3, 1]
    rev = online_elo(b.model_a[::-1], b.model_b[::-1], b.outcome[::-1], 4)
    assert not np.allclose(r, rev)
