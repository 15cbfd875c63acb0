"""The admin's own access, from the admin pages: log out everywhere, and a new admin token without
a restart (the same actions as `POST /api/admin/sessions/revoke`, `/api/admin/token/rotate` and
`arena admin …`)."""

from __future__ import annotations

import asyncio

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from arena.admin import sessions, tokens
from arena.admin.auth import ADMIN_COOKIE, configured_token
from arena.web.admin_deps import ADMIN_CSRF
from arena.web.admin_deps import PageAdminDep as AdminDep
from arena.web.admin_render import admin_router, to_login
from arena.web.deps import EngineDep, SettingsDep
from arena.web.render import render

router = admin_router()


@router.post("/logout-everywhere", dependencies=ADMIN_CSRF)
async def logout_everywhere(request: Request, engine: EngineDep, sid: AdminDep) -> Response:
    """End every admin session, on every browser and worker (this one too)."""
    await asyncio.to_thread(sessions.end_all, engine)
    return to_login(request)


@router.post("/token", dependencies=ADMIN_CSRF)
async def rotate_token(
    request: Request, engine: EngineDep, settings: SettingsDep, sid: AdminDep
) -> HTMLResponse:
    """A new admin token, in force at once; shown on this page only. Every session ends."""
    new = await asyncio.to_thread(tokens.rotate, engine, configured_token(settings))
    response = render(request, "admin_token.html", token=new, active="admin")
    response.headers["Cache-Control"] = "no-store"
    response.delete_cookie(ADMIN_COOKIE, path="/admin", httponly=True, samesite="strict")
    return response
