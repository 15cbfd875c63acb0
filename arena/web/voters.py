"""Voter identity on every request: the signed voter cookie and the client IP."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from http.cookies import SimpleCookie

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from arena.core.signing import VoterSigner

VOTER_COOKIE = "arena_voter"


def client_ip(scope: Scope, trusted_headers: list[str]) -> str:
    """The client's IP: the first trusted proxy header present, else the socket peer."""
    headers: dict[str, str] = {
        k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]
    }
    for name in trusted_headers:
        value = headers.get(name.lower())
        if value:
            return value.split(",")[0].strip()[:64]
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


class VoterMiddleware:
    """Gives every request a voter id, issuing a signed cookie to new (or forged) visitors."""

    def __init__(
        self, app: ASGIApp, signer: Callable[[], VoterSigner], trusted_headers: list[str]
    ) -> None:
        self.app = app
        self.signer = signer  # the app's signer exists once it has started
        self.trusted = trusted_headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cookie = None
        for key, value in scope["headers"]:
            if key == b"cookie":
                jar: SimpleCookie = SimpleCookie()
                try:
                    jar.load(value.decode("latin-1"))
                except Exception:
                    continue
                if VOTER_COOKIE in jar:
                    cookie = jar[VOTER_COOKIE].value
        signer = self.signer()
        voter_id = signer.load(cookie)
        new = voter_id is None
        voter = voter_id or secrets.token_hex(16)
        state = scope.setdefault("state", {})
        state["voter_id"] = voter
        state["client_ip"] = client_ip(scope, self.trusted)
        if not new:
            await self.app(scope, receive, send)
            return
        secure = "; Secure" if scope.get("scheme") == "https" else ""
        set_cookie = (
            f"{VOTER_COOKIE}={signer.sign(voter)}; Path=/; Max-Age={signer.max_age}; "
            f"HttpOnly; SameSite=Lax{secure}"
        ).encode("latin-1")

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"set-cookie", set_cookie)]
            await send(message)

        await self.app(scope, receive, send_with_cookie)
