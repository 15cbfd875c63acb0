"""Bradley-Terry point estimates: closed forms, recovery, invariances, independent checks."""

from __future__ import annotations

import math

import choix
import numpy as np
import pytest
from scipy.optimize import minimize

from ratings import Battles, compute_leaderboard


def _ratings(lb):
    return {r.model: r.rating for r in lb.models}


@pytest.mark.parametrize(("wins_a", "wins_b"), [(7, 3), (30, 10), (1, 99)])
def test_two_models_closed_form(wins_a, wins_b):
    recs = [("a", "b", "model_a")] * wins_a + [("b", "a", "model_a")] * wins_b
    lb = compute_leaderboard(Battles.from_records(recs))
    r = _ratings(lb)
    assert r["a"] - r["b"] == pytest.approx(400 * math.log10(wins_a / wins_b), abs=1e-6)
    assert (r["a"] + r["b"]) / 2 == pytest.approx(1000.0, abs=1e-9)
    assert [m.model for m in lb.models] == (["a", "b"] if wins_a > wins_b else ["b", "a"])
    assert lb.warnings == []


def test_recovers_known_strengths(make_battles, to_true):
    strengths = np.linspace(-1.5, 1.5, 12)
    lb = compute_leaderboard(make_battles(strengths, 200_000, seed=3), elo_k=None)
    est = np.array([_ratings(lb)[f"model-{k:03d}"] for k in range(12)])
    assert np.abs(est - to_true(strengths)).max() < 12.0
    inside = [r.ci_lower <= to_true(strengths)[int(r.model[-3:])] <= r.ci_upper for r in lb.models]
    assert sum(inside) >= 10
    assert [r.rank for r in lb.models] == list(range(1, 13))
    assert np.mean(est) == pytest.approx(1000.0)


def test_invariant_to_battle_order(make_battles):
    b = make_battles(np.array([0.0, 0.4, -0.3, 1.0]), 5_000, seed=1)
    perm = np.random.default_rng(7).permutation(len(b))
    shuffled = Battles.from_arrays(b.names, b.model_a[perm], b.model_b[perm], b.outcome[perm])
    one, two = compute_leaderboard(b), compute_leaderboard(shuffled)
    for x, y in zip(one.models, two.models, strict=True):
        assert x.model == y.model
        assert x.rating == pytest.approx(y.rating, abs=1e-8)
        assert x.ci_upper - x.ci_lower == pytest.approx(y.ci_upper - y.ci_lower, rel=1e-8)
    # Online Elo is the only order-dependent column.
    assert any(abs(x.elo - y.elo) > 1e-6 for x, y in zip(one.models, two.models, strict=True))


def test_swapping_sides_changes_nothing(make_battles):
    b = make_battles(np.array([0.0, 0.4, -0.3]), 3_000, seed=2)
    flipped = np.select([b.outcome == 0, b.outcome == 1], [1, 0], b.outcome)
    mirror = Battles.from_arrays(b.names, b.model_b, b.model_a, flipped)
    assert _ratings(compute_leaderboard(b)) == pytest.approx(_ratings(compute_leaderboard(mirror)))


def test_duplicating_battles_keeps_ratings_and_shrinks_intervals(make_battles):
    b = make_battles(np.array([0.0, 0.5, -0.5, 0.2, 0.9]), 4_000, seed=4)
    twice = Battles.from_arrays(
        b.names, np.tile(b.model_a, 2), np.tile(b.model_b, 2), np.tile(b.outcome, 2)
    )
    one, two = compute_leaderboard(b), compute_leaderboard(twice)
    for x, y in zip(one.models, two.models, strict=True):
        assert y.rating == pytest.approx(x.rating, abs=1e-8)
        ratio = (x.ci_upper - x.ci_lower) / (y.ci_upper - y.ci_lower)
        assert ratio == pytest.approx(math.sqrt(2), rel=1e-8)
        assert y.battles == 2 * x.battles


def test_ties_count_as_half_a_win():
    # 3 wins for a, 1 for b, 4 ties: a scores 3 + 2 = 5 of 8 -> gap 400 log10(5/3).
    recs = [("a", "b", "model_a")] * 3 + [("a", "b", "model_b")]
    recs += [("a", "b", "tie")] * 2 + [("b", "a", "tie (bothbad)")] * 2
    lb = compute_leaderboard(Battles.from_records(recs))
    r = _ratings(lb)
    assert r["a"] - r["b"] == pytest.approx(400 * math.log10(5 / 3), abs=1e-6)
    a = next(m for m in lb.models if m.model == "a")
    assert (a.wins, a.losses, a.ties, a.battles) == (3, 1, 4, 8)
    assert a.win_rate == pytest.approx(5 / 8)
    # Same fit as replacing each tie by half a win each way (two ties = one win each).
    halves = [("a", "b", "model_a")] * 5 + [("a", "b", "model_b")] * 3
    assert _ratings(compute_leaderboard(Battles.from_records(halves))) == pytest.approx(r)


def test_drop_ties_option():
    recs = [("a", "b", "model_a")] * 3 + [("a", "b", "model_b")] + [("a", "b", "tie")] * 5
    lb = compute_leaderboard(Battles.from_records(recs), drop_ties=True)
    r = _ratings(lb)
    assert r["a"] - r["b"] == pytest.approx(400 * math.log10(3), abs=1e-6)
    assert lb.total_battles == 4


def test_agrees_with_choix(make_battles):
    strengths = np.random.default_rng(5).normal(0.0, 0.8, 15)
    b = make_battles(strengths, 30_000, seed=6)
    lb = compute_leaderboard(b, elo_k=None)
    # choix takes (winner, loser) pairs: every decisive battle twice, every tie once each way.
    data = []
    for a, c, o in zip(b.model_a.tolist(), b.model_b.tolist(), b.outcome.tolist(), strict=True):
        if o == 0:
            data += [(a, c), (a, c)]
        elif o == 1:
            data += [(c, a), (c, a)]
        else:
            data += [(a, c), (c, a)]
    params = choix.ilsr_pairwise(15, data, alpha=0.0, tol=1e-14, max_iter=10_000)
    ref = params * 400 / np.log(10)
    ref = ref - ref.mean() + 1000
    ours = _ratings(lb)
    for k in range(15):
        assert ours[b.names[k]] == pytest.approx(ref[k], abs=0.01)


def test_weighted_fit_matches_logistic_regression(make_battles):
    b = make_battles(np.array([0.0, 0.6, -0.4, 0.3, -1.0, 0.8]), 3_000, seed=8)
    w = np.random.default_rng(9).uniform(0.2, 2.0, len(b))
    weighted = Battles.from_arrays(b.names, b.model_a, b.model_b, b.outcome, weights=w)
    ours = _ratings(compute_leaderboard(weighted))
    # Independent: weighted logistic loss on the one-hot design, model 0 pinned at 0.
    y = np.select([b.outcome == 0, b.outcome == 1], [1.0, 0.0], 0.5)

    def loss(t):
        full = np.concatenate([[0.0], t])
        x = full[b.model_a] - full[b.model_b]
        return np.sum(w * (y * np.logaddexp(0, -x) + (1 - y) * np.logaddexp(0, x)))

    res = minimize(loss, np.zeros(5), method="BFGS", options={"gtol": 1e-10})
    ref = np.concatenate([[0.0], res.x]) * 400 / np.log(10)
    ref = ref - ref.mean() + 1000
    for k, name in enumerate(b.names):
        assert ours[name] == pytest.approx(ref[k], abs=0.01)
