"""How the LLM judges work: plain values read once from the settings (see arena/judges/)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class JudgeRules:
    """Background judging: whether, how often, how many at once, retries and the daily budget."""

    enabled: bool = True
    poll_seconds: float = 5.0
    concurrency: int = 4
    max_attempts: int = 4
    retry_seconds: float = 10.0  # the first retry's delay; each later one doubles it
    daily_budget: int = 1000  # calls per judge per 24 hours; 0 = no limit
    lease_seconds: float = 900.0  # a running job older than this belonged to a dead worker


@dataclass(frozen=True)
class JudgeWeights:
    """How judgements count on the judges' and the combined boards."""

    strong: float = 3.0  # a [[A>>B]] / [[B>>A]] verdict counts this many times (arena-hard: 3)
    in_all: float = 0.5  # one judgement next to one human vote on the `votes=all` board
