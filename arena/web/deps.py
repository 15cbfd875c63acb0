"""Dependencies the routes declare, as `Annotated` aliases so routes read like sentences.

They are `async def` because they do no I/O: FastAPI runs a plain `def` dependency in its thread
pool, and a thread hop per dependency is a measurable part of a battle's start.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from pydantic import BeforeValidator
from sqlalchemy import Engine

from arena.battles.runner import TurnRunner
from arena.battles.service import BattleService, Voter
from arena.core.settings import Settings
from arena.core.signing import VoterSigner
from arena.web.state import AdminKeys, ArenaState, arena_state

ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def iso_day(value: Any) -> Any:
    """Only a YYYY-MM-DD day: pydantic alone would also read `0` as a Unix time (1970-01-01)."""
    if isinstance(value, str) and not ISO_DAY.fullmatch(value):
        raise ValueError("a day such as 2025-01-31")
    return value


# A day in a query string, as its schema (`format: date`) says.
IsoDay = Annotated[date, BeforeValidator(iso_day)]


NUL = "\x00"


def nul_message(where: str) -> str:
    """The refusal's sentence: PostgreSQL cannot store U+0000 in text, and no field needs it."""
    return f"{where}: text must not contain NUL (\\u0000) characters."


def _nul_in(value: Any, where: str) -> str | None:
    """Where in a parsed JSON value a NUL sits, if anywhere."""
    if isinstance(value, str):
        return where if NUL in value else None
    if isinstance(value, dict):
        items = list(value.items())
    elif isinstance(value, list):
        items = list(enumerate(value))
    else:
        return None
    for key, item in items:
        if isinstance(key, str) and NUL in key:
            return where
        found = _nul_in(item, f"{where}.{key}" if where != "body" else str(key))
        if found:
            return found
    return None


async def no_nul_in_url(request: Request) -> None:
    """422 for a NUL in the path or the query, before it reaches a database lookup."""
    for name, value in [*request.path_params.items(), *request.query_params.multi_items()]:
        if NUL in str(value) or NUL in name:
            raise HTTPException(422, nul_message(name))


async def no_nul_in_json(request: Request) -> None:
    """422 for a NUL anywhere in a JSON body (FastAPI has read it already; this reuses it)."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/json":
        return
    try:
        body = await request.json()
    except ValueError:
        return  # not JSON: the route's own parsing answers that
    where = _nul_in(body, "body")
    if where:
        raise HTTPException(422, nul_message(where))


async def get_state(request: Request) -> ArenaState:
    """The started app's parts."""
    return arena_state(request.app)


StateDep = Annotated[ArenaState, Depends(get_state)]


async def get_settings(state: StateDep) -> Settings:
    """The app's settings."""
    return state.settings


async def get_engine(state: StateDep) -> Engine:
    """The app's database engine."""
    return state.engine


async def get_runner(state: StateDep) -> TurnRunner:
    """The worker's turn runner."""
    return state.runner


async def get_signer(state: StateDep) -> VoterSigner:
    """Signs voter cookies and CSRF tokens."""
    return state.signer


async def get_battles(state: StateDep) -> BattleService:
    """What the voter actions use."""
    return state.battles


async def get_admin_keys(state: StateDep) -> AdminKeys:
    """The admin's sessions and key cipher."""
    return state.admin


async def get_voter_identity(request: Request) -> Voter:
    """The voter (signed cookie) and the client IP of this request."""
    return Voter(str(request.state.voter_id), str(request.state.client_ip))


async def get_voter(request: Request) -> str:
    """The voter id the middleware attached to this request."""
    return str(request.state.voter_id)


def is_htmx(request: Request) -> bool:
    """Whether htmx made this request (and wants a fragment, not a page)."""
    return bool(request.headers.get("hx-request"))


async def _htmx(request: Request) -> bool:
    return is_htmx(request)


SettingsDep = Annotated[Settings, Depends(get_settings)]
EngineDep = Annotated[Engine, Depends(get_engine)]
RunnerDep = Annotated[TurnRunner, Depends(get_runner)]
SignerDep = Annotated[VoterSigner, Depends(get_signer)]
VoterDep = Annotated[str, Depends(get_voter)]
BattlesDep = Annotated[BattleService, Depends(get_battles)]
AdminKeysDep = Annotated[AdminKeys, Depends(get_admin_keys)]
VoterIdentityDep = Annotated[Voter, Depends(get_voter_identity)]
HXRequest = Annotated[bool, Depends(_htmx)]
