"""/docs renders the API in a browser that cannot reach any other host (no CDN)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Route, expect

from tests.browser.browsing import DESKTOP, TIMEOUT_MS
from tests.servers import ThreadedServer

pytestmark = pytest.mark.browser


def test_docs_render_offline(arena: ThreadedServer, browser: Browser) -> None:
    context = browser.new_context(viewport=DESKTOP)
    elsewhere: list[str] = []

    def only_loopback(route: Route) -> None:
        if route.request.url.startswith(arena.url):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    context.route("**/*", only_loopback)
    try:
        page = context.new_page()
        page.goto(f"{arena.url}/docs")
        # Swagger UI has drawn the operations of the JSON API from /openapi.json.
        expect(page.locator(".opblock-summary-path", has_text="/api/battles").first).to_be_visible(
            timeout=TIMEOUT_MS
        )
        assert elsewhere == []
    finally:
        context.close()
