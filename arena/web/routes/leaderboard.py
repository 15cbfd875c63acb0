"""The leaderboard: its page, its JSON API and its downloads (CSV, JSON, Markdown)."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response

from arena.votes.board import LISTED_STATUSES, LeaderboardOptions, cached_leaderboard
from arena.votes.tags import CATEGORIES
from arena.web.charts import heatmap, interval_chart
from arena.web.deps import HXRequest, SettingsDep
from arena.web.openapi import COMMON, errors, ok_body
from arena.web.render import render
from arena.web.state import arena_state
from ratings.formats import COLUMNS, to_csv, to_markdown

router = APIRouter()
SORTABLE = (*COLUMNS, "organization")
# Columns where the best comes first in ascending order; every other column is a measure where
# more is better, so its first click sorts descending (best on top), as readers expect.
ASCENDING_FIRST = frozenset({"rank", "rank_ub", "model", "organization"})
Format = Literal["json", "csv", "markdown"]
Votes = Literal["human", "judges", "all"]


def options(
    style_control: bool = False,
    category: Annotated[str | None, Query(max_length=40)] = None,
    ci: Literal["sandwich", "bootstrap"] = "sandwich",
    votes: Votes = "human",
) -> LeaderboardOptions:
    """Leaderboard options from the query string (no category, "" or "all" mean all battles)."""
    if category in ("", "all"):
        category = None
    if category is not None and category not in CATEGORIES:
        raise HTTPException(
            422, f"Unknown category {category!r}; use one of {', '.join(CATEGORIES)}."
        )
    return LeaderboardOptions(style_control=style_control, category=category, ci=ci, votes=votes)


def sort_models(models: list[dict[str, Any]], key: str, descending: bool) -> list[dict[str, Any]]:
    """Models sorted by a column; text columns ignore case, missing values go last."""
    if key not in SORTABLE:
        return models
    if key in ("model", "organization"):
        return sorted(models, key=lambda m: str(m.get(key) or "").lower(), reverse=descending)
    present = [m for m in models if m.get(key) is not None]
    missing = [m for m in models if m.get(key) is None]
    return sorted(present, key=lambda m: m[key], reverse=descending) + missing


def next_direction(column: str, sort: str, direction: str) -> str:
    """The direction a click on `column`'s header sorts by: reversed if it is the sorted one."""
    if column == sort:
        return "desc" if direction == "asc" else "asc"
    return "asc" if column in ASCENDING_FIRST else "desc"


async def _payload(request: Request, opts: LeaderboardOptions) -> dict[str, Any]:
    state = arena_state(request.app)
    return await asyncio.to_thread(
        cached_leaderboard, state.engine, opts, state.ranking, state.vote_cache
    )


def _export(data: dict[str, Any], fmt: Format, download: str | None) -> Response:
    headers = {"Content-Disposition": f'attachment; filename="{download}"'} if download else {}
    if fmt == "csv":
        return PlainTextResponse(to_csv(data), media_type="text/csv", headers=headers)
    if fmt == "markdown":
        return PlainTextResponse(to_markdown(data), media_type="text/markdown", headers=headers)
    return JSONResponse(data, headers=headers)


@router.get(
    "/api/leaderboard",
    tags=["leaderboard"],
    responses={
        **ok_body(
            "The leaderboard: JSON (see CONTRACT.md), or CSV / Markdown by `format`",
            "application/json",
            "text/csv",
            "text/markdown",
        ),
        **errors(*COMMON, 422),
    },
)
async def api_leaderboard(
    request: Request,
    style_control: bool = False,
    category: Annotated[str | None, Query(max_length=40)] = None,
    ci: Literal["sandwich", "bootstrap"] = "sandwich",
    format: Format = "json",
    votes: Votes = "human",
) -> Response:
    """The leaderboard as the contract's JSON (or CSV / Markdown with `format`); `votes` picks
    people's votes (default), the LLM judges' verdicts, or both."""
    opts = options(style_control, category, ci, votes)
    payload = await _payload(request, opts)
    return _export(payload["leaderboard"], format, None)


@router.get("/leaderboard.{ext}", include_in_schema=False)
async def download(
    request: Request,
    ext: Literal["csv", "json", "md"],
    style_control: bool = False,
    category: Annotated[str | None, Query(max_length=40)] = None,
    votes: Votes = "human",
) -> Response:
    """The leaderboard as a file to download."""
    payload = await _payload(request, options(style_control, category, votes=votes))
    fmt: Format = {"csv": "csv", "json": "json", "md": "markdown"}[ext]  # type: ignore[assignment]
    return _export(payload["leaderboard"], fmt, f"leaderboard.{ext}")


@router.get("/leaderboard", response_class=HTMLResponse, include_in_schema=False)
async def leaderboard_page(
    request: Request,
    settings: SettingsDep,
    htmx: HXRequest,
    style_control: bool = False,
    category: Annotated[str | None, Query(max_length=40)] = None,
    show: Literal["active", "all"] = "active",
    sort: Annotated[str, Query(max_length=20)] = "rank",
    dir: Literal["asc", "desc"] = "asc",
    votes: Votes = "human",
) -> HTMLResponse:
    """The leaderboard page (the board alone for htmx requests)."""
    opts = options(style_control, category, votes=votes)
    payload = await _payload(request, opts)
    data = payload["leaderboard"]
    models = [m for m in data["models"] if show == "all" or m.get("status") in LISTED_STATUSES]
    models = sort_models(models, sort, dir == "desc")
    shown = {m["model"] for m in models}
    matrices = payload["matrices"]
    keep = [i for i, n in enumerate(matrices["names"]) if n in shown]
    names = [matrices["names"][i] for i in keep]

    def sub(key: str) -> list[list[float | None]]:
        return [[matrices[key][i][j] for j in keep] for i in keep]

    ctx = {
        "active": "leaderboard",
        "data": data,
        "models": models,
        "fresh": payload.get("fresh", True),
        "opts": opts,
        "show": show,
        "sort": sort,
        "dir": dir,
        "next_dir": next_direction,
        "categories": CATEGORIES,
        "min_battles": settings.min_battles,
        "interval_svg": interval_chart(sorted(models, key=lambda m: -(m["rating"] or 0))),
        "winrate_svg": heatmap(names, sub("win_rate"), kind="win_rate", counts=sub("count")),
        "count_svg": heatmap(names, sub("count"), kind="count"),
    }
    template = "_leaderboard.html" if htmx else "leaderboard.html"
    return render(request, template, **ctx)
