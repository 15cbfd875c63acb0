"""A category board costs what the overall board costs: both timed on N stored votes.

Fills a database like `benchmarks/leaderboard.py`, puts a fifth of the votes in `math` (bit flags
set in SQL), then times the overall and the math board (cold and with a warm vote cache) and
`GET /api/categories`' one-pass SQL count. Run: `python -m benchmarks.category_board [--votes N]`.
"""

from __future__ import annotations

import argparse
import tempfile
import time

from sqlalchemy import text

from arena.core.settings import Settings
from arena.store.engine import make_engine
from arena.votes.board import compute_payload
from arena.votes.board_options import LeaderboardOptions, ranking_config
from arena.votes.cache import VoteCache
from arena.votes.category_bits import bit
from arena.votes.category_counts import category_counts
from benchmarks.leaderboard import fill


def main() -> None:
    """Print the timings."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", type=int, default=100)
    parser.add_argument("--votes", type=int, default=200_000)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/categories.db"
        fill(url, args.models, args.votes)
        engine = make_engine(url)
        with engine.begin() as conn:
            conn.execute(
                text(
                    "UPDATE vote SET category_bits = :en | CASE WHEN id % 5 = 0 THEN :m ELSE 0 END"
                ),
                {"en": bit("english"), "m": bit("math")},
            )
        config = ranking_config(Settings())
        print(f"category board: {args.models} models, {args.votes:,} stored votes")
        for label, opts in (
            ("overall", LeaderboardOptions()),
            ("math", LeaderboardOptions(category="math")),
        ):
            t = time.perf_counter()
            payload = compute_payload(engine, opts, config)
            cold = time.perf_counter() - t
            cache = VoteCache()
            compute_payload(engine, opts, config, cache)
            t = time.perf_counter()
            compute_payload(engine, opts, config, cache)
            warm = time.perf_counter() - t
            print(
                f"  {label:<8} cold {cold:6.2f} s   warm vote cache {warm:6.2f} s   "
                f"({payload['leaderboard']['total_battles']:,} battles)"
            )
        t = time.perf_counter()
        counts = category_counts(engine)
        print(
            f"  /api/categories SQL count {time.perf_counter() - t:6.2f} s "
            f"({counts['total_battles']:,} battles)"
        )
        engine.dispose()


if __name__ == "__main__":
    main()
