"""A model's page (history, opponents, categories) and your own leaderboard."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse

from arena.votes.board import cached_leaderboard
from arena.votes.board_options import LeaderboardOptions
from arena.votes.history import model_history
from arena.votes.personal import personal_board
from arena.votes.tags import CATEGORIES
from arena.web.deps import SettingsDep, VoterDep
from arena.web.history_chart import history_chart
from arena.web.render import render
from arena.web.state import arena_state

router = APIRouter()


def opponents(payload: dict[str, Any], name: str) -> list[dict[str, Any]]:
    """The model's observed win rate (ties half) and battles against each opponent it met."""
    m = payload["matrices"]
    i = m["names"].index(name)
    out = []
    for j, other in enumerate(m["names"]):
        n = m["count"][i][j]
        if j != i and n:
            out.append(
                {
                    "model": other,
                    "battles": int(n),
                    "win_rate": m["win_rate"][i][j],
                    "predicted": m["predicted"][i][j],
                }
            )
    return sorted(out, key=lambda o: -o["battles"])


@router.get("/models/{name:path}", response_class=HTMLResponse, include_in_schema=False)
async def model_page(request: Request, name: str, settings: SettingsDep) -> HTMLResponse:
    """One model: its rating over time, its record against each opponent, its category ranks."""
    state = arena_state(request.app)
    opts = LeaderboardOptions(ties=settings.ties)

    def board(o: LeaderboardOptions) -> dict[str, Any]:
        return cached_leaderboard(state.engine, o, state.ranking, state.vote_cache)

    payload = await asyncio.to_thread(board, opts)
    rows = {m["model"]: m for m in payload["leaderboard"]["models"]}
    if name not in rows:
        raise HTTPException(404, f"No model {name!r} on the leaderboard.")
    history = await asyncio.to_thread(model_history, state.engine, opts.key(), name)
    categories = []
    for c in CATEGORIES:
        data = (await asyncio.to_thread(board, LeaderboardOptions(category=c, ties=settings.ties)))[
            "leaderboard"
        ]
        row = next((m for m in data["models"] if m["model"] == name), None)
        if row is not None:
            listed = sum(1 for m in data["models"] if not m["preliminary"])
            categories.append({"category": c, "of": listed, **row})
    return render(
        request,
        "model.html",
        active="leaderboard",
        m=rows[name],
        history=history,
        history_svg=history_chart(history),
        opponents=opponents(payload, name),
        categories=categories,
        min_battles=settings.min_battles,
    )


@router.get("/leaderboard/me", response_class=HTMLResponse, include_in_schema=False)
async def my_leaderboard(request: Request, settings: SettingsDep, voter: VoterDep) -> HTMLResponse:
    """This voter's own ranking of the models, beside the public board."""
    state = arena_state(request.app)
    mine = await asyncio.to_thread(
        personal_board, state.engine, voter, settings.personal_board_min_votes
    )
    opts = LeaderboardOptions(ties=settings.ties)
    payload = await asyncio.to_thread(
        cached_leaderboard, state.engine, opts, state.ranking, state.vote_cache
    )
    public = {m["model"]: m for m in payload["leaderboard"]["models"]}
    return render(request, "personal.html", active="leaderboard", mine=mine, public=public)
