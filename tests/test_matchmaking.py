"""Pair selection: validation, the weighted rule, boosts, targets, sides, and the active rules."""

from __future__ import annotations

import itertools
import math
import random
from collections import Counter
from collections.abc import Callable

import numpy as np
import pytest
from numpy.typing import NDArray
from scipy.special import expit
from scipy.stats import binomtest, chisquare

from arena.matchmaking.policy import (
    Candidate,
    MatchmakingError,
    NotEnoughModels,
    Policy,
    active_stats,
    draw_battle_pair,
    draw_pair,
    draw_probabilities,
    draw_replacement,
    pair_probabilities,
    pair_tables,
    validate,
)

# Statistical checks: fixed seeds, and a failure only below this p-value (a generous tolerance).
ALPHA = 1e-4


def sample(
    n: int, draw: Callable[[random.Random], tuple[int, int]], seed: int = 7
) -> Counter[tuple[int, int]]:
    """Counts of ``n`` ordered draws from one seeded generator."""
    rng = random.Random(seed)
    return Counter(draw(rng) for _ in range(n))


def assert_pairs_follow(
    counts: Counter[tuple[int, int]], expected: dict[tuple[int, int], float]
) -> None:
    """Unordered pair counts are consistent with the expected probabilities (chi-square)."""
    unordered: Counter[tuple[int, int]] = Counter()
    for (a, b), k in counts.items():
        unordered[(min(a, b), max(a, b))] += k
    assert set(unordered) <= set(expected)
    keys = sorted(expected)
    n = sum(unordered.values())
    observed = [unordered[k] for k in keys]
    assert chisquare(observed, [expected[k] * n for k in keys]).pvalue > ALPHA


def grid(
    models: int, per_pair: int, rare: tuple[int, int] | None = None, rare_n: int = 0
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Win/tie tables for equally strong models: each pair split evenly between win, loss, tie."""
    wins, ties = np.zeros((models, models)), np.zeros((models, models))
    for i, j in itertools.combinations(range(models), 2):
        n = rare_n if rare in ((i, j), (j, i)) else per_pair
        wins[i, j] = wins[j, i] = ties[i, j] = ties[j, i] = n / 3
    return wins, ties


# --- Validation. ---


@pytest.mark.parametrize(
    ("candidates", "message"),
    [
        ([Candidate(1, -1.0), Candidate(2), Candidate(3)], "weight -1.0"),
        ([Candidate(1, math.nan), Candidate(2)], "weight nan"),
        ([Candidate(1, math.inf), Candidate(2)], "weight inf"),
        ([Candidate(1), Candidate(1)], "listed twice"),
        ([Candidate(1, battles=-3), Candidate(2)], "negative battle count"),
    ],
)
def test_validate_refuses_bad_candidates(candidates: list[Candidate], message: str) -> None:
    with pytest.raises(MatchmakingError, match=message):
        validate(candidates)


@pytest.mark.parametrize(
    "candidates",
    [[], [Candidate(1)], [Candidate(1), Candidate(2, 0.0)], [Candidate(1, 0.0), Candidate(2, 0.0)]],
)
def test_validate_needs_two_drawable_models(candidates: list[Candidate]) -> None:
    # All-zero weights are FastChat's NaN crash; here they are a clear error.
    with pytest.raises(NotEnoughModels, match="fewer than two"):
        validate(candidates)
    with pytest.raises(NotEnoughModels):
        draw_battle_pair(candidates, Policy(), random.Random(0))
    assert issubclass(NotEnoughModels, MatchmakingError)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"mode": "greedy"}, "unknown matchmaking mode"),
        ({"active_rule": "best"}, "unknown active rule"),
        ({"exploration": 1.5}, "exploration"),
        ({"exploration": -0.1}, "exploration"),
        ({"new_model_battles": -1}, "new_model_battles"),
        ({"new_model_boost": 0.0}, "new_model_boost"),
        ({"target_boost": math.nan}, "target_boost"),
    ],
)
def test_policy_refuses_bad_settings(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(MatchmakingError, match=message):
        Policy(**kwargs)  # type: ignore[arg-type]


def test_active_stats_refuses_bad_tables() -> None:
    with pytest.raises(MatchmakingError, match="3x3"):
        active_stats([1, 2, 3], np.zeros((2, 2)))
    with pytest.raises(MatchmakingError, match="finite"):
        active_stats([1, 2], [[0, -1], [0, 0]])
    with pytest.raises(MatchmakingError, match="distinct"):
        active_stats([1, 1], np.zeros((2, 2)))


# --- The weighted rule. ---


def test_default_weights_make_every_pair_equally_likely() -> None:
    candidates = [Candidate(i) for i in (3, 5, 8, 13)]
    probs = pair_probabilities(candidates, Policy())
    assert set(probs) == set(itertools.combinations((3, 5, 8, 13), 2))
    assert all(q == pytest.approx(1 / 6) for q in probs.values())
    counts = sample(6000, lambda rng: draw_battle_pair(candidates, Policy(), rng))
    assert_pairs_follow(counts, probs)


def test_weights_multiply_and_zero_weight_is_never_drawn() -> None:
    candidates = [Candidate(1, 1.0), Candidate(2, 2.0), Candidate(3, 3.0), Candidate(4, 0.0)]
    probs = pair_probabilities(candidates, Policy())
    assert probs == pytest.approx({(1, 2): 2 / 11, (1, 3): 3 / 11, (2, 3): 6 / 11})
    counts = sample(8000, lambda rng: draw_battle_pair(candidates, Policy(), rng))
    assert all(a != b and 4 not in (a, b) for a, b in counts)
    assert_pairs_follow(counts, probs)


def test_sides_are_random() -> None:
    candidates = [Candidate(1, 1.0), Candidate(2, 5.0)]
    counts = sample(4000, lambda rng: draw_battle_pair(candidates, Policy(), rng))
    assert set(counts) == {(1, 2), (2, 1)}
    assert binomtest(counts[(1, 2)], 4000, 0.5).pvalue > ALPHA


def test_new_models_are_boosted_until_they_have_enough_battles() -> None:
    policy = Policy(new_model_battles=100, new_model_boost=4.0)
    candidates = [Candidate(1, battles=500), Candidate(2, battles=500), Candidate(3, battles=99)]
    probs = pair_probabilities(candidates, policy)
    assert probs == pytest.approx({(1, 2): 1 / 9, (1, 3): 4 / 9, (2, 3): 4 / 9})
    grown = [Candidate(1, battles=500), Candidate(2, battles=500), Candidate(3, battles=100)]
    assert all(q == pytest.approx(1 / 3) for q in pair_probabilities(grown, policy).values())
    counts = sample(6000, lambda rng: draw_battle_pair(candidates, policy, rng))
    assert_pairs_follow(counts, probs)


def test_targets_meet_their_rivals_more_often() -> None:
    # 1 lists 2 and 3 (and itself, and a model that is not drawable now: both ignored).
    policy = Policy(targets={1: [2, 3, 1, 99]}, target_boost=3.0)
    candidates = [Candidate(i) for i in (1, 2, 3, 4)]
    probs = pair_probabilities(candidates, policy)
    base = 1 / (2 * 3 + 4)  # two boosted pairs, four plain ones
    assert probs[(1, 2)] == probs[(1, 3)] == pytest.approx(3 * base)
    assert probs[(1, 4)] == probs[(2, 3)] == probs[(3, 4)] == pytest.approx(base)
    # A target listed from the rival's side boosts the same unordered pair.
    assert pair_probabilities(candidates, Policy(targets={2: [1]}, target_boost=3.0))[
        (1, 2)
    ] == pytest.approx(3 / 8)
    counts = sample(6000, lambda rng: draw_battle_pair(candidates, policy, rng))
    assert_pairs_follow(counts, probs)


def test_draw_probabilities_are_marginals_that_sum_to_two() -> None:
    candidates = [Candidate(1, 1.0), Candidate(2, 2.0), Candidate(3, 3.0), Candidate(4, 0.0)]
    marginal = draw_probabilities(candidates, Policy())
    assert marginal == pytest.approx({1: 5 / 11, 2: 8 / 11, 3: 9 / 11, 4: 0.0})
    assert sum(marginal.values()) == pytest.approx(2.0)
    counts = sample(8000, lambda rng: draw_battle_pair(candidates, Policy(), rng))
    seen = Counter(i for pair, k in counts.items() for i in pair for _ in range(k))
    for model in (1, 2, 3):
        assert binomtest(seen[model], 8000, marginal[model]).pvalue > ALPHA


# --- Legacy helpers used by battles.py and generation.py. ---


def test_legacy_draw_pair_and_replacement() -> None:
    pool = [(1, 1.0), (2, 3.0), (3, 0.0), (4, math.nan)]
    counts = sample(4000, lambda rng: draw_pair(pool, rng))
    # Sequential draw without replacement: P(1 first) * 1 + P(2 first) * 1 -> every draw is {1, 2}.
    assert {frozenset(p) for p in counts} == {frozenset((1, 2))}
    assert binomtest(counts[(1, 2)], 4000, 0.5).pvalue > ALPHA
    with pytest.raises(NotEnoughModels):
        draw_pair([(1, 1.0), (2, 0.0)], random.Random(0))
    rng = random.Random(1)
    assert draw_replacement(pool, {1}, rng) == 2
    assert draw_replacement(pool, {1, 2}, rng) is None


# --- The active rules. ---


def test_fit_recovers_strengths_and_its_covariance_is_centred() -> None:
    truth = np.array([-0.8, 0.0, 0.3, 0.5])
    p = expit(truth[:, None] - truth[None, :])
    n, tie = 4000.0, 0.6 * np.minimum(p, 1 - p)
    wins, ties = n * (p - tie / 2), n * tie  # expected counts; ties as half keep P = p
    stats = active_stats([10, 20, 30, 40], wins, ties, prior_sd=100.0)
    assert stats.rating == pytest.approx(truth - truth.mean(), abs=1e-4)
    assert stats.cov.sum(axis=1) == pytest.approx(np.zeros(4), abs=1e-12)


def test_two_model_variance_matches_the_textbook_formula() -> None:
    wins = np.array([[0.0, 300.0], [200.0, 0.0]])
    stats = active_stats([1, 2], wins, prior_sd=1e3)
    p = 0.6
    var_diff = 1.0 / (500 * p * (1 - p))
    assert stats.cov[0, 0] == pytest.approx(var_diff / 4, rel=1e-3)


def test_rating_gain_equals_a_brute_force_refit_of_the_covariance() -> None:
    gen = np.random.default_rng(3)
    wins = gen.integers(0, 40, size=(5, 5)).astype(float)
    stats = active_stats(range(5), wins, prior_sd=2.0)
    p = expit(stats.rating[:, None] - stats.rating[None, :])
    # Rebuild the information, add one battle of (1, 3), invert, compare the drop of sum sd.
    centre = np.eye(5) - 1 / 5
    info = np.linalg.inv(stats.cov + np.ones((5, 5)) / 5 * 4.0)  # undo the centring (ridge 1/4)
    x = np.zeros(5)
    x[1], x[3] = 1.0, -1.0
    after = centre @ np.linalg.inv(info + p[1, 3] * (1 - p[1, 3]) * np.outer(x, x)) @ centre
    drop = np.sqrt(np.diagonal(stats.cov)).sum() - np.sqrt(np.diagonal(after)).sum()
    assert stats.gain_ratings[1, 3] == pytest.approx(drop, rel=1e-8)


@pytest.mark.parametrize("rule", ["design", "ratings", "pairs"])
def test_active_prefers_the_pair_with_far_fewer_votes(rule: str) -> None:
    # Four equally strong models; every pair has 300 votes except (0, 2) with 15.
    wins, ties = grid(4, 300, rare=(0, 2), rare_n=15)
    ids = [11, 12, 13, 14]
    stats = active_stats(ids, wins, ties)
    policy = Policy(mode="active", active_rule=rule, exploration=0.2)  # type: ignore[arg-type]
    probs = pair_probabilities([Candidate(i) for i in ids], policy, stats)
    assert max(probs, key=probs.__getitem__) == (11, 13)
    assert probs[(11, 13)] > 0.2 + 0.2 / 6  # well above uniform (1/6)
    # The exploration floor: every pair keeps at least its share of the uniform fifth.
    assert min(probs.values()) >= 0.2 / 6 - 1e-12
    counts = sample(
        3000, lambda rng: draw_battle_pair([Candidate(i) for i in ids], policy, rng, stats)
    )
    assert_pairs_follow(counts, probs)


def test_active_plan_is_a_distribution_over_pairs() -> None:
    stats = active_stats(range(6), grid(6, 90)[0], grid(6, 90)[1], horizon=40)
    assert np.triu(stats.plan, 1).sum() == pytest.approx(1.0)
    assert (stats.plan == stats.plan.T).all()


def test_active_treats_a_model_unknown_to_the_stats_as_most_informative() -> None:
    wins, ties = grid(3, 200)
    stats = active_stats([1, 2, 3], wins, ties)
    candidates = [Candidate(i) for i in (1, 2, 3, 4)]
    marginal = draw_probabilities(candidates, Policy(mode="active", exploration=0.2), stats)
    assert marginal[4] >= max(marginal.values()) - 1e-12
    assert marginal[4] >= 0.5 - 1e-12  # at least its uniform share (4 models: 2 / 4)


def test_active_without_stats_or_with_full_exploration_is_the_weighted_rule() -> None:
    candidates = [Candidate(1, 1.0), Candidate(2, 2.0), Candidate(3, 3.0)]
    weighted = pair_probabilities(candidates, Policy())
    assert pair_probabilities(candidates, Policy(mode="active")) == pytest.approx(weighted)
    wins, ties = grid(3, 60, rare=(0, 1), rare_n=3)
    stats = active_stats([1, 2, 3], wins, ties)
    explore = Policy(mode="active", exploration=1.0)
    assert pair_probabilities(candidates, explore, stats) == pytest.approx(weighted)


def test_active_keeps_admin_weights_in_both_parts() -> None:
    wins, ties = grid(3, 100)
    stats = active_stats([1, 2, 3], wins, ties)
    policy = Policy(mode="active", active_rule="ratings")
    light = [Candidate(1, 0.2), Candidate(2), Candidate(3)]
    marginal = draw_probabilities(light, policy, stats)
    assert marginal[1] < marginal[2] == pytest.approx(marginal[3])


def test_pair_tables_from_vote_rows() -> None:
    rows = [
        (5, 7, "model_a", 3),
        (7, 5, "model_a", 1),
        (5, 7, "tie", 2),
        (7, 5, "tie (bothbad)", 1),
        (5, 9, "model_b", 4),  # 9 is not in the table: ignored
        (5, 5, "model_a", 1),  # a model against itself: ignored
    ]
    wins, ties = pair_tables([5, 7], rows)
    assert wins.tolist() == [[0, 3], [1, 0]]
    assert ties.tolist() == [[0, 3], [3, 0]]


def test_design_sends_a_model_without_votes_to_battle_first() -> None:
    wins, ties = grid(4, 200)
    wins[3, :] = wins[:, 3] = ties[3, :] = ties[:, 3] = 0.0  # model 3 has never been voted on
    stats = active_stats([0, 1, 2, 3], wins, ties)
    marginal = draw_probabilities([Candidate(i) for i in range(4)], Policy(mode="active"), stats)
    assert marginal[3] == max(marginal.values())
    assert marginal[3] > 0.8


def test_active_stats_leaves_its_inputs_alone_and_checks_the_horizon() -> None:
    wins = np.array([[5.0, 3.0], [2.0, 1.0]])
    active_stats([1, 2], wins)
    assert wins[0, 0] == 5.0 and wins[1, 1] == 1.0
    with pytest.raises(MatchmakingError, match="horizon"):
        active_stats([1, 2], wins, horizon=0)
