"""What admin routes declare: the admin's keys, bearer check (API), session and CSRF (pages)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlparse

from fastapi import Depends, HTTPException, Request

from arena.admin import AdminError
from arena.admin.auth import (
    ADMIN_COOKIE,
    MISSING_MESSAGE,
    OFF_MESSAGE,
    WRONG_MESSAGE,
    AdminSessions,
    bearer,
    configured_token,
    token_matches,
)
from arena.store.keys import KeyCipher
from arena.web.deps import SettingsDep


class AdminOff(Exception):
    """No ARENA_ADMIN_TOKEN: the admin pages explain how to turn it on."""


class LoginRequired(Exception):
    """No valid admin session: the pages send the browser to the login form."""


@dataclass(frozen=True)
class AdminKeys:
    """The admin's secrets, derived once from the arena's shared secret."""

    sessions: AdminSessions | None  # None when the admin is off
    cipher: KeyCipher  # reads stored API keys
    can_store: bool  # typed keys are stored only when ARENA_SECRET_KEY is set

    @property
    def store_cipher(self) -> KeyCipher | None:
        """The cipher for storing a typed key, or None when that is not allowed."""
        return self.cipher if self.can_store else None


def get_admin_keys(request: Request) -> AdminKeys:
    """The app's AdminKeys, made at first use from the secret the app started with."""
    keys: AdminKeys | None = getattr(request.app.state, "admin_keys", None)
    if keys is None:
        from arena.web.app import shared_secret

        settings = request.app.state.settings
        secret = shared_secret(request.app.state.engine, settings)
        token = configured_token(settings)
        keys = AdminKeys(
            sessions=AdminSessions(secret, token) if token else None,
            cipher=KeyCipher(secret),
            can_store=settings.secret_key is not None,
        )
        request.app.state.admin_keys = keys
    return keys


AdminKeysDep = Annotated[AdminKeys, Depends(get_admin_keys)]


async def require_api_admin(request: Request, settings: SettingsDep) -> None:
    """`Authorization: Bearer $ARENA_ADMIN_TOKEN`: 401 without it or with another, 403 when off."""
    token = configured_token(settings)
    if token is None:
        raise HTTPException(403, OFF_MESSAGE)
    presented = bearer(request.headers.get("authorization"))
    challenge = {"WWW-Authenticate": 'Bearer realm="arena admin"'}
    if presented is None:
        raise HTTPException(401, MISSING_MESSAGE, headers=challenge)
    if not token_matches(token, presented):
        raise HTTPException(401, WRONG_MESSAGE, headers=challenge)


def require_page_admin(request: Request, keys: AdminKeysDep) -> str:
    """The admin session id from the cookie; AdminOff or LoginRequired otherwise."""
    if keys.sessions is None:
        raise AdminOff
    session_id = keys.sessions.load(request.cookies.get(ADMIN_COOKIE))
    if session_id is None:
        raise LoginRequired
    return session_id


PageAdminDep = Annotated[str, Depends(require_page_admin)]


async def admin_csrf(request: Request, keys: AdminKeysDep, session_id: PageAdminDep) -> None:
    """Unsafe admin requests come from our origin with this session's CSRF token."""
    origin = request.headers.get("origin") or request.headers.get("referer")
    if origin and urlparse(origin).netloc not in ("", request.headers.get("host", "")):
        raise AdminError(403, "Cross-site request refused.")
    token = request.headers.get("x-csrf-token")
    if token is None:
        value = (await request.form()).get("csrf_token")
        token = value if isinstance(value, str) else None
    assert keys.sessions is not None
    if not keys.sessions.check_csrf(session_id, token):
        raise AdminError(
            403, "The form has expired or did not come from this admin session; reload the page."
        )


ADMIN_CSRF = [Depends(admin_csrf)]
