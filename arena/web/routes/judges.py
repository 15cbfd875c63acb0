"""How far to trust the LLM judges: `GET /api/judges` and the Judges page."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel

from arena.judges.stats import judge_stats
from arena.web.deps import EngineDep
from arena.web.judge_charts import confusion_chart
from arena.web.openapi import COMMON, errors
from arena.web.render import render

router = APIRouter()


class JudgeTrust(BaseModel):
    """One judge: its work and how far it agrees with itself and with people."""

    judge: str
    battles: int
    verdicts: int
    no_verdict: int
    position_consistency: float
    consistency_battles: int
    human_agreement: float | None
    kappa: float | None
    agreement_battles: int
    spearman_vs_human: float | None
    self_judged_battles: int
    confusion: list[list[int]]


class JudgesOut(BaseModel):
    """`GET /api/judges`."""

    judges: list[JudgeTrust]


@router.get(
    "/api/judges", tags=["leaderboard"], response_model=JudgesOut, responses=errors(*COMMON)
)
async def api_judges(engine: EngineDep) -> dict[str, Any]:
    """Each judge: battles, verdicts, position consistency, agreement with human votes, Cohen's
    kappa over win/tie/loss and the Spearman correlation of its board with the human board."""
    return {"judges": await asyncio.to_thread(judge_stats, engine)}


@router.get("/judges", response_class=HTMLResponse, include_in_schema=False)
async def judges_page(request: Request, engine: EngineDep) -> HTMLResponse:
    """The Judges page: the same figures, and each judge's confusion matrix against people."""
    judges = await asyncio.to_thread(judge_stats, engine)
    charts = {j["judge"]: confusion_chart(j["confusion"], j["judge"]) for j in judges}
    return render(request, "judges.html", active="judges", judges=judges, charts=charts)
