"""The admin's HTML pages (`/admin/*`): log in and out, the models list and the add form.

One model's page is in `admin_model.py`, vote review in `admin_votes.py`. htmx fragments when
htmx asks, whole pages (and redirects after a POST) otherwise.
"""

from __future__ import annotations

import asyncio
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from arena.admin import AdminError, login_limit, service, tokens
from arena.admin import sessions as admin_sessions
from arena.admin.auth import ADMIN_COOKIE, configured_token
from arena.admin.forms import endpoint_fields, form_values, preset_values
from arena.admin.presets import PRESETS, get_preset
from arena.web.admin_deps import ADMIN_CSRF, AdminKeysDep, AdminOff, login_rules, session_alive
from arena.web.admin_deps import PageAdminDep as AdminDep
from arena.web.admin_render import (
    admin_router,
    draft_result,
    page,
    redirect,
    safe_next,
    to_login,
)
from arena.web.csrf import CSRF as VOTER_CSRF
from arena.web.deps import EngineDep, SettingsDep, StateDep, is_htmx
from arena.web.i18n import _
from arena.web.render import render

router = admin_router()


# --- log in and out -----------------------------------------------------------------------------


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request, state: StateDep, next: str | None = None) -> Response:
    """The login form (a valid session goes straight on)."""
    sessions = state.admin.sessions
    if sessions is None:
        raise AdminOff
    session_id = sessions.load(request.cookies.get(ADMIN_COOKIE))
    if session_id is not None and await asyncio.to_thread(session_alive, state, session_id):
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, "admin_login.html", next=safe_next(next), active="admin")


@router.post("/login", dependencies=VOTER_CSRF)
async def login(request: Request, state: StateDep) -> Response:
    """Trade the admin token for a session (a row on the server, a signed cookie here)."""
    sessions = state.admin.sessions
    if sessions is None:
        raise AdminOff
    form = await request.form()
    token, target = form.get("token"), safe_next(str(form.get("next") or ""))
    presented = token if isinstance(token, str) else None
    env_token = configured_token(state.settings)
    attempts, window = login_rules(state.settings)
    ip = str(request.state.client_ip)

    def check() -> str | None:
        """The fingerprint of the token in force when `presented` is it."""
        ok = login_limit.verify(
            state.engine,
            ip,
            attempts,
            window,
            lambda: tokens.token_valid(state.engine, env_token, presented),
        )
        return tokens.current_fingerprint(state.engine, env_token) if ok else None

    try:
        current = await asyncio.to_thread(check)
    except login_limit.TooManyAttempts as exc:
        return render(
            request,
            "admin_login.html",
            status=429,
            next=target,
            active="admin",
            error=exc.detail,
        )
    if current is None:
        return render(
            request,
            "admin_login.html",
            status=401,
            next=target,
            active="admin",
            error=_("That is not the admin token (ARENA_ADMIN_TOKEN)."),
        )
    cookie = sessions.issue()
    secret = sessions.load(cookie)
    assert secret is not None
    hours = sessions.max_age / 3600
    await asyncio.to_thread(admin_sessions.start, state.engine, secret, current, ip, hours)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        ADMIN_COOKIE,
        cookie,
        max_age=sessions.max_age,
        path="/admin",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/logout", dependencies=ADMIN_CSRF)
async def logout(request: Request, engine: EngineDep, sid: AdminDep) -> Response:
    """End this session, on the server too (the cookie alone would still be valid)."""
    await asyncio.to_thread(admin_sessions.end, engine, sid)
    return to_login(request)


# --- the models list and the add form -----------------------------------------------------------


@router.get("", response_class=HTMLResponse)
async def models_page(
    request: Request, engine: EngineDep, settings: SettingsDep, keys: AdminKeysDep, sid: AdminDep
) -> HTMLResponse:
    """Every model: state, weight, key, breaker, votes, and what can be done to it."""
    rows = await asyncio.to_thread(service.model_rows, engine, keys.cipher, settings.sampling)
    models = [row.model_dump() for row in rows]
    return page(request, keys, sid, "admin_models.html", models=models)


@router.get("/models/new", response_class=HTMLResponse)
async def new_model_page(
    request: Request, keys: AdminKeysDep, sid: AdminDep, preset: str | None = None
) -> HTMLResponse:
    """The add form; `?preset=` fills in a provider's base URL and hints."""
    values: dict[str, str] = {"weight": "1.0", "enabled": "on"}
    chosen = get_preset(preset) if preset else None
    if chosen:
        values = preset_values(chosen, values)
    return page(
        request,
        keys,
        sid,
        "admin_new.html",
        values=values,
        presets=PRESETS,
        chosen=chosen,
        can_store=keys.can_store,
    )


@router.post("/models", dependencies=ADMIN_CSRF)
async def add_model(
    request: Request, engine: EngineDep, keys: AdminKeysDep, sid: AdminDep, settings: SettingsDep
) -> Response:
    """Add a model from the form; the form again, with the reason, when it is refused."""
    form = await request.form()
    ciphers = service.Ciphers(read=keys.cipher, store=keys.store_cipher)

    def save() -> str:
        # The form is read inside the try: a bad extra_body is refused like any other field.
        raw = endpoint_fields(form, edit=False)
        rules = settings.endpoint_rules
        return service.add_model(engine, raw, ciphers, source="ui", rules=rules).name

    try:
        name = await asyncio.to_thread(save)
    except AdminError as exc:
        preset = form.get("preset")
        chosen = PRESETS.get(preset) if isinstance(preset, str) else None
        return page(
            request,
            keys,
            sid,
            "_admin_model_form.html" if is_htmx(request) else "admin_new.html",
            status=exc.status,
            values=form_values(form),
            presets=PRESETS,
            chosen=chosen,
            error=exc.detail,
            mode="add",
            can_store=keys.can_store,
        )
    return redirect(request, f"/admin/models/{quote(name)}")


@router.post("/draft/test", dependencies=ADMIN_CSRF)
async def test_new_draft(
    request: Request, engine: EngineDep, keys: AdminKeysDep, sid: AdminDep, settings: SettingsDep
) -> Response:
    """Test the add form's values before adding the model (nothing is stored)."""
    form = await request.form()
    return await draft_result(request, engine, keys, sid, settings, form, name=None)
