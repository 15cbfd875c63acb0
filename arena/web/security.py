"""Security headers on every response: a strict CSP for our pages, nosniff, no framing."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from arena.web.assets import SCRIPTS

# The exact pinned files, not the CDN host: anything else jsDelivr serves stays blocked.
# The local copy (web/static/vendor) is covered by 'self'.
PINNED_SCRIPTS = " ".join(s.cdn_url for s in SCRIPTS)
CSP = (
    "default-src 'self'; "
    f"script-src 'self' {PINNED_SCRIPTS}; "
    "style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]
# FastAPI's own documentation pages load Swagger UI from a CDN with inline scripts.
DOC_PATHS = ("/docs", "/redoc")


class SecurityHeaders:
    """Adds the headers; model output is escaped anyway, the CSP is the second wall."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = list(HEADERS)
        if not str(scope.get("path", "")).startswith(DOC_PATHS):
            extra.append((b"content-security-policy", CSP.encode()))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)
