"""Leaderboard at scale: cold refit and page time from cache, with M models and N stored votes.

Fills a fresh SQLite database (or `--database-url`) with synthetic votes drawn from known
strengths, then times a cold recomputation (read every counted vote, vote hygiene, fit, sandwich)
and the leaderboard page and API served from the cache by a real arena server.
Run: `python benchmarks/leaderboard.py [--models 100] [--votes 1000000]`.
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from arena.core.settings import Settings
from arena.store.engine import make_engine, migrate
from arena.store.style_columns import STYLE_COLUMNS
from arena.store.tables import Battle, Endpoint, Vote, utcnow
from arena.votes.board import LeaderboardOptions, compute_payload, ranking_config
from arena.votes.cache import VoteCache
from benchmarks._harness import arena_process, percentile

WINNERS = ["model_a", "model_b", "tie", "tie (bothbad)"]


def fill(url: str, models: int, votes: int, seed: int = 0) -> None:
    """Endpoints and `votes` voted battles with Bradley-Terry outcomes (about 25% ties)."""
    rng = np.random.default_rng(seed)
    engine = make_engine(url)
    migrate(engine)
    strength = rng.normal(0, 1, models)
    with engine.begin() as conn:
        conn.execute(
            insert(Endpoint),
            [
                {
                    "id": i + 1,
                    "name": f"model-{i:03d}",
                    "base_url": "http://127.0.0.1:9/v1",
                    "model": f"m{i}",
                    "extra_body": {},
                    "aliases": [],
                    "weight": 1.0,
                    "enabled": True,
                    "retired": False,
                    "source": "file",
                    "consecutive_failures": 0,
                    "created_at": utcnow(),
                    "updated_at": utcnow(),
                }
                for i in range(models)
            ],
        )
    now = utcnow()
    batch = 50_000
    for start in range(0, votes, batch):
        n = min(batch, votes - start)
        a = rng.integers(0, models, n)
        b = (a + rng.integers(1, models, n)) % models
        p = 1 / (1 + np.exp(strength[b] - strength[a]))
        u = rng.random(n)
        outcome = np.where(u < 0.25, 2 + (u < 0.05), np.where(rng.random(n) < p, 0, 1))
        ids = [secrets.token_hex(12) for _ in range(n)]
        style = rng.integers(0, 400, (n, 8))
        voters = rng.integers(0, votes // 20 + 1, n)
        with engine.begin() as conn:
            conn.execute(
                insert(Battle),
                [
                    {
                        "id": ids[k],
                        "voter_id": f"{voters[k]:032x}",
                        "model_a_id": int(a[k]) + 1,
                        "model_b_id": int(b[k]) + 1,
                        "status": "voted",
                        "anony": True,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for k in range(n)
                ],
            )
            conn.execute(
                insert(Vote),
                [
                    {
                        "battle_id": ids[k],
                        "winner": WINNERS[outcome[k]],
                        "voter_id": f"{voters[k]:032x}",
                        "client_ip": f"10.0.{voters[k] % 250}.1",
                        "model_a_id": int(a[k]) + 1,
                        "model_b_id": int(b[k]) + 1,
                        "anony": True,
                        "leaked": False,
                        "excluded": False,
                        "counted": True,
                        "categories": ["english"],
                        **dict(zip(STYLE_COLUMNS, style[k].tolist(), strict=True)),
                        "prompt_hash": f"{start + k:032x}",
                        "created_at": now,
                    }
                    for k in range(n)
                ],
            )
    engine.dispose()


def add_votes(engine: Any, n: int) -> None:
    """n more votes between the first two models."""
    now = utcnow()
    with engine.begin() as conn:
        for _ in range(n):
            battle = secrets.token_hex(12)
            conn.execute(
                insert(Battle).values(
                    id=battle,
                    voter_id="f" * 32,
                    model_a_id=1,
                    model_b_id=2,
                    status="voted",
                    anony=True,
                    created_at=now,
                    updated_at=now,
                )
            )
            conn.execute(
                insert(Vote).values(
                    battle_id=battle,
                    winner="model_a",
                    voter_id="f" * 32,
                    model_a_id=1,
                    model_b_id=2,
                    anony=True,
                    leaked=False,
                    excluded=False,
                    counted=True,
                    categories=[],
                    created_at=now,
                )
            )


def bare_select(engine: Any) -> float:
    """Seconds to fetch the columns ranking reads for every counted vote, doing nothing else."""
    plain = ("id", "model_a_id", "model_b_id", "winner", "voter_id", "client_ip", "prompt_hash")
    columns = ", ".join((*plain, *STYLE_COLUMNS))
    with engine.connect() as conn:
        t = time.perf_counter()
        cursor = conn.exec_driver_sql(
            f"SELECT {columns} FROM vote WHERE counted AND anony ORDER BY id"
        ).cursor
        cursor.fetchall()
        return time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", type=int, default=100)
    parser.add_argument("--votes", type=int, default=1_000_000)
    parser.add_argument("--database-url")
    parser.add_argument("--views", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/leaderboard.db"
        t = time.perf_counter()
        fill(url, args.models, args.votes)
        print(
            f"leaderboard: {args.models} models, {args.votes:,} stored votes "
            f"(filled in {time.perf_counter() - t:.1f} s)"
        )
        engine = make_engine(url)
        config = ranking_config(Settings())
        cache = VoteCache()
        floor = bare_select(engine)
        print(f"  {'floor: bare SELECT':<26} {floor:6.2f} s  (the same rows and columns, no work)")
        t = time.perf_counter()
        compute_payload(engine, LeaderboardOptions(), config, cache)
        print(f"  {'cold refit, vote cache':<26} {time.perf_counter() - t:6.2f} s")
        add_votes(engine, 1)
        t = time.perf_counter()
        compute_payload(engine, LeaderboardOptions(), config, cache)
        print(
            f"  {'refit after one new vote':<26} {time.perf_counter() - t:6.2f} s  "
            "(warm vote cache: what a worker's refresher pays)"
        )
        for label, opts in (
            ("cold refit (target 1.5 s)", LeaderboardOptions()),
            ("cold refit, style (2.5 s)", LeaderboardOptions(style_control=True)),
        ):
            t = time.perf_counter()
            payload = compute_payload(engine, opts, config)
            print(
                f"  {label:<26} {time.perf_counter() - t:6.2f} s  "
                f"({payload['leaderboard']['total_battles']:,} battles in the fit, "
                f"left out {payload['leaderboard']['excluded']})"
            )
        engine.dispose()
        with (
            arena_process("http://127.0.0.1:9/v1", {}, database_url=url) as (base, _proc),
            httpx.Client(base_url=base, timeout=120) as c,
        ):
            t = time.perf_counter()
            c.get("/api/leaderboard").raise_for_status()  # the first view computes the cache
            print(f"  first view (fills cache)   {time.perf_counter() - t:6.2f} s")
            for path in ("/leaderboard", "/leaderboard?show=all", "/api/leaderboard"):
                times = []
                for _ in range(args.views):
                    t = time.perf_counter()
                    c.get(path).raise_for_status()
                    times.append((time.perf_counter() - t) * 1000)
                print(
                    f"  {path:<26} from cache: p50 {percentile(times, 50):6.1f} ms  "
                    f"p99 {percentile(times, 99):6.1f} ms  mean {statistics.mean(times):6.1f} ms"
                )


if __name__ == "__main__":
    main()
