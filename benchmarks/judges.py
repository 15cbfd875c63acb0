"""How many human votes an LLM judge saves to reach the same interval width.

A synthetic arena: `--models` models with evenly spaced true Bradley-Terry ratings (a spread of
`--spread` points); people vote by the true model (ties scored as half, as in the arena). Every
voted battle is also judged twice (answers swapped) by a judge whose verdict matches the human
vote with probability `--agreement` (75%), else is the opposite (a human tie becomes a random win).

The combined board (`votes=all`) weights a judgement `judge_weight` (0.5, the default setting) next
to a human vote. With N human votes plus the judge, the mean 95% interval width of the combined
board is measured; then the number of human votes alone that gives the same width is found
(widths scale as 1/sqrt(votes), checked by fitting that many votes). Printed: the votes saved.

Caveat the numbers show: a judge that agrees 75% with people is a noisier, biased copy of them;
the combined board narrows its intervals partly by shrinking toward the judge's (compressed) view.

    .venv/bin/python benchmarks/judges.py            # ~20 s
    .venv/bin/python benchmarks/judges.py --quick    # CI smoke run
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

# benchmarks/ratings.py would shadow the `ratings` package when this runs as a file.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [str(_HERE.parent)] + [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import numpy as np  # noqa: E402

from ratings import Battles, compute_leaderboard  # noqa: E402


def simulate(
    n: int, m: int, spread: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """N human votes: pairs drawn uniformly, outcomes from the true ratings (0 a, 1 b, 2 tie)."""
    truth = np.linspace(-spread / 2, spread / 2, m)
    a = rng.integers(0, m, n)
    b = (a + rng.integers(1, m, n)) % m
    p = 1 / (1 + 10 ** ((truth[b] - truth[a]) / 400))
    tie = 0.6 * np.minimum(p, 1 - p)
    u = rng.random(n)
    outcome = np.where(u < tie, 2, np.where(u < tie + (1 - tie) * p, 0, 1))
    return a, b, outcome


def judge(outcome: np.ndarray, agreement: float, rng: np.random.Generator) -> np.ndarray:
    """One judge verdict per vote: the same with probability `agreement`, else the other side."""
    agree = rng.random(len(outcome)) < agreement
    other = np.where(outcome == 0, 1, np.where(outcome == 1, 0, rng.integers(0, 2, len(outcome))))
    return np.where(agree, outcome, other)


def width(m: int, a: np.ndarray, b: np.ndarray, o: np.ndarray, w: np.ndarray | None) -> float:
    """The mean 95% interval width of a fit."""
    names = [f"m{i}" for i in range(m)]
    lb = compute_leaderboard(Battles.from_arrays(names, a, b, o, weights=w), min_battles=0)
    return float(np.mean([r.ci_upper - r.ci_lower for r in lb.models]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", type=int, default=8)
    parser.add_argument("--spread", type=float, default=300.0)
    parser.add_argument("--agreement", type=float, default=0.75)
    parser.add_argument("--judge-weight", type=float, default=0.5)
    parser.add_argument("--votes", default="250,500,1000,2000")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    sizes = [200] if args.quick else [int(v) for v in args.votes.split(",")]
    seeds = 1 if args.quick else args.seeds
    m = args.models
    print(
        f"{m} models, spread {args.spread:.0f}, judge agrees {args.agreement:.0%} with people, "
        f"judge weight {args.judge_weight}, {seeds} seeds"
    )
    print(
        f"{'human votes':>11} {'width alone':>11} {'with judge':>10} {'equal-width votes':>17} "
        f"{'saved':>7} {'check width':>11}"
    )
    for n in sizes:
        alone, combined, checks, equal = [], [], [], []
        for seed in range(seeds):
            rng = np.random.default_rng(seed)
            a, b, o = simulate(n, m, args.spread, rng)
            alone.append(width(m, a, b, o, None))
            j1, j2 = judge(o, args.agreement, rng), judge(o, args.agreement, rng)
            aa, bb = np.r_[a, a, a], np.r_[b, b, b]
            oo = np.r_[o, j1, j2]
            ww = np.r_[np.ones(n), np.full(2 * n, args.judge_weight)]
            combined.append(width(m, aa, bb, oo, ww))
            n_eq = round(n * (alone[-1] / combined[-1]) ** 2)
            equal.append(n_eq)
            a2, b2, o2 = simulate(n_eq, m, args.spread, np.random.default_rng(1000 + seed))
            checks.append(width(m, a2, b2, o2, None))
        n_eq = int(np.mean(equal))
        print(
            f"{n:>11} {np.mean(alone):>11.1f} {np.mean(combined):>10.1f} {n_eq:>17} "
            f"{n_eq - n:>7} {np.mean(checks):>11.1f}"
        )
    print("saved = human votes alone for the combined board's width, minus the votes used.")


if __name__ == "__main__":
    main()
