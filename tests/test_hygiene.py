"""Vote hygiene at ranking time: the repeated-prompt cap and the anomalous-voter test."""

from __future__ import annotations

import random

import numpy as np

from arena.votes.hygiene import (
    NONE,
    HygieneRules,
    VoteColumns,
    anomalous_groups,
    apply_hygiene,
    occurrence,
    prompt_cap,
)

OUTCOME = {"model_a": 0, "model_b": 1, "tie": 2, "tie (bothbad)": 3}


def columns(votes: list[tuple[int, int, str, int, int, int]]) -> VoteColumns:
    """(a, b, winner, voter, prompt, ip) tuples as columns."""
    arr = np.array([(a, b, OUTCOME[w], v, p, ip) for a, b, w, v, p, ip in votes], dtype=np.int64)
    return VoteColumns(
        arr[:, 0], arr[:, 1], arr[:, 2].astype(np.int8), arr[:, 3], arr[:, 5], arr[:, 4]
    )


def test_occurrence_counts_earlier_equal_codes() -> None:
    codes = np.array([5, 3, 5, 5, 3, 7], dtype=np.int64)
    assert occurrence(codes).tolist() == [0, 0, 1, 2, 1, 0]


def test_prompt_cap() -> None:
    assert prompt_cap(np.array([1] * 100 + [500]), floor=20) == 20
    many = np.array([1] * 20_000 + [300] * 5)
    assert prompt_cap(many, floor=20) == 300  # the 99.99th percentile, above the floor
    votes = columns([(1, 2, "model_a", i, 9, i) for i in range(30)] + [(1, 2, "tie", 99, NONE, 1)])
    keep, left_out = apply_hygiene(
        votes, HygieneRules(prompt_repeat_floor=20, anomalous_voters=False)
    )
    assert keep.tolist() == [True] * 20 + [False] * 10 + [True]
    assert left_out == {"repeated_prompt": 10, "anomalous_voter": 0, "anomalous_ip": 0}


def synthetic(rng: random.Random, n: int, strengths: list[float]) -> list[tuple[int, ...]]:
    out = []
    for i in range(n):
        a, b = rng.sample(range(len(strengths)), 2)
        p = 1 / (1 + 10 ** ((strengths[b] - strengths[a]) / 400))
        u = rng.random()
        w = "tie" if u < 0.2 else ("model_a" if rng.random() < p else "model_b")
        out.append((a + 1, b + 1, w, i % 200, i, i % 50))
    return out


def test_anomalous_voter_is_flagged_and_honest_ones_are_not() -> None:
    rng = random.Random(7)
    honest = synthetic(rng, 4000, [1200, 1100, 1000, 900, 800])
    # Voter 500 (on IP 60) always crowns the weakest model, whoever it meets.
    stuffer = []
    for i in range(40):
        other = rng.randrange(1, 5)
        stuffer.append(
            (5, other, "model_a", 500, 10_000 + i, 60)
            if i % 2
            else (other, 5, "model_b", 500, 10_000 + i, 60)
        )
    votes = columns([*honest, *stuffer])  # type: ignore[list-item]
    keep = np.ones(len(votes), dtype=bool)
    assert anomalous_groups(votes, keep, votes.voter, HygieneRules()).tolist() == [500]
    kept, left_out = apply_hygiene(votes, HygieneRules())
    assert left_out["anomalous_voter"] == 40 and int(kept.sum()) == 4000
    assert not kept[-40:].any()


def test_a_voter_who_agrees_with_everyone_is_kept() -> None:
    rng = random.Random(3)
    honest = synthetic(rng, 3000, [1200, 1100, 1000, 900, 800])
    # Voter 700 votes a lot, always for the stronger model: unusual only in being consistent.
    keen = [(1, 5, "model_a", 700, 20_000 + i, 70) for i in range(30)]
    votes = columns([*honest, *keen])  # type: ignore[list-item]
    kept, left_out = apply_hygiene(votes, HygieneRules())
    assert kept[-30:].all()
    assert left_out["anomalous_voter"] == 0
