"""The flip audit of any chosen pair, computed now on the board's votes (API and CLI)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from arena.votes.audit import flip_audit
from arena.votes.board import load_votes
from arena.votes.board_options import LeaderboardOptions, RankingConfig
from arena.votes.cache import VoteCache
from ratings.preliminary import compute_listed


def audit_chosen_pair(
    engine: Engine,
    opts: LeaderboardOptions,
    config: RankingConfig,
    a: str,
    b: str,
    cache: VoteCache | None = None,
) -> dict[str, Any]:
    """How many votes keep the higher of ``a`` and ``b`` above the other (ValueError: bad pair)."""
    battles, _ = load_votes(engine, opts, config.hygiene, cache)
    lb = compute_listed(
        battles,
        listing_threshold=config.min_battles,
        ties=opts.ties,
        reweight=opts.reweight,
    )
    return flip_audit(battles, lb, a, b)
