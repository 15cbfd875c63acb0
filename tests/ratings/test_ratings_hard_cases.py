"""Hard cases: separation, several components, one or zero battles, anchors, options."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ratings import Battles, aggregate, compute_leaderboard, compute_leaderboard_from_counts


def _row(lb, name):
    return next(r for r in lb.models if r.model == name)


def _mixed(x, y, n=6):
    return [(x, y, "model_a")] * n + [(y, x, "model_a")] * (n - 2)


def test_model_with_only_wins_and_one_with_only_losses():
    recs = _mixed("a", "b") + _mixed("b", "c") + _mixed("a", "c")
    recs += [("champ", "a", "model_a"), ("b", "champ", "model_b"), ("champ", "c", "model_a")]
    recs += [("a", "dud", "model_a"), ("dud", "c", "model_b")]
    lb = compute_leaderboard(Battles.from_records(recs))
    champ, dud = _row(lb, "champ"), _row(lb, "dud")
    assert champ.flagged == "no losses" and dud.flagged == "no wins"
    assert _row(lb, "a").flagged is None
    assert lb.models[0].model == "champ" and lb.models[-1].model == "dud"
    for r in lb.models:
        assert all(math.isfinite(x) for x in (r.rating, r.ci_lower, r.ci_upper))
    assert any("infinite" in w and "champ" in w and "dud" in w for w in lb.warnings)


def test_separated_group_is_flagged():
    # {a, b} beat {c, d} every time: no single model is unbeaten, yet the MLE is infinite.
    recs = _mixed("a", "b") + _mixed("c", "d") + [("a", "c", "model_a"), ("d", "b", "model_b")]
    lb = compute_leaderboard(Battles.from_records(recs))
    assert {r.model: r.flagged for r in lb.models} == dict.fromkeys("abcd", "separated")
    assert [r.model for r in lb.models][:2] in (["a", "b"], ["b", "a"])


def test_several_components_are_ranked_separately():
    recs = _mixed("a", "b", 10) + _mixed("b", "c", 8) + _mixed("x", "y", 5)
    lb = compute_leaderboard(Battles.from_records(recs))
    comp = {r.model: r.component for r in lb.models}
    assert comp == {"a": 0, "b": 0, "c": 0, "x": 1, "y": 1}
    assert [r.model for r in lb.models] == ["a", "b", "c", "x", "y"]
    assert [r.rank for r in lb.models] == [1, 2, 3, 1, 2]
    assert any("2 connected components" in w for w in lb.warnings)
    # Each component is centred on its own; within a component the gaps are the MLE's.
    assert (_row(lb, "x").rating + _row(lb, "y").rating) / 2 == pytest.approx(1000.0)
    assert _row(lb, "x").rating - _row(lb, "y").rating == pytest.approx(400 * math.log10(5 / 3))
    assert np.mean([_row(lb, k).rating for k in "abc"]) == pytest.approx(1000.0)


def test_one_battle():
    lb = compute_leaderboard(Battles.from_records([("a", "b", "model_b")]))
    assert lb.total_battles == 1
    assert [r.model for r in lb.models] == ["b", "a"]
    b, a = lb.models
    assert b.flagged == "no losses" and a.flagged == "no wins"
    assert b.preliminary and a.preliminary
    assert math.isfinite(b.rating) and b.rating > a.rating
    assert b.ci_lower < b.rating < b.ci_upper
    assert (b.wins, b.losses, a.wins, a.losses) == (1, 0, 0, 1)


def test_one_tie_is_not_separated():
    lb = compute_leaderboard(Battles.from_records([("a", "b", "tie")]))
    assert [r.rating for r in lb.models] == pytest.approx([1000.0, 1000.0])
    assert all(r.flagged is None for r in lb.models) and lb.warnings == []


@pytest.mark.parametrize("ci", ["sandwich", "bootstrap"])
def test_zero_battles(ci):
    empty = Battles.from_arrays(["a", "b"], [], [], [])
    lb = compute_leaderboard(empty, ci=ci, style_control=False)
    assert lb.models == [] and lb.total_battles == 0 and lb.names == []
    assert lb.count_matrix.shape == (0, 0) and lb.predicted_matrix.shape == (0, 0)
    assert any("no battles" in w for w in lb.warnings)
    lb2 = compute_leaderboard(Battles.from_records([]))
    assert lb2.models == []


def test_models_without_battles_are_not_ranked():
    counts = aggregate(np.array([0, 0]), np.array([2, 2]), np.array([0, 1]), 4)
    lb = compute_leaderboard_from_counts(counts, ["a", "b", "c", "d"])
    assert sorted(r.model for r in lb.models) == ["a", "c"]


def test_anchor_fixes_one_rating_and_keeps_gaps(make_battles):
    b = make_battles(np.array([0.0, 0.5, -0.5, 1.0]), 5_000, seed=21)
    plain = compute_leaderboard(b)
    anchored = compute_leaderboard(b, anchor=("model-001", 1200.0))
    ra, rp = {r.model: r for r in anchored.models}, {r.model: r for r in plain.models}
    assert ra["model-001"].rating == pytest.approx(1200.0)
    shift = 1200.0 - rp["model-001"].rating
    for name in rp:
        assert ra[name].rating == pytest.approx(rp[name].rating + shift)
    # The anchor is exact; the others' intervals are intervals of differences to it.
    assert ra["model-001"].ci_upper - ra["model-001"].ci_lower == pytest.approx(0.0, abs=1e-6)
    assert ra["model-003"].ci_upper - ra["model-003"].ci_lower > 0
    boot = compute_leaderboard(b, ci="bootstrap", rounds=100, anchor=("model-001", 1200.0))
    assert {r.model: r.rating for r in boot.models} == pytest.approx(
        {k: v.rating for k, v in ra.items()}
    )


def test_unknown_anchor_is_an_error(make_battles):
    b = make_battles(np.array([0.0, 0.5]), 100, seed=22)
    with pytest.raises(ValueError, match="anchor model 'nope'"):
        compute_leaderboard(b, anchor=("nope", 1000.0))


def test_preliminary_threshold():
    recs = _mixed("a", "b", 20) + _mixed("a", "c", 6)
    lb = compute_leaderboard(Battles.from_records(recs), min_battles=30)
    assert {r.model: r.preliminary for r in lb.models} == {"a": False, "b": False, "c": True}
    lb5 = compute_leaderboard(Battles.from_records(recs), min_battles=5)
    assert not any(r.preliminary for r in lb5.models)


def test_reweighting_uses_inverse_pair_frequency(make_battles):
    b = make_battles(np.array([0.0, 0.5, -0.5]), 2_000, seed=23)
    counts = aggregate(b.model_a, b.model_b, b.outcome, 3)
    re = counts.reweighted()
    n = counts.pair_totals
    assert re.weighted.sum(axis=1) == pytest.approx(n / np.maximum(n, 50))
    # With all pairs above the floor, reweighting a complete design keeps a sensible order.
    lb = compute_leaderboard(b, reweight=True)
    assert [r.model for r in lb.models] == ["model-001", "model-000", "model-002"]
    boot = compute_leaderboard(b, reweight=True, ci="bootstrap", rounds=200)
    for x, y in zip(lb.models, boot.models, strict=True):
        assert x.rating == pytest.approx(y.rating)
        assert y.ci_upper - y.ci_lower == pytest.approx(x.ci_upper - x.ci_lower, rel=0.3)


def test_matrices_follow_leaderboard_order():
    recs = [("a", "b", "model_a")] * 3 + [("a", "b", "model_b")] + [("b", "c", "tie")] * 2
    recs += [("c", "b", "model_a"), ("a", "c", "model_a")]
    lb = compute_leaderboard(Battles.from_records(recs))
    i = {n: k for k, n in enumerate(lb.names)}
    assert lb.names == [r.model for r in lb.models]
    assert lb.count_matrix[i["a"], i["b"]] == 4 and lb.count_matrix[i["b"], i["a"]] == 4
    assert lb.win_rate_matrix[i["a"], i["b"]] == pytest.approx(0.75)
    assert lb.win_rate_matrix[i["c"], i["b"]] == pytest.approx(2 / 3)
    assert math.isnan(lb.win_rate_matrix[i["a"], i["a"]])
    p = lb.predicted_matrix
    assert p + p.T == pytest.approx(np.ones((3, 3)))
    gap = lb.models[0].rating - lb.models[1].rating
    assert p[0, 1] == pytest.approx(1 / (1 + 10 ** (-gap / 400)))
