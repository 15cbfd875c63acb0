"""The arena's Prometheus metrics (prometheus-client), recorded where things happen.

With several workers, `arena serve --workers N` points PROMETHEUS_MULTIPROC_DIR at a fresh folder
before they start, so each worker writes its values there and `/metrics` adds them up (the
library's multiprocess mode). The breaker state is read from the database when scraped.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

BATTLES = Counter(
    "arena_battles", "Battles a model answered in (first turns, both sides)", ["model"]
)
FAILURES = Counter(
    "arena_answer_failures",
    "Upstream calls that failed, by model and failure kind (replaced seats included)",
    ["model", "reason"],
)
TTFT = Histogram(
    "arena_time_to_first_token_seconds",
    "Time to the first token of an answer",
    ["model"],
    buckets=(0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64),
)
TOKENS_PER_SECOND = Histogram(
    "arena_tokens_per_second",
    "Completion tokens per second of a finished answer (after its first token)",
    ["model"],
    buckets=(1, 2, 5, 10, 20, 40, 80, 160, 320, 640),
)
VOTES = Counter("arena_votes", "Votes cast, by whether they count", ["counted"])
LEAKS = Counter("arena_vote_leaks", "Votes whose answers named their own model")
LIMITS_HIT = Counter("arena_limits_hit", "Requests refused by a rate limit, by limit", ["limit"])
LEADERBOARD_REFRESH = Histogram(
    "arena_leaderboard_refresh_seconds",
    "Time to recompute one stored leaderboard",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)


def answer_finished(
    model: str, *, ttft_ms: float | None, total_ms: float | None, tokens: int | None
) -> None:
    """A complete answer: its time to first token and its speed."""
    if ttft_ms is not None:
        TTFT.labels(model).observe(ttft_ms / 1000)
    if ttft_ms is not None and total_ms is not None and tokens:
        streaming = (total_ms - ttft_ms) / 1000
        if streaming > 0:
            TOKENS_PER_SECOND.labels(model).observe(tokens / streaming)
