"""The leaderboard: its page, its JSON API and its downloads (CSV, JSON, Markdown)."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response

from arena.votes.board import LISTED_STATUSES
from arena.votes.board_options import LeaderboardOptions
from arena.votes.tags import CATEGORIES
from arena.web.board_view import group_rows
from arena.web.charts import heatmap, interval_chart
from arena.web.deps import HXRequest, SettingsDep
from arena.web.frontier import frontier_context
from arena.web.openapi import COMMON, ComputingOut, errors, ok_body
from arena.web.render import render
from arena.web.state import arena_state
from ratings.formats import COLUMNS, SPEED_COLUMNS, to_csv, to_markdown

router = APIRouter()
SORTABLE = (*COLUMNS, "organization", *SPEED_COLUMNS)
# Columns where the best comes first in ascending order; every other column is a measure where
# more is better, so its first click sorts descending (best on top), as readers expect.
ASCENDING_FIRST = frozenset(
    {"rank", "rank_ub", "model", "organization", "ttft_p50_ms", "cost_per_1k_battles"}
)
Format = Literal["json", "csv", "markdown"]
Votes = Literal["human", "judges", "all"]


Modality = Literal["text", "vision"]
COMPUTING = "The leaderboard is being computed for the first time; try again in a few seconds."
RETRY_AFTER = 2  # seconds; also how often the page's "computing" state checks again


def options(
    style_control: bool = False,
    category: Annotated[str | None, Query(max_length=40)] = None,
    ci: Literal["sandwich", "bootstrap"] = "sandwich",
    reweight: bool = False,
    ties: Literal["half", "drop"] = "half",
    modality: Modality = "text",
    votes: Votes = "human",
) -> LeaderboardOptions:
    """Leaderboard options from the query string (no category, "" or "all" mean all battles)."""
    if category in ("", "all"):
        category = None
    if category is not None and category not in CATEGORIES:
        raise HTTPException(
            422, f"Unknown category {category!r}; use one of {', '.join(CATEGORIES)}."
        )
    return LeaderboardOptions(
        style_control=style_control,
        category=category,
        ci=ci,
        reweight=reweight,
        ties=ties,
        modality=modality,
        votes=votes,
    )


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


async def _payload(request: Request, opts: LeaderboardOptions) -> dict[str, Any] | None:
    """The stored leaderboard (fresh or not), or None while it is computed for the first time."""
    state = arena_state(request.app)
    return await state.boards.get(opts, wait=state.settings.leaderboard_wait_seconds)


def _computing() -> JSONResponse:
    return JSONResponse(
        {"detail": COMPUTING, "computing": True},
        status_code=202,
        headers={"Retry-After": str(RETRY_AFTER)},
    )


def _export(payload: dict[str, Any], fmt: Format, download: str | None) -> Response:
    data = payload["leaderboard"]
    headers = {"Content-Disposition": f'attachment; filename="{download}"'} if download else {}
    # A stale board is served at once while the refresher catches it up with the newest votes.
    headers["X-Leaderboard-Stale"] = "false" if payload.get("fresh", True) else "true"
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
        202: {
            "model": ComputingOut,
            "description": "Never computed before and not ready yet; Retry-After says when to ask"
            " again. A computed board that misses the newest votes is served at once instead,"
            " with the header X-Leaderboard-Stale: true.",
        },
        **errors(*COMMON, 422),
    },
)
async def api_leaderboard(
    request: Request,
    settings: SettingsDep,
    style_control: bool = False,
    category: Annotated[str | None, Query(max_length=40)] = None,
    ci: Literal["sandwich", "bootstrap"] = "sandwich",
    reweight: bool = False,
    ties: Literal["half", "drop"] | None = None,
    format: Format = "json",
    modality: Modality = "text",
    votes: Votes = "human",
) -> Response:
    """The leaderboard as the contract's JSON (or CSV / Markdown with `format`).

    `reweight` weights battles by inverse pair frequency; `ties` overrides the arena's setting;
    `modality` picks the text board (battles without images) or the vision board (battles with);
    `votes` picks people's votes (default), the LLM judges' verdicts, or both."""
    opts = options(style_control, category, ci, reweight, ties or settings.ties, modality, votes)
    payload = await _payload(request, opts)
    return _computing() if payload is None else _export(payload, format, None)


@router.get("/leaderboard.{ext}", include_in_schema=False)
async def download(
    request: Request,
    settings: SettingsDep,
    ext: Literal["csv", "json", "md"],
    style_control: bool = False,
    category: Annotated[str | None, Query(max_length=40)] = None,
    reweight: bool = False,
    modality: Modality = "text",
    votes: Votes = "human",
) -> Response:
    """The leaderboard as a file to download."""
    opts = options(
        style_control,
        category,
        reweight=reweight,
        ties=settings.ties,
        modality=modality,
        votes=votes,
    )
    payload = await _payload(request, opts)
    if payload is None:
        return _computing()
    fmt: Format = {"csv": "csv", "json": "json", "md": "markdown"}[ext]  # type: ignore[assignment]
    return _export(payload, fmt, f"leaderboard.{ext}")


@router.get("/leaderboard", response_class=HTMLResponse, include_in_schema=False)
async def leaderboard_page(
    request: Request,
    settings: SettingsDep,
    htmx: HXRequest,
    style_control: bool = False,
    category: Annotated[str | None, Query(max_length=40)] = None,
    reweight: bool = False,
    show: Literal["active", "all"] = "active",
    sort: Annotated[str, Query(max_length=20)] = "rank",
    dir: Literal["asc", "desc"] = "asc",
    modality: Modality = "text",
    votes: Votes = "human",
) -> HTMLResponse:
    """The leaderboard page (the board alone for htmx requests)."""
    opts = options(
        style_control,
        category,
        reweight=reweight,
        ties=settings.ties,
        modality=modality,
        votes=votes,
    )
    payload = await _payload(request, opts)
    if payload is None:
        # Never computed before: say so, and let the board fetch itself again (htmx polling).
        template = "_leaderboard_computing.html" if htmx else "leaderboard.html"
        return render(
            request,
            template,
            active="leaderboard",
            computing=True,
            opts=opts,
            show=show,
            sort=sort,
            dir=dir,
            retry_after=RETRY_AFTER,
        )
    data = payload["leaderboard"]
    models = [m for m in data["models"] if show == "all" or m.get("status") in LISTED_STATUSES]
    groups = [
        dataclasses.replace(g, rows=sort_models(g.rows, sort, dir == "desc"))
        for g in group_rows(models, filtered=len(models) < len(data["models"]))
    ]
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
        "groups": groups,
        "fresh": payload.get("fresh", True),
        "opts": opts,
        "show": show,
        "sort": sort,
        "dir": dir,
        "next_dir": next_direction,
        "categories": CATEGORIES,
        "category_counts": payload.get("category_counts", {}),
        "min_battles": settings.min_battles,
        # A preliminary model's wide interval would squash the listed ones: it is drawn only
        # while nothing is listed yet.
        "interval_svg": interval_chart(
            sorted(
                [m for m in models if not m["preliminary"]] or models,
                key=lambda m: -(m["rating"] or 0),
            )
        ),
        "winrate_svg": heatmap(names, sub("win_rate"), kind="win_rate", counts=sub("count")),
        "count_svg": heatmap(names, sub("count"), kind="count"),
        **frontier_context(models, data.get("currency") or settings.currency),
    }
    template = "_leaderboard.html" if htmx else "leaderboard.html"
    return render(request, template, **ctx)
