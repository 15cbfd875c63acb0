"""The background judge of one worker process: finds finished battles, claims their jobs, judges.

It runs beside the app as its own task and shares nothing with the voters' requests but the
database: a slow, failing or absent judge never delays a battle, a vote or a page. With several
workers (or several machines on one PostgreSQL) each claims its own jobs (see `queue.py`).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from sqlalchemy import Engine

from arena.core.judge_rules import JudgeRules
from arena.judges.calls import Callers
from arena.judges.judging import run_job
from arena.judges.prompt import current_prompt
from arena.judges.queue import active_judges, calls_today, claim, enqueue_battles, release_stale
from arena.store.engine import in_thread, session_scope
from arena.store.tables import utcnow
from arena.votes.failure_log import log_failure
from arena.votes.version import bump_votes_version

log = logging.getLogger("arena.judges")
BATTLE_JOBS = "b:%"


class JudgeWorker:
    """Judges finished battles in the background, at most `rules.concurrency` calls at a time."""

    def __init__(
        self,
        engine: Engine,
        rules: JudgeRules,
        callers: Callers,
        *,
        breaker_failures: int = 3,
        breaker_pause: timedelta = timedelta(minutes=10),
        subjects: str = BATTLE_JOBS,
    ) -> None:
        self.engine = engine
        self.rules = rules
        self.callers = callers
        self.breaker_failures = breaker_failures
        self.breaker_pause = breaker_pause
        self.subjects = subjects
        self.tasks: set[asyncio.Task[str]] = set()

    async def tick(self) -> int:
        """One pass: enqueue new battles, claim what fits, start the calls; returns how many."""
        judges = await in_thread(active_judges, self.engine)
        if not judges:
            return 0
        await in_thread(release_stale, self.engine, timedelta(seconds=self.rules.lease_seconds))
        if self.subjects == BATTLE_JOBS:
            await in_thread(enqueue_battles, self.engine, judges)
        system = await in_thread(current_prompt, self.engine)
        started = 0
        now = utcnow()
        for judge in judges:
            if judge.id is None or (judge.paused_until is not None and judge.paused_until > now):
                continue  # the breaker has paused it: its jobs wait, nothing fails
            free = self.rules.concurrency - len(self.tasks)
            if self.rules.daily_budget:
                used = await in_thread(calls_today, self.engine, judge.id)
                free = min(free, self.rules.daily_budget - used)
            ids = await in_thread(claim, self.engine, judge.id, free, subjects_like=self.subjects)
            for job_id in ids:
                task = asyncio.create_task(self._run(job_id, system))
                self.tasks.add(task)
                task.add_done_callback(self.tasks.discard)
                started += 1
        return started

    async def _run(self, job_id: int, system: str) -> str:
        try:
            status = await run_job(
                self.engine,
                self.callers,
                job_id,
                system,
                self.rules,
                breaker_failures=self.breaker_failures,
                breaker_pause=self.breaker_pause,
            )
        except Exception as exc:
            log_failure(f"judge job {job_id} failed", exc)
            return "failed"
        if status == "done":
            await in_thread(self._bump)
        return status

    def _bump(self) -> None:
        # The judges' and combined boards key on the votes version: a new verdict refreshes them.
        with session_scope(self.engine) as session:
            bump_votes_version(session)

    async def drain(self) -> None:
        """Wait for the calls in flight."""
        while self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)

    async def run_until_idle(self, max_passes: int = 50) -> None:
        """Pass after pass until nothing is left to start (for tests and the CLI)."""
        for _ in range(max_passes):
            started = await self.tick()
            await self.drain()
            if not started:
                return

    async def forever(self) -> None:
        """Judge in the background until cancelled."""
        try:
            while True:
                if self.rules.enabled:
                    try:
                        await self.tick()
                    except Exception as exc:
                        log_failure("the background judge failed a pass", exc)
                await asyncio.sleep(self.rules.poll_seconds)
        finally:
            for task in list(self.tasks):
                task.cancel()
            await asyncio.gather(*list(self.tasks), return_exceptions=True)
            await self.callers.close()
