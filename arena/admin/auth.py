"""Who may use the admin: the bearer token (API), a signed session cookie (pages), CSRF tokens.

Without ARENA_ADMIN_TOKEN the admin is off. The login form trades the token for a session cookie
that is signed, httpOnly and SameSite=Strict; it is bound to a fingerprint of the token, so
changing the token signs every session out.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from arena.core.settings import Settings
from arena.core.signing import Signer

ADMIN_COOKIE = "arena_admin"
SESSION_HOURS = 12
OFF_MESSAGE = (
    "The admin is off. Turn it on by setting ARENA_ADMIN_TOKEN (any string of at least 16 "
    "characters) in the arena's environment, e.g. `export ARENA_ADMIN_TOKEN=$(openssl rand -hex "
    "24)`, and restarting `arena serve`."
)
MISSING_MESSAGE = "Admin API: send the header `Authorization: Bearer $ARENA_ADMIN_TOKEN`."
WRONG_MESSAGE = "Admin API: the bearer token is not the arena's ARENA_ADMIN_TOKEN."


def configured_token(settings: Settings) -> str | None:
    """The admin token, or None when the admin is off."""
    return settings.admin_token.get_secret_value() if settings.admin_token else None


def token_matches(expected: str | None, presented: str | None) -> bool:
    """Constant-time comparison (of digests, so the length does not leak either)."""
    if not expected or not presented:
        return False
    return hmac.compare_digest(
        hashlib.sha256(expected.encode()).digest(), hashlib.sha256(presented.encode()).digest()
    )


def bearer(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer …` header."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


class AdminSessions(Signer):
    """Admin session cookies (bound to the admin token) and the CSRF tokens of admin forms."""

    def __init__(self, secret: str, admin_token: str, max_age: int = SESSION_HOURS * 3600) -> None:
        key = hashlib.sha256(b"arena-admin:" + secret.encode()).digest()
        super().__init__(secret, salt="arena-admin-session", mac_key=key, max_age=max_age)
        self._fingerprint = self.mac("token:" + admin_token)[:16]

    def issue(self) -> str:
        """A new session's cookie value."""
        return self.sign({"n": secrets.token_hex(16), "f": self._fingerprint})

    def load(self, token: str | None) -> str | None:
        """The session id in a cookie, or None when missing, forged, expired or for an old token."""
        value = super().load(token)
        if not isinstance(value, dict) or not isinstance(value.get("n"), str):
            return None
        if not hmac.compare_digest(str(value.get("f", "")), self._fingerprint):
            return None
        return str(value["n"])
