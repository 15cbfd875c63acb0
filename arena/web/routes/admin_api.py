"""The admin JSON API (`/api/admin/*`, see CONTRACT.md): bearer token, models, tests, votes, export.

No response ever contains an API key: endpoints are answered as `EndpointPublic`, which reports
where a key comes from and masks it. Routes parse, call `arena.admin.service` /
`arena.admin.vote_service` (one transaction each) and answer.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from arena.admin import review, service, sessions, tokens, vote_service
from arena.admin.auth import configured_token
from arena.admin.export import export_lines
from arena.admin.presets import PRESETS
from arena.admin.spend_report import SpendReport, spend_report
from arena.admin.testing import probe_timeouts
from arena.store.endpoint_models import (
    EndpointCreateRequest,
    EndpointPublic,
    EndpointUpdateRequest,
    Removal,
)
from arena.web.admin_deps import AdminKeys, AdminKeysDep, require_api_admin
from arena.web.deps import (
    EngineDep,
    IsoDay,
    SettingsDep,
    SignerDep,
    no_nul_in_json,
    no_nul_in_url,
)
from arena.web.openapi import BODY, COMMON, errors, ok_body
from arena.web.state import arena_state


class BearerFirst(APIRoute):
    """Checks the bearer token before FastAPI reads and parses the body (a dependency would run
    only after that), so a stranger's upload is refused unread."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """The route's handler, behind the token check."""
        handler = super().get_route_handler()

        async def checked(request: Request) -> Response:
            await require_api_admin(request, arena_state(request.app))
            return await handler(request)

        return checked


router = APIRouter(
    prefix="/api/admin",
    tags=["admin"],
    route_class=BearerFirst,
    # PostgreSQL cannot store U+0000 in text; refused here, it is a 422 instead of a 503.
    dependencies=[Depends(no_nul_in_url), Depends(no_nul_in_json)],
    # 429: too many wrong admin tokens from this address (arena/admin/login_limit.py).
    responses=errors(401, 403, 422, 429, *COMMON),
)

NEW_MODEL_EXAMPLE = {
    "name": "qwen-plus",
    "preset": "modelstudio-singapore",
    "model": "qwen-plus",
    "api_key_env": "DASHSCOPE_API_KEY",
    "weight": 1.0,
    "thinking": False,
}

# The bodies are documented as the typed models but parsed by `arena.admin.crud`: a preset fills
# fields before they are checked, and refusals answer one readable `detail` line
# ("weight: Input should be …", "colour: unknown field"), as they always have.
CreateBody = Annotated[
    dict[str, Any],
    WithJsonSchema(EndpointCreateRequest.model_json_schema()),
    Body(title="EndpointCreateRequest", examples=[NEW_MODEL_EXAMPLE]),
]
UpdateBody = Annotated[
    dict[str, Any],
    WithJsonSchema(EndpointUpdateRequest.model_json_schema()),
    Body(title="EndpointUpdateRequest", examples=[{"weight": 2.0}]),
]


class ReasonIn(BaseModel):
    """Why a vote is excluded."""

    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=review.MAX_REASON)


def ciphers(keys: AdminKeys) -> service.Ciphers:
    """The admin's ciphers: read stored keys always, store typed ones only when allowed."""
    return service.Ciphers(read=keys.cipher, store=keys.store_cipher)


@router.get("/models", response_model=list[EndpointPublic])
def list_models(engine: EngineDep, keys: AdminKeysDep) -> list[EndpointPublic]:
    """Every model endpoint: fields, state, where its key comes from (masked), breaker, votes."""
    return service.list_models(engine, keys.cipher)


@router.post(
    "/models", status_code=201, response_model=EndpointPublic, responses=errors(*BODY, 409)
)
def add_model(
    body: CreateBody, engine: EngineDep, keys: AdminKeysDep, settings: SettingsDep
) -> EndpointPublic:
    """Add a model. The endpoint fields, plus `preset` (fills base_url and hints), `thinking`
    (true/false, for presets that can switch it) and `api_key` (stored encrypted). 409 if taken."""
    return service.add_model(
        engine, body, ciphers(keys), source="api", rules=settings.endpoint_rules
    )


@router.get("/models/{name}", response_model=EndpointPublic, responses=errors(404))
def get_model(name: str, engine: EngineDep, keys: AdminKeysDep) -> EndpointPublic:
    """One model endpoint."""
    return service.get_model(engine, keys.cipher, name)


@router.patch("/models/{name}", response_model=EndpointPublic, responses=errors(*BODY, 404))
def edit_model(
    name: str, body: UpdateBody, engine: EngineDep, keys: AdminKeysDep, settings: SettingsDep
) -> EndpointPublic:
    """Change some fields (not the name); `retired`, and `api_key` (null or "" clears it), too.

    A new host for base_url needs `api_key` again when the model has a stored key (else 422)."""
    return service.edit_model(engine, name, body, ciphers(keys), settings.endpoint_rules)


@router.delete("/models/{name}", response_model=Removal, responses=errors(404))
def delete_model(name: str, engine: EngineDep) -> Removal:
    """Retire a model that has battles (they stay, it shows as retired), else delete it."""
    return service.remove_model(engine, name)


@router.post("/models/{name}/unpause", response_model=EndpointPublic, responses=errors(404))
def unpause_model(name: str, engine: EngineDep, keys: AdminKeysDep) -> EndpointPublic:
    """Lift a circuit-breaker pause now."""
    return service.unpause_model(engine, name, keys.cipher)


@router.post("/models/{name}/test", responses=errors(404))
async def test_model(
    name: str, engine: EngineDep, keys: AdminKeysDep, settings: SettingsDep
) -> dict[str, Any]:
    """Send a short prompt: time to first token, tokens per second and the answer, or the
    upstream's error explained. 200 either way; `ok` says which."""
    timeouts = probe_timeouts(settings)
    result = await service.test_model(engine, name, keys.cipher, timeouts, settings.endpoint_rules)
    return {"name": name, **result.public()}


@router.get("/presets")
def list_presets() -> list[dict[str, Any]]:
    """Providers whose base URL and hints the add form (and `preset`) can fill in."""
    return [p.public() for p in PRESETS.values()]


@router.get("/votes", responses=errors(404, 422))
def list_votes(
    engine: EngineDep,
    keys: AdminKeysDep,
    signer: SignerDep,
    model: Annotated[str | None, Query(description="a model's name")] = None,
    since: Annotated[IsoDay | None, Query(description="first day (UTC), inclusive")] = None,
    until: Annotated[IsoDay | None, Query(description="last day (UTC), inclusive")] = None,
    leaked: Annotated[bool | None, Query(description="flagged: an answer named its model")] = None,
    excluded: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    # Bounded: past a 64-bit integer the database fails (SQLite overflows, PostgreSQL refuses).
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
) -> list[dict[str, Any]]:
    """Voted battles, newest first, with both conversations and the voter as a pseudonym."""
    filters = review.VoteFilter(model, since, until, leaked, excluded, limit, offset)
    scrub = vote_service.scrubber(engine, keys.cipher)
    return [v.public(signer.hash_id, scrub) for v in vote_service.list_votes(engine, filters)]


@router.get("/votes/{battle_id}", responses=errors(404, 409))
def get_vote(
    battle_id: str, engine: EngineDep, keys: AdminKeysDep, signer: SignerDep
) -> dict[str, Any]:
    """One voted battle."""
    scrub = vote_service.scrubber(engine, keys.cipher)
    return vote_service.get_vote(engine, battle_id).public(signer.hash_id, scrub)


@router.post("/votes/{battle_id}/exclude", responses=errors(*BODY, 404, 409))
def exclude_vote(
    battle_id: str, body: ReasonIn, engine: EngineDep, keys: AdminKeysDep, signer: SignerDep
) -> dict[str, Any]:
    """Leave a vote out of the leaderboard (it stays in exports, marked)."""
    vote_service.set_excluded(engine, battle_id, excluded=True, reason=body.reason)
    return get_vote(battle_id, engine, keys, signer)


@router.post("/votes/{battle_id}/include", responses=errors(404, 409))
def include_vote(
    battle_id: str,
    engine: EngineDep,
    keys: AdminKeysDep,
    signer: SignerDep,
    settings: SettingsDep,
) -> dict[str, Any]:
    """Count an excluded vote again (unless it leaked a model's name)."""
    vote_service.set_excluded(
        engine, battle_id, excluded=False, count_leaked=settings.count_leaked_votes
    )
    return get_vote(battle_id, engine, keys, signer)


@router.get(
    "/battles.jsonl",
    response_class=StreamingResponse,
    responses={**ok_body("Clean-battle JSON Lines", "application/x-ndjson"), **errors(422)},
)
def export_battles(
    engine: EngineDep, signer: SignerDep, include_excluded: bool = True
) -> StreamingResponse:
    """Every voted battle as a clean-battle JSON Lines record; excluded votes are marked."""
    return StreamingResponse(
        export_lines(engine, signer.hash_id, include_excluded),
        media_type="application/x-ndjson",
        headers={"Content-Disposition": 'attachment; filename="battles.jsonl"'},
    )


@router.get("/spend", response_model=SpendReport)
def spend(
    engine: EngineDep,
    settings: SettingsDep,
    days: Annotated[int, Query(ge=1, le=366)] = 30,
) -> SpendReport:
    """Tokens and cost per model per UTC day (newest first), and each model's budget today."""
    return spend_report(engine, currency=settings.currency, days=days)


@router.post("/sessions/revoke")
def revoke_sessions(engine: EngineDep) -> dict[str, int]:
    """Log every admin page session out, on every worker ("log out everywhere")."""
    return {"revoked": sessions.end_all(engine)}


@router.post("/token/rotate")
def rotate_token(engine: EngineDep, settings: SettingsDep) -> dict[str, str]:
    """A new random admin token, in force at once on every worker (the one sent here stops
    working); shown only in this answer. Every admin session ends."""
    return {"token": tokens.rotate(engine, configured_token(settings))}
