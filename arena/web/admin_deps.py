"""What admin routes declare: the bearer check (API), the session and CSRF (pages)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from arena.admin import AdminError, login_limit, sessions, tokens
from arena.admin.auth import (
    ADMIN_COOKIE,
    MISSING_MESSAGE,
    OFF_MESSAGE,
    WRONG_MESSAGE,
    bearer,
    configured_token,
)
from arena.core.settings import Settings
from arena.web.csrf import check_csrf
from arena.web.deps import AdminKeysDep, StateDep
from arena.web.state import AdminKeys, ArenaState


class AdminOff(Exception):
    """No ARENA_ADMIN_TOKEN: the admin pages explain how to turn it on."""


class LoginRequired(Exception):
    """No valid admin session: the pages send the browser to the login form."""


def login_rules(settings: Settings) -> tuple[int, timedelta]:
    """How many wrong admin tokens an IP may send, and in what window."""
    return settings.admin_login_attempts, timedelta(minutes=settings.admin_login_window_minutes)


async def require_api_admin(request: Request, state: ArenaState) -> None:
    """`Authorization: Bearer <admin token>`: 401 without it or with another, 403 when off, 429
    after too many wrong ones from this IP. The token in force may have been rotated."""
    token = configured_token(state.settings)
    if token is None:
        raise HTTPException(403, OFF_MESSAGE)
    presented = bearer(request.headers.get("authorization"))
    challenge = {"WWW-Authenticate": 'Bearer realm="arena admin"'}
    if presented is None:
        raise HTTPException(401, MISSING_MESSAGE, headers=challenge)
    attempts, window = login_rules(state.settings)
    ok = await asyncio.to_thread(
        login_limit.verify,
        state.engine,
        str(request.state.client_ip),
        attempts,
        window,
        lambda: tokens.token_valid(state.engine, token, presented),
    )
    if not ok:
        raise HTTPException(401, WRONG_MESSAGE, headers=challenge)


async def require_page_admin(request: Request, state: StateDep) -> str:
    """The admin session id from the cookie, if the server still holds that session;
    AdminOff or LoginRequired otherwise."""
    keys = state.admin
    if keys.sessions is None:
        raise AdminOff
    session_id = keys.sessions.load(request.cookies.get(ADMIN_COOKIE))
    if session_id is None or not await asyncio.to_thread(session_alive, state, session_id):
        raise LoginRequired
    return session_id


def session_alive(state: ArenaState, session_id: str) -> bool:
    """Whether the server holds this session, begun under the admin token in force."""
    current = tokens.current_fingerprint(state.engine, configured_token(state.settings))
    return sessions.alive(state.engine, session_id, current)


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
