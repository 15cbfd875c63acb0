"""Signed tokens and keyed digests from the arena's secret: voter cookies, admin sessions, CSRF
tokens and the pseudonyms that exports carry instead of voter ids.

Each purpose has its own salt and key, so a token made for one is worthless for another.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer


class Signer:
    """Timed signed values (`sign`/`load`) and keyed digests (`mac`) for one purpose."""

    def __init__(self, secret: str, *, salt: str, mac_key: bytes, max_age: int) -> None:
        self._s = URLSafeTimedSerializer(secret, salt=salt)
        self._key = mac_key
        self.max_age = max_age

    def sign(self, value: Any) -> str:
        """A signed, timestamped token carrying `value`."""
        return self._s.dumps(value)

    def load(self, token: str | None) -> Any | None:
        """The value of a token, or None when it is missing, forged or expired."""
        if not token:
            return None
        try:
            return self._s.loads(token, max_age=self.max_age)
        except BadSignature:
            return None

    def mac(self, message: str) -> str:
        """The keyed digest of a message (hex)."""
        return hmac.new(self._key, message.encode(), hashlib.sha256).hexdigest()

    def csrf_token(self, subject: str) -> str:
        """The token that unsafe forms of this voter or admin session must send back."""
        return self.mac("csrf:" + subject)

    def check_csrf(self, subject: str, token: str | None) -> bool:
        """Constant-time check of a CSRF token."""
        return bool(token) and hmac.compare_digest(self.csrf_token(subject), token or "")


class VoterSigner(Signer):
    """Voter cookies: a 32-character voter id, signed; and the voter pseudonyms of exports."""

    def __init__(self, secret: str, max_age_days: int) -> None:
        super().__init__(
            secret, salt="arena-voter", mac_key=secret.encode(), max_age=max_age_days * 86400
        )

    def load(self, token: str | None) -> str | None:
        """The voter id in a cookie, or None when it is missing, forged or expired."""
        value = super().load(token)
        return value if isinstance(value, str) and len(value) == 32 else None

    def hash_id(self, value: str) -> str:
        """A stable pseudonym for a voter id or IP (for exports and logs)."""
        return self.mac("id:" + value)[:16]


def voter_pseudonyms(secret: str) -> VoterSigner:
    """What hashes voter ids for an export outside the web app (the CLI)."""
    return VoterSigner(secret, 1)
