"""FastAPI's documentation pages (`/docs`, `/redoc`) with Swagger UI and ReDoc served from this
server, so they work where the CDN is unreachable (`docs_source`).

The files come from the fastapi-offline package, which ships them; its app factory is not used."""

from __future__ import annotations

import importlib.resources
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

DOCS_STATIC = "/static-docs"
OAUTH2_REDIRECT = "/docs/oauth2-redirect"


def local_assets() -> Path | None:
    """The folder of the packaged Swagger UI and ReDoc files, or None when it is not installed."""
    try:
        folder = importlib.resources.files("fastapi_offline") / "static"
    except ModuleNotFoundError:
        return None
    path = Path(str(folder))
    return path if (path / "swagger-ui-bundle.js").is_file() else None


def install(app: FastAPI, source: str) -> None:
    """Add `/docs` and `/redoc` to an app made with `docs_url=None, redoc_url=None`."""
    folder = local_assets() if source in ("auto", "local") else None
    if source == "local" and folder is None:
        raise RuntimeError("docs_source = 'local' needs the fastapi-offline package installed")
    if folder is not None:
        app.mount(DOCS_STATIC, StaticFiles(directory=str(folder)), name="static-docs")

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        if folder is None:
            return get_swagger_ui_html(
                openapi_url=f"{root}/openapi.json",
                title=f"{app.title} - Swagger UI",
                oauth2_redirect_url=f"{root}{OAUTH2_REDIRECT}",
            )
        return get_swagger_ui_html(
            openapi_url=f"{root}/openapi.json",
            title=f"{app.title} - Swagger UI",
            oauth2_redirect_url=f"{root}{OAUTH2_REDIRECT}",
            swagger_js_url=f"{root}{DOCS_STATIC}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{DOCS_STATIC}/swagger-ui.css",
            swagger_favicon_url=f"{root}{DOCS_STATIC}/favicon.png",
        )

    @app.get(OAUTH2_REDIRECT, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    async def redoc_page(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        if folder is None:
            return get_redoc_html(openapi_url=f"{root}/openapi.json", title=f"{app.title} - ReDoc")
        return get_redoc_html(
            openapi_url=f"{root}/openapi.json",
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{root}{DOCS_STATIC}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{DOCS_STATIC}/favicon.png",
            with_google_fonts=False,
        )
