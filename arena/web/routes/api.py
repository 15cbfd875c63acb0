"""The voters' JSON API (see CONTRACT.md): battles, their streams, follow-ups and votes."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from arena.battles import service as actions
from arena.battles import views
from arena.battles.store import BattleError
from arena.web.deps import (
    BattlesDep,
    EngineDep,
    RunnerDep,
    VoterDep,
    VoterIdentityDep,
    no_nul_in_url,
)
from arena.web.openapi import BODY, COMMON, HealthOut, errors, ok_body
from arena.web.sse import SSE_HEADERS, encode, json_frame


async def require_json(request: Request) -> None:
    """The JSON API takes JSON only (a cross-site form cannot send it without a preflight)."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/json":
        raise BattleError(415, "Send the request body as JSON (Content-Type: application/json).")


router = APIRouter(
    prefix="/api",
    tags=["voters"],
    dependencies=[Depends(no_nul_in_url)],
    responses=errors(*COMMON, 422),
)
JSON_ONLY = [Depends(require_json)]


class PromptIn(BaseModel):
    """A prompt for both models."""

    model_config = ConfigDict(extra="ignore")
    prompt: str = Field(description="The voter's message; not empty, at most max_prompt_chars.")
    images: list[str] = Field(
        default_factory=list,
        description="Images for both models, each a data:image/png|jpeg|webp|gif;base64,… URI; "
        "at most max_images_per_turn, each at most max_image_bytes decoded. A battle with "
        "images draws two vision models.",
    )


class VoteIn(BaseModel):
    """The voter's verdict."""

    model_config = ConfigDict(extra="ignore")
    winner: str = Field(description="model_a | model_b | tie | tie (bothbad)")


@router.post(
    "/battles",
    status_code=201,
    dependencies=JSON_ONLY,
    responses=errors(*BODY, 409, 424, 429),
)
async def create_battle(
    body: PromptIn, arena: BattlesDep, voter: VoterIdentityDep
) -> dict[str, Any]:
    """Start a battle between two anonymous models; stream it from `stream_url`."""
    battle_id = await actions.start_battle(arena, voter, body.prompt, body.images)
    return {
        "battle_id": battle_id,
        "status": "streaming",
        "stream_url": f"/api/battles/{battle_id}/stream",
    }


@router.get(
    "/battles/{battle_id}/stream",
    response_class=StreamingResponse,
    responses={
        **ok_body("Server-sent events of the current turn", "text/event-stream"),
        **errors(403, 404),
    },
)
async def stream_battle(battle_id: str, gen: RunnerDep, voter: VoterDep) -> StreamingResponse:
    """Both answers of the current turn as server-sent events; a reconnect replays, never reruns."""
    events = await gen.open(battle_id, voter)
    return StreamingResponse(
        encode(events, json_frame), media_type="text/event-stream", headers=SSE_HEADERS
    )


@router.get("/battles/{battle_id}", responses=errors(403, 404))
async def get_battle(battle_id: str, engine: EngineDep, voter: VoterDep) -> dict[str, Any]:
    """The battle as its voter may see it; model names only after the vote."""
    view = await asyncio.to_thread(views.battle_view, engine, battle_id=battle_id, voter_id=voter)
    return view.public()


@router.post(
    "/battles/{battle_id}/turns",
    status_code=202,
    dependencies=JSON_ONLY,
    responses=errors(*BODY, 403, 404, 409, 424, 429),
)
async def add_turn(
    battle_id: str, body: PromptIn, arena: BattlesDep, voter: VoterIdentityDep
) -> dict[str, Any]:
    """Ask both models a follow-up question (each gets its own conversation so far)."""
    index = await actions.follow_up(arena, voter, battle_id, body.prompt, body.images)
    return {
        "battle_id": battle_id,
        "turn": index,
        "status": "streaming",
        "stream_url": f"/api/battles/{battle_id}/stream",
    }


@router.post(
    "/battles/{battle_id}/stop", dependencies=JSON_ONLY, responses=errors(403, 404, 409, 415)
)
async def stop_battle(battle_id: str, gen: RunnerDep, voter: VoterDep) -> dict[str, Any]:
    """Stop generating the current turn (both upstream requests are closed)."""
    await gen.stop(battle_id, voter)
    return {"battle_id": battle_id, "stopping": True}


@router.post(
    "/battles/{battle_id}/vote",
    dependencies=JSON_ONLY,
    responses=errors(*BODY, 403, 404, 409, 429),
)
async def vote(
    battle_id: str, body: VoteIn, arena: BattlesDep, voter: VoterIdentityDep
) -> dict[str, Any]:
    """Vote once; the answer reveals both models' names."""
    result = await actions.vote(arena, voter, battle_id, body.winner)
    return {
        "battle_id": battle_id,
        "model_a": result.model_a,
        "model_b": result.model_b,
        "winner": result.winner,
        "counted": result.counted,
        "leaked": result.leaked,
        "notice": result.notice,
        "figures": {side: f.public() for side, f in result.figures.items()},
    }


@router.get(
    "/health",
    tags=["ops"],
    response_model=HealthOut,
    responses={503: {"model": HealthOut, "description": "The database does not answer"}},
)
async def api_health(engine: EngineDep) -> JSONResponse:
    """Liveness and database reachability."""
    from sqlalchemy import text

    def ping() -> bool:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True

    try:
        ok = await asyncio.to_thread(ping)
    except Exception:
        ok = False
    return JSONResponse(
        {"status": "ok" if ok else "degraded", "database": ok}, status_code=200 if ok else 503
    )
