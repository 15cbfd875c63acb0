"""/docs and /redoc: their scripts from this server (docs_source auto/local) or from the CDN."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ArenaServer


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """The database is not what these tests look at."""
    return f"sqlite:///{tmp_path / 'arena.db'}"


@pytest.mark.parametrize("source", ["auto", "local"])
def test_docs_load_their_files_from_this_server(arena_server: ArenaServer, source: str) -> None:
    with arena_server(docs_source=source) as srv, srv.client() as client:
        docs = client.get("/docs")
        assert docs.status_code == 200
        assert "/static-docs/swagger-ui-bundle.js" in docs.text
        assert "cdn.jsdelivr.net" not in docs.text and "fastapi.tiangolo.com" not in docs.text
        script = client.get("/static-docs/swagger-ui-bundle.js")
        assert script.status_code == 200 and "SwaggerUIBundle" in script.text
        assert client.get("/static-docs/swagger-ui.css").status_code == 200
        redoc = client.get("/redoc")
        assert "/static-docs/redoc.standalone.js" in redoc.text
        assert "fonts.googleapis.com" not in redoc.text
        assert client.get("/static-docs/redoc.standalone.js").status_code == 200
        assert client.get("/docs/oauth2-redirect").status_code == 200
        assert "/docs" not in client.get("/openapi.json").json()["paths"]


def test_docs_from_the_cdn_when_asked(arena_server: ArenaServer) -> None:
    with arena_server(docs_source="cdn") as srv, srv.client() as client:
        docs = client.get("/docs")
        assert "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js" in docs.text
        assert client.get("/static-docs/swagger-ui-bundle.js").status_code == 404
