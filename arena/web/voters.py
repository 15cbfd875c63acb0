"""Voter identity (a signed cookie), the client IP, and CSRF tokens for the HTML forms."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from http.cookies import SimpleCookie
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.types import ASGIApp, Message, Receive, Scope, Send

VOTER_COOKIE = "arena_voter"


class VoterSigner:
    """Signs and checks voter ids; an expired or forged cookie yields no voter."""

    def __init__(self, secret: str, max_age_days: int) -> None:
        self._s = URLSafeTimedSerializer(secret, salt="arena-voter")
        self._secret = secret.encode()
        self.max_age = max_age_days * 86400

    def sign(self, voter_id: str) -> str:
        """The cookie value for a voter id."""
        return self._s.dumps(voter_id)

    def load(self, cookie: str | None) -> str | None:
        """The voter id in a cookie, or None when it is missing, forged or expired."""
        if not cookie:
            return None
        try:
            value = self._s.loads(cookie, max_age=self.max_age)
        except BadSignature:
            return None
        return str(value) if isinstance(value, str) and len(value) == 32 else None

    def csrf_token(self, voter_id: str) -> str:
        """The CSRF token that HTML forms of this voter must send back."""
        return hmac.new(self._secret, b"csrf:" + voter_id.encode(), hashlib.sha256).hexdigest()

    def check_csrf(self, voter_id: str, token: str | None) -> bool:
        """Constant-time check of a CSRF token."""
        return bool(token) and hmac.compare_digest(self.csrf_token(voter_id), token or "")

    def hash_id(self, value: str) -> str:
        """A stable pseudonym for a voter id or IP (for exports and logs)."""
        return hmac.new(self._secret, b"id:" + value.encode(), hashlib.sha256).hexdigest()[:16]


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

    def __init__(self, app: ASGIApp, signer: Any, trusted_headers: list[str]) -> None:
        self.app = app
        self.signer: VoterSigner = signer
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
        voter_id = self.signer.load(cookie)
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
            f"{VOTER_COOKIE}={self.signer.sign(voter)}; Path=/; Max-Age={self.signer.max_age}; "
            f"HttpOnly; SameSite=Lax{secure}"
        ).encode("latin-1")

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"set-cookie", set_cookie)]
            await send(message)

        await self.app(scope, receive, send_with_cookie)
