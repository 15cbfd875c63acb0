"""API keys typed into the admin: Fernet-encrypted with a key derived from ARENA_SECRET_KEY.

A stored key is decrypted only to call the upstream; no route, log or export ever shows it.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable, Iterable

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

log = logging.getLogger("arena.admin")

# Changing these makes every stored key unreadable; bump the version only with a re-encryption.
HKDF_SALT = b"arena/api-keys"
HKDF_INFO = b"arena api-key encryption v1"


class KeyDecryptError(ValueError):
    """A stored key the current secret cannot decrypt (the secret changed, or it is forged)."""


def derive_fernet_key(secret: str) -> bytes:
    """The Fernet key for a secret: HKDF-SHA256, 32 bytes, url-safe base64."""
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=HKDF_SALT, info=HKDF_INFO).derive(
        secret.encode()
    )
    return base64.urlsafe_b64encode(raw)


class KeyCipher:
    """Encrypts and decrypts stored API keys with the arena's secret."""

    def __init__(self, secret: str) -> None:
        self._fernet = Fernet(derive_fernet_key(secret))

    def encrypt(self, api_key: str) -> str:
        """The token to store for a key."""
        return self._fernet.encrypt(api_key.encode()).decode("ascii")

    def decrypt(self, token: str) -> str:
        """The key in a stored token; KeyDecryptError when this secret cannot read it."""
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode()
        except (InvalidToken, UnicodeError, ValueError) as exc:
            raise KeyDecryptError(
                "the stored API key cannot be decrypted with the current ARENA_SECRET_KEY "
                "(was the secret changed?); type the key again"
            ) from exc


def make_decrypt(secret: str) -> Callable[[str], str]:
    """The `decrypt` callable for `TurnRunner`: a stored token → the key, "" when unreadable.

    An unreadable key is sent as "", so the upstream refuses it and the circuit breaker records
    the refusal, instead of a battle failing inside the arena; the admin's test says why.
    """
    cipher = KeyCipher(secret)

    def decrypt(token: str) -> str:
        try:
            return cipher.decrypt(token)
        except KeyDecryptError as exc:
            log.warning("%s", exc)
            return ""

    return decrypt


def mask(api_key: str) -> str:
    """A key as the admin sees it: dots and, for long keys, the last four characters."""
    return "••••" + api_key[-4:] if len(api_key) >= 16 else "••••"


def redact(text: str, secrets: Iterable[str]) -> str:
    """`text` with every occurrence of each secret (of at least 4 characters) masked."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, mask(secret))
    return text
