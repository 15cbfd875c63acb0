"""The admin JSON API (`/api/admin/*`, see CONTRACT.md): bearer token, models, tests, votes, export.

No response ever contains an API key: endpoints are shown through `crud.public`, which reports
where a key comes from and masks it.
"""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine
from sqlmodel import Session

from arena.admin import crud, review
from arena.admin.export import export_lines
from arena.admin.presets import PRESETS
from arena.admin.testing import probe_endpoint, probe_params, probe_timeouts
from arena.store.engine import session_scope
from arena.store.keys import redact
from arena.web.admin_deps import AdminKeys, AdminKeysDep, require_api_admin
from arena.web.deps import EngineDep, SettingsDep, SignerDep

router = APIRouter(
    prefix="/api/admin",
    tags=["admin"],
    dependencies=[Depends(require_api_admin)],
    responses={
        401: {"description": "Missing or wrong bearer token"},
        403: {"description": "The admin is off (no ARENA_ADMIN_TOKEN)"},
    },
)

NEW_MODEL_EXAMPLE = {
    "name": "qwen-plus",
    "preset": "modelstudio-singapore",
    "model": "qwen-plus",
    "api_key_env": "DASHSCOPE_API_KEY",
    "weight": 1.0,
    "thinking": False,
}


class ReasonIn(BaseModel):
    """Why a vote is excluded."""

    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=review.MAX_REASON)


def endpoint_json(session: Session, name: str, keys: AdminKeys) -> dict[str, Any]:
    """One endpoint as the API shows it, with its vote counts."""
    endpoint = crud.find(session, name=name)
    counts = review.vote_counts(session)
    return crud.public(
        endpoint,
        cipher=keys.cipher,
        votes=counts.get(endpoint.name),
        secrets=crud.all_keys(session, keys.cipher),
    )


@router.get("/models")
def list_models(engine: EngineDep, keys: AdminKeysDep) -> list[dict[str, Any]]:
    """Every model endpoint: fields, state, where its key comes from (masked), breaker, votes."""
    with session_scope(engine) as session:
        counts = review.vote_counts(session)
        secrets = crud.all_keys(session, keys.cipher)
        return [
            crud.public(e, cipher=keys.cipher, votes=counts.get(e.name), secrets=secrets)
            for e in crud.list_endpoints(session)
        ]


@router.post("/models", status_code=201)
def add_model(
    body: Annotated[dict[str, Any], Body(examples=[NEW_MODEL_EXAMPLE])],
    engine: EngineDep,
    keys: AdminKeysDep,
) -> dict[str, Any]:
    """Add a model. The endpoint fields, plus `preset` (fills base_url and hints), `thinking`
    (true/false, for presets that can switch it) and `api_key` (stored encrypted). 409 if taken."""
    item, api_key = crud.parse_new(body)
    with session_scope(engine) as session:
        crud.create(session, item=item, api_key=api_key, cipher=keys.store_cipher, source="api")
        return endpoint_json(session, item.name, keys)


@router.get("/models/{name}")
def get_model(name: str, engine: EngineDep, keys: AdminKeysDep) -> dict[str, Any]:
    """One model endpoint."""
    with session_scope(engine) as session:
        return endpoint_json(session, name, keys)


@router.patch("/models/{name}")
def edit_model(
    name: str,
    body: Annotated[dict[str, Any], Body(examples=[{"weight": 2.0}])],
    engine: EngineDep,
    keys: AdminKeysDep,
) -> dict[str, Any]:
    """Change some fields (not the name); `retired`, and `api_key` (null or "" clears it), too."""
    with session_scope(engine) as session:
        crud.edit(session, name=name, raw=body, cipher=keys.store_cipher)
        return endpoint_json(session, name, keys)


@router.delete("/models/{name}")
def delete_model(name: str, engine: EngineDep) -> dict[str, Any]:
    """Retire a model that has battles (they stay, it shows as retired), else delete it."""
    with session_scope(engine) as session:
        result = crud.remove(session, name=name)
    detail = (
        f"{name} has battles, so it is retired: never drawn again, its battles and votes kept."
        if result == "retired"
        else f"{name} had no battles and is deleted."
    )
    return {"name": name, "result": result, "detail": detail}


@router.post("/models/{name}/unpause")
def unpause_model(name: str, engine: EngineDep, keys: AdminKeysDep) -> dict[str, Any]:
    """Lift a circuit-breaker pause now."""
    with session_scope(engine) as session:
        crud.unpause(session, name=name)
        return endpoint_json(session, name, keys)


@router.post("/models/{name}/test")
async def test_model(
    name: str, engine: EngineDep, keys: AdminKeysDep, settings: SettingsDep
) -> dict[str, Any]:
    """Send a short prompt: time to first token, tokens per second and the answer, or the
    upstream's error explained. 200 either way; `ok` says which."""

    def load() -> Any:
        with session_scope(engine) as session:
            return probe_params(crud.find(session, name=name), keys.cipher)

    params, key = await asyncio.to_thread(load)
    result = await probe_endpoint(params, probe_timeouts(settings), key=key)
    return {"name": name, **result.public()}


@router.get("/presets")
def list_presets() -> list[dict[str, Any]]:
    """Providers whose base URL and hints the add form (and `preset`) can fill in."""
    return [p.public() for p in PRESETS.values()]


def _scrubber(engine: Engine, keys: AdminKeys) -> Any:
    with session_scope(engine) as session:
        secrets = crud.all_keys(session, keys.cipher)
    return lambda text: redact(text, secrets)


@router.get("/votes")
def list_votes(
    engine: EngineDep,
    keys: AdminKeysDep,
    signer: SignerDep,
    model: Annotated[str | None, Query(description="a model's name")] = None,
    since: Annotated[date | None, Query(description="first day (UTC), inclusive")] = None,
    until: Annotated[date | None, Query(description="last day (UTC), inclusive")] = None,
    leaked: Annotated[bool | None, Query(description="flagged: an answer named its model")] = None,
    excluded: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[dict[str, Any]]:
    """Voted battles, newest first, with both conversations and the voter as a pseudonym."""
    filters = review.VoteFilter(model, since, until, leaked, excluded, limit, offset)
    scrub = _scrubber(engine, keys)
    with session_scope(engine) as session:
        return [v.public(signer.hash_id, scrub) for v in review.list_votes(session, filters)]


@router.get("/votes/{battle_id}")
def get_vote(
    battle_id: str, engine: EngineDep, keys: AdminKeysDep, signer: SignerDep
) -> dict[str, Any]:
    """One voted battle."""
    scrub = _scrubber(engine, keys)
    with session_scope(engine) as session:
        return review.get_vote(session, battle_id=battle_id).public(signer.hash_id, scrub)


@router.post("/votes/{battle_id}/exclude")
def exclude_vote(
    battle_id: str, body: ReasonIn, engine: EngineDep, keys: AdminKeysDep, signer: SignerDep
) -> dict[str, Any]:
    """Leave a vote out of the leaderboard (it stays in exports, marked)."""
    with session_scope(engine) as session:
        review.set_excluded(session, battle_id=battle_id, excluded=True, reason=body.reason)
    return get_vote(battle_id, engine, keys, signer)


@router.post("/votes/{battle_id}/include")
def include_vote(
    battle_id: str,
    engine: EngineDep,
    keys: AdminKeysDep,
    signer: SignerDep,
    settings: SettingsDep,
) -> dict[str, Any]:
    """Count an excluded vote again (unless it leaked a model's name)."""
    with session_scope(engine) as session:
        review.set_excluded(
            session,
            battle_id=battle_id,
            excluded=False,
            count_leaked=settings.count_leaked_votes,
        )
    return get_vote(battle_id, engine, keys, signer)


@router.get("/battles.jsonl")
def export_battles(
    engine: EngineDep, signer: SignerDep, include_excluded: bool = True
) -> StreamingResponse:
    """Every voted battle as a clean-battle JSON Lines record; excluded votes are marked."""
    return StreamingResponse(
        export_lines(engine, signer.hash_id, include_excluded),
        media_type="application/x-ndjson",
        headers={"Content-Disposition": 'attachment; filename="battles.jsonl"'},
    )
