"""What admin routes declare: the bearer check (API), the session and CSRF (pages)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from arena.admin import AdminError
from arena.admin.auth import (
    ADMIN_COOKIE,
    MISSING_MESSAGE,
    OFF_MESSAGE,
    WRONG_MESSAGE,
    bearer,
    configured_token,
    token_matches,
)
from arena.web.csrf import check_csrf
from arena.web.deps import AdminKeysDep, SettingsDep
from arena.web.state import AdminKeys


class AdminOff(Exception):
    """No ARENA_ADMIN_TOKEN: the admin pages explain how to turn it on."""


class LoginRequired(Exception):
    """No valid admin session: the pages send the browser to the login form."""


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


async def require_page_admin(request: Request, keys: AdminKeysDep) -> str:
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
    assert keys.sessions is not None
    await check_csrf(
        request,
        keys.sessions,
        session_id,
        error=AdminError,
        expired="The form has expired or did not come from this admin session; reload the page.",
    )


ADMIN_CSRF = [Depends(admin_csrf)]

__all__ = ["ADMIN_CSRF", "AdminKeys", "AdminKeysDep", "AdminOff", "LoginRequired", "PageAdminDep"]
