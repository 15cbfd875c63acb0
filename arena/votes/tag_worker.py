"""The LLM tagger's background work: claim waiting prompts, classify a few at once, store.

Each worker of the arena runs one loop (and `arena categories retag --tagger llm` runs the same
rounds in the foreground). A failed prompt (error, timeout, malformed answer) goes back to the
list until it has had `tagger_retries` further tries; its votes keep the rules' tags meanwhile
and for good if it never succeeds, so nothing is lost.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine

from arena.store.engine import in_thread
from arena.votes.failure_log import log_failure
from arena.votes.llm_tagger import TaggerAnswer, TaggerCall, classify
from arena.votes.tag_jobs import Claimed, claim, fail, finish

log = logging.getLogger("arena.votes.tagger")


@dataclass(frozen=True)
class TaggerRules:
    """How the LLM tagger works."""

    name: str
    threshold: int = 6
    concurrency: int = 4
    retries: int = 2
    timeout: float = 30.0
    poll_seconds: float = 2.0

    @property
    def lease(self) -> timedelta:
        """How long a claimed prompt is held before another worker may take it."""
        return timedelta(seconds=self.timeout * 2 + 30)


async def _one(
    call: TaggerCall, job: Claimed, rules: TaggerRules
) -> tuple[Claimed, TaggerAnswer | str]:
    try:
        answer = await asyncio.wait_for(
            classify(call, job.prompt, rules.threshold), timeout=rules.timeout
        )
    except TimeoutError:
        return job, f"no answer within {rules.timeout:g} s"
    except Exception as exc:  # an upstream error or a malformed answer: the rules' tags stand
        return job, f"{type(exc).__name__}: {exc}"
    return job, answer


async def tag_round(
    engine: Engine, call: TaggerCall, rules: TaggerRules, only: list[str] | None = None
) -> tuple[int, int]:
    """Claim and classify up to `concurrency` prompts; returns (answered, failed)."""
    jobs = await in_thread(claim, engine, rules.concurrency, rules.lease, only)
    if not jobs:
        return 0, 0
    results = await asyncio.gather(*(_one(call, job, rules) for job in jobs))
    done = [
        (job.prompt_hash, rules.name, r.bits, r.criteria)
        for job, r in results
        if isinstance(r, TaggerAnswer)
    ]
    failed = [(job, r) for job, r in results if isinstance(r, str)]
    for job, error in failed:
        log.warning("tagging prompt %s failed (try %d): %s", job.prompt_hash, job.attempts, error)
        await in_thread(fail, engine, job.prompt_hash, error, rules.retries)
    await in_thread(finish, engine, done)
    return len(done), len(failed)


async def tag_forever(engine: Engine, call: TaggerCall, rules: TaggerRules) -> None:
    """Keep tagging waiting prompts, forever (one loop per worker; claims avoid double work)."""
    while True:
        try:
            answered, failed = await tag_round(engine, call, rules)
        except Exception as exc:
            log_failure("the category tagger failed", exc)
            answered = failed = 0
        if not answered and not failed:
            await asyncio.sleep(rules.poll_seconds)
