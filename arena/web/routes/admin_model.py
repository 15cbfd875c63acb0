"""One model's admin pages (`/admin/models/{name}`): edit, weight, test, enable, retire, delete.

Registered after `admin_pages`, so `/admin/models/new` is matched there before `{name}` here.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import quote, urlparse

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import Engine

from arena.admin import AdminError, service
from arena.admin.forms import endpoint_fields, form_values
from arena.admin.testing import probe_timeouts
from arena.web.admin_deps import ADMIN_CSRF, AdminKeys, AdminKeysDep
from arena.web.admin_deps import PageAdminDep as AdminDep
from arena.web.admin_render import admin_router, back, draft_result, page, redirect
from arena.web.deps import EngineDep, SettingsDep, is_htmx

router = admin_router()


async def _detail(engine: Engine, keys: AdminKeys, name: str) -> dict[str, Any]:
    """The model as its templates read it (a plain dict, as they always have)."""
    detail = await asyncio.to_thread(service.model_detail, engine, keys.cipher, name)
    return detail.model_dump()


@router.get("/models/{name}", response_class=HTMLResponse)
async def model_page(
    request: Request, name: str, engine: EngineDep, keys: AdminKeysDep, sid: AdminDep
) -> HTMLResponse:
    """One model: edit it, test it, see its breaker, retire it."""
    m = await _detail(engine, keys, name)
    return page(
        request, keys, sid, "admin_model.html", m=m, values=m["values"], can_store=keys.can_store
    )


@router.post("/models/{name}", dependencies=ADMIN_CSRF)
async def edit_model(
    request: Request,
    name: str,
    engine: EngineDep,
    keys: AdminKeysDep,
    sid: AdminDep,
    settings: SettingsDep,
) -> Response:
    """Save the edit form."""
    form = await request.form()
    ciphers = service.Ciphers(read=keys.cipher, store=keys.store_cipher)

    def save() -> None:
        fields = endpoint_fields(form, edit=True)
        service.edit_model(engine, name, fields, ciphers, settings.endpoint_rules)

    try:
        await asyncio.to_thread(save)
    except AdminError as exc:
        if exc.status == 404:
            raise
        m = await _detail(engine, keys, name)
        return page(
            request,
            keys,
            sid,
            "_admin_model_form.html" if is_htmx(request) else "admin_model.html",
            status=exc.status,
            m=m,
            values=form_values(form),
            error=exc.detail,
            mode="edit",
            can_store=keys.can_store,
        )
    m = await _detail(engine, keys, name)
    if not is_htmx(request):
        return back(request, f"/admin/models/{quote(name)}")
    return page(
        request,
        keys,
        sid,
        "_admin_model_form.html",
        m=m,
        values=m["values"],
        mode="edit",
        saved=True,
        can_store=keys.can_store,
    )


@router.post("/models/{name}/weight", dependencies=ADMIN_CSRF)
async def set_weight(
    request: Request, name: str, engine: EngineDep, keys: AdminKeysDep, sid: AdminDep
) -> Response:
    """Change how often a model is drawn (its row again, or back to the list)."""
    raw = (await request.form()).get("weight")
    weight = raw if isinstance(raw, str) else ""
    try:
        await asyncio.to_thread(service.set_weight, engine, name, weight)
    except AdminError as exc:
        if exc.status == 404 or not _in_place(request):
            raise
        # Beside the weight field, with what was typed, rather than at the top of the page.
        return await _row_or_back(
            request,
            engine,
            keys,
            sid,
            name,
            status=exc.status,
            weight_error=exc.detail,
            weight_value=weight,
        )
    return await _row_or_back(request, engine, keys, sid, name)


def _in_place(request: Request) -> bool:
    """An htmx request that swaps a model's row or status box (errors go into it)."""
    return is_htmx(request) and request.headers.get("hx-target", "").startswith(
        ("row-", "model-status")
    )


async def _row_or_back(
    request: Request,
    engine: Engine,
    keys: AdminKeys,
    sid: str,
    name: str,
    status: int = 200,
    **errors: str,
) -> Response:
    if not is_htmx(request):
        referer = urlparse(request.headers.get("referer") or "").path
        return back(request, referer if referer.startswith("/admin") else "/admin")
    m = await _detail(engine, keys, name)
    template = (
        "_admin_model_row.html"
        if request.headers.get("hx-target", "").startswith("row-")
        else "_admin_model_status.html"
    )
    response = page(request, keys, sid, template, status=status, m=m, **errors)
    if status < 400:
        # Every model's chance of being drawn may have moved: the list refreshes that column.
        response.headers["HX-Trigger"] = "draw-changed"
    return response


@router.post("/models/{name}/delete", dependencies=ADMIN_CSRF)
async def delete_model(
    request: Request, name: str, engine: EngineDep, keys: AdminKeysDep, sid: AdminDep
) -> Response:
    """Delete a model without battles, or retire one with battles."""
    removal = await asyncio.to_thread(service.remove_model, engine, name)
    target = "/admin" if removal.result == "deleted" else f"/admin/models/{quote(name)}"
    return redirect(request, target)


@router.post("/models/{name}/test", dependencies=ADMIN_CSRF)
async def test_model(
    request: Request,
    name: str,
    engine: EngineDep,
    keys: AdminKeysDep,
    sid: AdminDep,
    settings: SettingsDep,
) -> Response:
    """Send the test prompt; show timing and the answer, or the error and what to do."""
    timeouts = probe_timeouts(settings)
    result = await service.test_model(engine, name, keys.cipher, timeouts, settings.endpoint_rules)
    if is_htmx(request):
        return page(request, keys, sid, "_admin_test.html", model_name=name, result=result)
    m = await _detail(engine, keys, name)
    return page(
        request,
        keys,
        sid,
        "admin_model.html",
        m=m,
        values=m["values"],
        result=result,
        can_store=keys.can_store,
    )


@router.post("/models/{name}/draft", dependencies=ADMIN_CSRF)
async def test_edit_draft(
    request: Request,
    name: str,
    engine: EngineDep,
    keys: AdminKeysDep,
    sid: AdminDep,
    settings: SettingsDep,
) -> Response:
    """Test the edit form's values before saving them (nothing is stored)."""
    form = await request.form()
    return await draft_result(request, engine, keys, sid, settings, form, name=name)


@router.post("/models/{name}/{action}", dependencies=ADMIN_CSRF)
async def model_action(
    request: Request,
    name: str,
    action: str,
    engine: EngineDep,
    keys: AdminKeysDep,
    sid: AdminDep,
) -> Response:
    """Enable, disable, unpause, retire or restore a model."""
    if action not in service.ACTIONS:
        raise AdminError(404, f"unknown action {action!r}")
    try:
        await asyncio.to_thread(service.act, engine, name, action)
    except AdminError as exc:
        if exc.status == 404 or not _in_place(request):
            raise
        return await _row_or_back(
            request, engine, keys, sid, name, status=exc.status, action_error=exc.detail
        )
    return await _row_or_back(request, engine, keys, sid, name)
