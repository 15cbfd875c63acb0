"""Dependencies the routes declare, as `Annotated` aliases so routes read like sentences.

They are `async def` because they do no I/O: FastAPI runs a plain `def` dependency in its thread
pool, and three thread hops per request were a measurable part of a battle's start.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine

from arena.battles.runner import Generator
from arena.battles.service import Arena, Voter
from arena.core.settings import Settings
from arena.web.voters import VoterSigner


async def get_settings(request: Request) -> Settings:
    """The app's settings."""
    settings: Settings = request.app.state.settings
    return settings


async def get_engine(request: Request) -> Engine:
    """The app's database engine."""
    engine: Engine = request.app.state.engine
    return engine


async def get_generator(request: Request) -> Generator:
    """The app's turn runner."""
    gen: Generator = request.app.state.generator
    return gen


async def get_signer(request: Request) -> VoterSigner:
    """Signs voter cookies and CSRF tokens."""
    signer: VoterSigner = request.app.state.signer
    return signer


async def get_arena(request: Request) -> Arena:
    """The app's parts that the voter actions use."""
    state = request.app.state
    return Arena(
        state.settings,
        state.engine,
        state.generator,
        state.starter,
        getattr(state, "moderator", None),
        getattr(state, "pairing", None),
    )


async def get_voter_identity(request: Request) -> Voter:
    """The voter (signed cookie) and the client IP of this request."""
    return Voter(str(request.state.voter_id), str(request.state.client_ip))


async def get_voter(request: Request) -> str:
    """The voter id the middleware attached to this request."""
    return str(request.state.voter_id)


async def get_client_ip(request: Request) -> str:
    """The client's IP as the trusted proxy headers say."""
    return str(request.state.client_ip)


SettingsDep = Annotated[Settings, Depends(get_settings)]
EngineDep = Annotated[Engine, Depends(get_engine)]
GeneratorDep = Annotated[Generator, Depends(get_generator)]
SignerDep = Annotated[VoterSigner, Depends(get_signer)]
VoterDep = Annotated[str, Depends(get_voter)]
ClientIPDep = Annotated[str, Depends(get_client_ip)]
ArenaDep = Annotated[Arena, Depends(get_arena)]
VoterIdentityDep = Annotated[Voter, Depends(get_voter_identity)]
