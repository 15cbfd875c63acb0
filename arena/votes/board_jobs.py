"""Leaderboards that were never computed, computed off the request path.

A view of a stored leaderboard answers at once (a stale one too: the refresher catches it up).
A view of one that was never computed starts its computation in the background, waits for it a
short while at most, and otherwise answers "computing": a million votes take seconds to rank,
and no page should hang for that. One computation per entry and worker, however many views ask.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from sqlalchemy import Engine

from arena.store.engine import in_thread
from arena.votes.board import compute_and_store, stored_leaderboard
from arena.votes.board_options import LeaderboardOptions, RankingConfig
from arena.votes.cache import VoteCache
from arena.votes.failure_log import log_failure


class BoardJobs:
    """The leaderboard computations a worker's views started, by cache key."""

    def __init__(self, engine: Engine, config: RankingConfig, cache: VoteCache) -> None:
        self.engine, self.config, self.cache = engine, config, cache
        self._running: dict[str, asyncio.Future[dict[str, Any]]] = {}

    async def get(self, opts: LeaderboardOptions, *, wait: float) -> dict[str, Any] | None:
        """The stored leaderboard, or the one computed within `wait` seconds, else None."""
        stored = await asyncio.to_thread(stored_leaderboard, self.engine, opts)
        if stored is not None:
            return stored
        job = self._start(opts)
        try:
            return dict(await asyncio.wait_for(asyncio.shield(job), wait))
        except TimeoutError:
            return None

    def _start(self, opts: LeaderboardOptions) -> asyncio.Future[dict[str, Any]]:
        key = opts.key()
        job = self._running.get(key)
        if job is None:
            job = asyncio.ensure_future(
                in_thread(compute_and_store, self.engine, opts, self.config, self.cache)
            )
            self._running[key] = job
            job.add_done_callback(lambda done: self._finished(key, done))
        return job

    def _finished(self, key: str, job: asyncio.Future[dict[str, Any]]) -> None:
        self._running.pop(key, None)
        if not job.cancelled() and (exc := job.exception()) is not None:
            log_failure(f"computing leaderboard {key} failed", exc)

    async def close(self) -> None:
        """Stop the computations still running (at shutdown); each waits for its thread."""
        jobs = list(self._running.values())
        for job in jobs:
            job.cancel()
        for job in jobs:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await job
