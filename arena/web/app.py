"""The FastAPI application factory: nothing is built at import time."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from arena.core.settings import Settings, load_settings
from arena.web import apidocs, handlers, requestid
from arena.web.assets import WEB
from arena.web.bodylimit import BodyLimit
from arena.web.i18n import LocaleMiddleware
from arena.web.lifespan import lifespan_for
from arena.web.routes import (
    admin_account,
    admin_api,
    admin_judges,
    admin_model,
    admin_pages,
    admin_spend,
    admin_votes,
    api,
    audit_api,
    categories,
    judges,
    language,
    leaderboard,
    metrics,
    model_page,
    pages,
)
from arena.web.security import SecurityHeaders
from arena.web.state import arena_state
from arena.web.voters import VoterMiddleware


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the arena app; the engine, clients and secrets are made when it starts."""
    settings = settings or load_settings()
    lifespan: Any = lifespan_for(settings)
    app = FastAPI(
        title="arena",
        version="0.1.0",
        lifespan=lifespan,
        description="A blind, pairwise model-comparison arena with a Bradley-Terry leaderboard.",
        docs_url=None,  # apidocs: the same pages, with their files served locally when possible
        redoc_url=None,
    )
    app.add_middleware(
        VoterMiddleware,
        signer=lambda: arena_state(app).signer,
        trusted_headers=settings.trusted_proxy_headers,
    )
    # Inside the security headers (so a 413 carries them), outside everything that reads a body.
    app.add_middleware(
        BodyLimit,
        limit=settings.max_request_bytes,
        image_limit=settings.max_image_request_bytes,
    )
    app.add_middleware(SecurityHeaders)
    # Every page, error and event stream of the request is in its language.
    app.add_middleware(LocaleMiddleware)
    # Outermost: every response, refusals included, carries the request id.
    app.add_middleware(requestid.RequestIds)
    app.mount("/static", StaticFiles(directory=str(WEB / "static")), name="static")
    apidocs.install(app, settings.docs_source)
    handlers.install(app)
    # admin_pages before admin_model: /admin/models/new must match before /admin/models/{name}.
    for module in (
        api,
        audit_api,
        categories,
        leaderboard,
        model_page,
        judges,
        pages,
        admin_api,
        admin_pages,
        admin_account,
        admin_model,
        admin_votes,
        admin_spend,
        admin_judges,
        language,
        metrics,
    ):
        app.include_router(module.router)
    return app
