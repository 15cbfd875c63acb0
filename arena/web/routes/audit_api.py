"""`GET /api/leaderboard/flip`: the vote-flip audit of any two listed models."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request

from arena.votes.board_options import LeaderboardOptions
from arena.votes.pair_audit import audit_chosen_pair
from arena.votes.tags import CATEGORIES
from arena.web.deps import SettingsDep
from arena.web.openapi import COMMON, errors
from arena.web.state import arena_state

router = APIRouter()
Name = Annotated[str, Query(min_length=1, max_length=100)]


@router.get("/api/leaderboard/flip", tags=["leaderboard"], responses=errors(*COMMON, 422))
async def api_flip(
    request: Request,
    settings: SettingsDep,
    a: Name,
    b: Name,
    category: Annotated[str | None, Query(max_length=40)] = None,
    reweight: bool = False,
    ties: Literal["half", "drop"] | None = None,
) -> dict[str, Any]:
    """The fewest votes whose removal swaps `a` and `b` (found greedily, verified by refits)."""
    state = arena_state(request.app)
    if category in ("", "all"):
        category = None
    if category is not None and category not in CATEGORIES:
        raise HTTPException(
            422, f"Unknown category {category!r}; use one of {', '.join(CATEGORIES)}."
        )
    opts = LeaderboardOptions(category=category, reweight=reweight, ties=ties or settings.ties)
    try:
        return await asyncio.to_thread(
            audit_chosen_pair, state.engine, opts, state.ranking, a, b, state.vote_cache
        )
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
