"""The FastAPI application factory: nothing is built at import time."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from arena.battles.runner import Generator
from arena.battles.starter import BattleStarter
from arena.battles.store import BattleError
from arena.core.settings import Settings, load_settings
from arena.matchmaking.checks import check_weights
from arena.matchmaking.pairing import PairingCache
from arena.store.endpoints import read_models_file, seed_endpoints
from arena.store.engine import make_engine, migrate, session_scope, startup_lock
from arena.store.keys import make_decrypt
from arena.store.tables import Meta
from arena.upstream.moderation import Moderator
from arena.votes.cache import VoteCache
from arena.votes.leaderboard import ranking_config
from arena.votes.leaderboard import refresher as leaderboard_refresher
from arena.votes.limits import RateLimited
from arena.web.assets import WEB
from arena.web.security import SecurityHeaders
from arena.web.voters import VoterMiddleware, VoterSigner

log = logging.getLogger("arena")


def shared_secret(engine: Engine, settings: Settings) -> str:
    """ARENA_SECRET_KEY, or (in development) one generated once and shared through the database."""
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value()
    if settings.environment == "production":
        raise RuntimeError("ARENA_SECRET_KEY (at least 32 characters) is required in production")
    with session_scope(engine) as session:
        row = session.get(Meta, "secret_key")
        if row is None:
            row = Meta(key="secret_key", value=secrets.token_urlsafe(48))
            session.add(row)
            session.flush()
        return row.value


class LazySigner:
    """Lets the middleware be installed before the lifespan knows the secret."""

    signer: VoterSigner | None = None

    def __getattr__(self, name: str) -> object:
        if self.signer is None:
            raise RuntimeError("the app has not started")
        return getattr(self.signer, name)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the arena app; the engine, clients and secrets are made when it starts."""
    settings = settings or load_settings()
    lazy = LazySigner()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.database_url)
        migrate(engine)
        # Workers starting at once on an empty database take turns to seed it.
        with startup_lock(engine):
            added = seed_endpoints(engine, read_models_file(settings.models))
            secret = shared_secret(engine, settings)
        if added:
            log.info("added models from %s: %s", settings.models, ", ".join(added))
        for warning in check_weights(engine):
            log.warning(warning)
        lazy.signer = VoterSigner(secret, settings.voter_cookie_days)
        generator = Generator(
            engine,
            timeouts=settings.timeouts,
            persist_interval=settings.persist_interval,
            replacement_tries=settings.replacement_tries,
            breaker_failures=settings.breaker_failures,
            breaker_pause=timedelta(minutes=settings.breaker_pause_minutes),
            default_max_tokens=settings.default_max_tokens,
            decrypt=make_decrypt(secret),
        )
        app.state.engine = engine
        app.state.signer = lazy.signer
        app.state.generator = generator
        moderator = Moderator(settings.moderation) if settings.moderation_enabled else None
        app.state.moderator = generator.moderator = moderator
        app.state.vote_cache = vote_cache = VoteCache()
        app.state.pairing = pairing = PairingCache()
        app.state.starter = starter = BattleStarter(engine, generator, settings, pairing)
        refresher = asyncio.create_task(
            leaderboard_refresher(
                engine, ranking_config(settings), settings.leaderboard_refresh_seconds, vote_cache
            )
        )
        try:
            # Everything built so far (modules, app, engine) lives as long as the process: keep it
            # out of the collector's full passes, which otherwise walked all of it and stalled a
            # worker for 140-165 ms in the middle of a burst of battle starts.
            gc.collect()
            gc.freeze()
            yield
        finally:
            refresher.cancel()
            await starter.shutdown()
            await generator.shutdown()
            if moderator is not None:
                await moderator.close()
            with contextlib.suppress(asyncio.CancelledError):
                await refresher
            engine.dispose()
            gc.unfreeze()  # what this app held may now be collected (tests run many in one process)

    app = FastAPI(
        title="arena",
        version="0.1.0",
        lifespan=lifespan,
        description="A blind, pairwise model-comparison arena with a Bradley-Terry leaderboard.",
    )
    app.state.settings = settings
    app.state.templates = Jinja2Templates(directory=str(WEB / "templates"))
    app.add_middleware(VoterMiddleware, signer=lazy, trusted_headers=settings.trusted_proxy_headers)
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=str(WEB / "static")), name="static")

    @app.exception_handler(BattleError)
    async def _battle_error(request: Request, exc: BattleError) -> JSONResponse:
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
        return JSONResponse({"detail": exc.detail}, status_code=exc.status, headers=headers)

    @app.exception_handler(DBAPIError)
    async def _database_error(request: Request, exc: DBAPIError) -> JSONResponse:
        # Nothing was half-done: each action is one transaction (a battle whose rows could not
        # be stored has its models stopped). The voter can simply try again.
        log.error("database error on %s %s: %s", request.method, request.url.path, exc.orig)
        return JSONResponse(
            {"detail": "The arena's database is not available right now; please try again."},
            status_code=503,
            headers={"Retry-After": "5"},
        )

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": e.get("type")}
            for e in exc.errors()
        ]
        return JSONResponse({"detail": errors}, status_code=422)

    from arena.web.routes import admin_api, admin_pages, api, leaderboard, pages

    app.include_router(api.router)
    app.include_router(leaderboard.router)
    app.include_router(pages.router)
    app.include_router(admin_api.router)
    app.include_router(admin_pages.router)
    return app
