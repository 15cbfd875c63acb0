"""Speed and cost figures at scale: the one numpy pass a board refit adds, over N voted battles.

Builds the answer columns of N two-sided battles (one to three turns each) of M models in
memory, keeps a random 90% of the votes (as a category or vote hygiene would), and times
`speed_figures`, which every refit of a board runs. The database read is incremental (each
worker reads only answers of votes newer than the last it holds), so a refit pays this pass.
Run: `python benchmarks/speed_figures.py [--votes 1000000] [--models 100]`.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from arena.votes.speed import AnswerColumns, Prices, speed_figures


def columns(votes: int, models: int, rng: np.random.Generator) -> AnswerColumns:
    """Answers of `votes` battles: both sides, 1–3 turns, with times and token counts."""
    turns = rng.integers(1, 4, votes)
    vote = np.repeat(np.arange(1, votes + 1, dtype=np.int64), 2 * turns)
    pair = rng.integers(0, models, (votes, 2))
    side = np.tile([0, 1], int(turns.sum()))
    endpoint = pair[vote - 1, side].astype(np.int64) + 1
    n = len(vote)
    ttft = rng.gamma(2.0, 300.0, n)
    completion = rng.integers(20, 2000, n).astype(np.float64)
    total = ttft + completion / rng.uniform(20, 200, n) * 1000
    prompt = rng.integers(10, 4000, n).astype(np.float64)
    return AnswerColumns(vote, endpoint, ttft, total, prompt, completion, rng.random(n) < 0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--votes", type=int, default=1_000_000)
    parser.add_argument("--models", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    answers = columns(args.votes, args.models, rng)
    kept = np.sort(rng.choice(np.arange(1, args.votes + 1), int(args.votes * 0.9), replace=False))
    prices = {e: Prices(0.4, 1.2) for e in range(1, args.models + 1, 2)}
    times = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        out = speed_figures(answers, kept, prices)
        times.append(time.perf_counter() - started)
    print(
        f"{args.votes:,} battles, {len(answers.vote):,} answers, {args.models} models, "
        f"{len(kept):,} votes kept: speed_figures best {min(times) * 1000:.0f} ms, "
        f"worst {max(times) * 1000:.0f} ms ({len(out)} models with figures, "
        f"{answers.vote.nbytes * 7 / 2**20:.0f} MiB of columns)"
    )


if __name__ == "__main__":
    main()
