"""How many votes each pair-selection rule needs before the leaderboard is trustworthy.

Simulated voters with known Bradley-Terry strengths (evenly spaced; ties included, scored as half
a win: P(tie) = 0.6 * min(p, 1 - p), so the ties-as-half MLE is unbiased). Every ``--step`` votes
the leaderboard is refitted from the count tables (MAP Bradley-Terry with a weak prior, sandwich
covariance, mean-zero gauge) and two milestones are checked:

* the mean 95% interval half-width of the models' ratings falls below 20 points;
* every model's estimated rank is within one position of its true rank (the first refit where
  it holds; noisy, hence the ranges).

The active rules refresh their statistics at the same moments (a live arena would cache them the
same way), and in between the draws follow the distribution of ``arena.matchmaking.pair_table``.
"weighted" is the default rule with admin weights drawn log-uniform in [0.5, 2]; "boost-new" the
default rule with ``new_model_battles=1000, new_model_boost=4``.

For a from-scratch arena the half-width milestone has a hard floor: per-model standard errors
depend only on how many votes each pair gets, so the best fixed allocation for the *true*
strengths (printed as "oracle") bounds what any rule can save. Uniform sampling is already
optimal when every pair is equally informative; savings come only from the lopsided pairs
(``p (1 - p)`` small) that uniform sampling wastes votes on, so they grow with the rating spread.

    .venv/bin/python benchmarks/sampling.py            # 5 scenarios x 6 seeds (~1 min, 2 cores)
    .venv/bin/python benchmarks/sampling.py --quick    # CI smoke run (a few seconds)
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.special import expit
from threadpoolctl import threadpool_limits

from arena.matchmaking.policy import (
    ActiveStats,
    Candidate,
    PairTable,
    Policy,
    active_stats,
    fit_bt,
    pair_table,
)

Floats = NDArray[np.float64]
POINTS = 400.0 / math.log(10.0)  # rating points per natural-log unit
Z95 = 1.959963984540054
HALF_WIDTH = 20.0
METRIC_PRIOR_SD = 10.0  # the leaderboard's tiny ridge, only felt while a model has no wins/losses
STRATEGIES: dict[str, Policy] = {
    "uniform": Policy(),
    "weighted": Policy(),  # same rule; admin weights drawn log-uniform in [0.5, 2]
    "boost-new": Policy(new_model_battles=1000, new_model_boost=4.0),
    "active-pairs": Policy(mode="active", active_rule="pairs"),
    "active-soft": Policy(mode="active", active_rule="ratings"),
    "active": Policy(mode="active", active_rule="design"),
}
FROM_SCRATCH = ("uniform", "weighted", "active-pairs", "active-soft", "active")
JOINERS = ("uniform", "boost-new", "active")


@dataclass(frozen=True)
class Scenario:
    n_models: int
    span: float  # rating points between the weakest and strongest model
    max_votes: int
    strategies: tuple[str, ...] = FROM_SCRATCH
    joiners: int = 0  # models added after `head_start` uniform votes among the others
    head_start: int = 0

    @property
    def title(self) -> str:
        text = f"{self.n_models} models evenly spaced over {self.span:g} points"
        if self.joiners:
            text += (
                f"; {self.joiners} of them join after {self.head_start:,} votes among the "
                f"others (votes counted from the join)"
            )
        return text


@dataclass(frozen=True)
class Task:
    scenario: Scenario
    strategy: str
    seed: int
    step: int


@dataclass(frozen=True)
class Result:
    task: Task
    votes_half_width: int | None
    votes_rank: int | None
    cpu_seconds: float


def leaderboard(wins: Floats, ties: Floats) -> tuple[Floats, Floats]:
    """Strengths and sandwich standard errors (natural-log units, mean-zero gauge)."""
    m = wins.shape[0]
    theta, info = fit_bt(wins, ties, METRIC_PRIOR_SD)
    p = expit(theta[:, None] - theta[None, :])
    # Meat: per-pair sums of squared score residuals, laid out like the information matrix.
    v = wins * (1.0 - p) ** 2 + wins.T * p**2 + ties * (0.5 - p) ** 2
    meat = -v
    meat[np.diag_indices(m)] = v.sum(axis=1)
    centre = np.eye(m) - 1.0 / m
    bread = centre @ np.linalg.inv(info)
    cov = bread @ meat @ bread.T
    return theta, np.sqrt(np.clip(np.diagonal(cov), 0.0, None))


def run(task: Task) -> Result:
    """One simulated arena until both milestones are reached or ``max_votes`` are cast."""
    started = time.process_time()
    sc = task.scenario
    with threadpool_limits(1):
        gen = np.random.default_rng([task.seed, sc.n_models, sc.joiners])
        m = sc.n_models
        truth = np.linspace(-sc.span / 2, sc.span / 2, m) / POINTS
        gen.shuffle(truth)
        weights = np.ones(m)
        if task.strategy == "weighted":
            weights = np.exp(gen.uniform(math.log(0.5), math.log(2.0), m))
        policy = STRATEGIES[task.strategy]
        true_rank = _ranks(truth)
        wins, ties = np.zeros((m, m)), np.zeros((m, m))
        if sc.joiners:
            old = [Candidate(id=k) for k in range(m - sc.joiners)]
            _vote(gen, truth, pair_table(old, Policy()), sc.head_start, wins, ties)
        votes, hit_hw, hit_rank = 0, None, None
        while votes < sc.max_votes and (hit_hw is None or hit_rank is None):
            battles = (wins + wins.T + ties).sum(axis=1)
            candidates = [
                Candidate(id=k, weight=float(weights[k]), battles=int(battles[k])) for k in range(m)
            ]
            stats: ActiveStats | None = None
            if policy.mode == "active":
                stats = active_stats(range(m), wins, ties, horizon=task.step)
            _vote(gen, truth, pair_table(candidates, policy, stats), task.step, wins, ties)
            votes += task.step
            theta, se = leaderboard(wins, ties)
            if hit_hw is None and float(np.mean(Z95 * se * POINTS)) < HALF_WIDTH:
                hit_hw = votes
            if hit_rank is None and int(np.abs(_ranks(theta) - true_rank).max()) <= 1:
                hit_rank = votes
    return Result(task, hit_hw, hit_rank, time.process_time() - started)


def _vote(
    gen: np.random.Generator, truth: Floats, table: PairTable, n: int, wins: Floats, ties: Floats
) -> None:
    """Draw ``n`` battles from ``table`` and add simulated verdicts to the count tables."""
    if n <= 0:
        return
    k = gen.choice(len(table.prob), size=n, p=table.prob)
    a, b = table.ids[table.i[k]], table.ids[table.j[k]]
    p = expit(truth[a] - truth[b])
    tie_p = 0.6 * np.minimum(p, 1.0 - p)
    u = gen.random(n)
    a_won = u < p - tie_p / 2
    tied = ~a_won & (u < p + tie_p / 2)
    b_won = ~a_won & ~tied
    np.add.at(wins, (a[a_won], b[a_won]), 1.0)
    np.add.at(wins, (b[b_won], a[b_won]), 1.0)
    np.add.at(ties, (a[tied], b[tied]), 1.0)
    np.add.at(ties, (b[tied], a[tied]), 1.0)


def _ranks(x: Floats) -> NDArray[np.intp]:
    out = np.empty(len(x), dtype=np.intp)
    out[np.argsort(-x)] = np.arange(len(x))
    return out


def oracle_ratio(sc: Scenario, iterations: int = 1500) -> float:
    """Votes the best fixed allocation (knowing the truth) needs, as a share of uniform's.

    Minimises the mean sandwich standard error over pair shares by exponentiated gradient;
    per-model standard errors scale as 1 / sqrt(votes), so the ratio of votes is the squared
    ratio of the mean standard errors. No sampling rule can beat this for a from-scratch arena.
    """
    m = sc.n_models
    truth = np.linspace(-sc.span / 2, sc.span / 2, m) / POINTS
    ii, jj = np.triu_indices(m, 1)
    p = expit(truth[ii] - truth[jj])
    w = p * (1.0 - p)
    meat = w - 0.6 * np.minimum(p, 1.0 - p) / 4.0
    eff = w * w / meat  # one battle's information under the sandwich (ties as half)

    def cov(share: Floats) -> Floats:
        lap = np.zeros((m, m))
        np.add.at(lap, (ii, jj), -share * eff)
        lap += lap.T
        lap[np.diag_indices(m)] = -lap.sum(axis=1)
        return np.asarray(np.linalg.pinv(lap), dtype=np.float64)

    uniform = np.full(len(ii), 1.0 / len(ii))
    share = uniform.copy()
    with threadpool_limits(1):
        for _ in range(iterations):
            c = cov(share)
            g = (c / (2.0 * np.sqrt(np.diagonal(c)))[None, :]) @ c
            grad = eff * (g[ii, ii] + g[jj, jj] - 2.0 * g[ii, jj])
            share = share * np.exp(0.5 * (grad / float(grad @ share) - 1.0))
            share /= share.sum()
        best = np.sqrt(np.diagonal(cov(share))).mean()
        base = np.sqrt(np.diagonal(cov(uniform))).mean()
    return float((best / base) ** 2)


def _summary(values: list[int | None], cap: int) -> tuple[str, float | None]:
    reached = [v for v in values if v is not None]
    if len(reached) < len(values):
        return f">{cap:,} ({len(reached)}/{len(values)} reached)", None
    med = statistics.median(reached)
    return f"{med:>7,.0f}  [{min(reached):,}-{max(reached):,}]", med


def report(results: list[Result], scenarios: list[Scenario], seeds: int) -> None:
    """One table per scenario: median votes (range over seeds) and the change against uniform."""
    metrics: list[tuple[str, Callable[[Result], int | None]]] = [
        (f"mean 95% half-width < {HALF_WIDTH:g} points", lambda r: r.votes_half_width),
        ("every model's rank within +-1 of the truth", lambda r: r.votes_rank),
    ]
    for sc in scenarios:
        print(f"\n{sc.title}; {seeds} seeds")
        if not sc.joiners:
            print(
                f"  best possible allocation (oracle): {(oracle_ratio(sc) - 1) * 100:+.0f}% votes"
            )
        for title, get in metrics:
            print(f"  votes until {title}: median [min-max]")
            base: float | None = None
            for name in sc.strategies:
                runs = [r for r in results if r.task.scenario == sc and r.task.strategy == name]
                text, med = _summary([get(r) for r in runs], sc.max_votes)
                if name == "uniform":
                    base = med
                change = f"{(med / base - 1) * 100:+4.0f}% vs uniform" if med and base else ""
                print(f"    {name:<13} {text:<29} {change}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="CI smoke run (a few seconds)")
    parser.add_argument("--seeds", type=int, default=None)
    parser.add_argument("--step", type=int, default=250, help="refit every this many votes")
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    args = parser.parse_args(argv)
    if args.quick:
        scenarios = [Scenario(20, 500.0, 40_000)]
        seeds = args.seeds or 2
    else:
        scenarios = [
            Scenario(20, 500.0, 40_000),
            Scenario(50, 750.0, 120_000),
            Scenario(20, 1000.0, 60_000),
            Scenario(50, 1500.0, 200_000),
            Scenario(25, 500.0, 40_000, JOINERS, joiners=5, head_start=15_000),
        ]
        seeds = args.seeds or 6
    tasks = [
        Task(sc, name, seed, args.step)
        for sc in scenarios
        for seed in range(seeds)
        for name in sc.strategies
    ]
    started = time.perf_counter()
    # Longest runs first so the two workers finish together.
    order = sorted(tasks, key=lambda t: -t.scenario.n_models * (t.strategy.startswith("active")))
    with ProcessPoolExecutor(args.workers) as pool:
        results = list(pool.map(run, order))
    report(results, scenarios, seeds)
    cpu = sum(r.cpu_seconds for r in results)
    print(
        f"\nrefit every {args.step} votes; {len(tasks)} runs, {cpu:.0f} s CPU, "
        f"{time.perf_counter() - started:.0f} s wall on {args.workers} workers"
    )


if __name__ == "__main__":
    main()
