"""The admin's HTML pages (`/admin/*`): log in and out, the models list and the add form.

One model's page is in `admin_model.py`, vote review in `admin_votes.py`. htmx fragments when
htmx asks, whole pages (and redirects after a POST) otherwise.
"""

from __future__ import annotations

import asyncio
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from arena.admin import AdminError, service
from arena.admin.auth import ADMIN_COOKIE, token_matches
from arena.admin.forms import endpoint_fields, form_values, preset_values
from arena.admin.presets import PRESETS, get_preset
from arena.web.admin_deps import ADMIN_CSRF, AdminKeysDep, AdminOff
from arena.web.admin_deps import PageAdminDep as AdminDep
from arena.web.admin_render import admin_router, draft_result, page, redirect, safe_next
from arena.web.csrf import CSRF as VOTER_CSRF
from arena.web.deps import EngineDep, SettingsDep, is_htmx
from arena.web.i18n import _
from arena.web.render import render

router = admin_router()


# --- log in and out -----------------------------------------------------------------------------


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request, keys: AdminKeysDep, next: str | None = None) -> Response:
    """The login form (a valid session goes straight on)."""
    if keys.sessions is None:
        raise AdminOff
    if keys.sessions.load(request.cookies.get(ADMIN_COOKIE)):
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, "admin_login.html", next=safe_next(next), active="admin")


@router.post("/login", dependencies=VOTER_CSRF)
async def login(request: Request, keys: AdminKeysDep, settings: SettingsDep) -> Response:
    """Trade the admin token for a session cookie."""
    if keys.sessions is None:
        raise AdminOff
    form = await request.form()
    token, target = form.get("token"), safe_next(str(form.get("next") or ""))
    expected = settings.admin_token.get_secret_value() if settings.admin_token else None
    if not token_matches(expected, token if isinstance(token, str) else None):
        return render(
            request,
            "admin_login.html",
            status=401,
            next=target,
            active="admin",
            error=_("That is not the admin token (ARENA_ADMIN_TOKEN)."),
        )
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        ADMIN_COOKIE,
        keys.sessions.issue(),
        max_age=keys.sessions.max_age,
        path="/admin",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/logout", dependencies=ADMIN_CSRF)
async def logout(request: Request) -> Response:
    """End the session in this browser."""
    response: Response = RedirectResponse("/admin/login", status_code=303)
    if is_htmx(request):
        response = Response(status_code=204, headers={"HX-Redirect": "/admin/login"})
    response.delete_cookie(ADMIN_COOKIE, path="/admin", httponly=True, samesite="strict")
    return response


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
