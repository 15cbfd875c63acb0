"""The admin's spend page (`/admin/spend`): tokens and cost per model per day, and budgets."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import Query, Request
from fastapi.responses import HTMLResponse

from arena.admin.spend_report import spend_report
from arena.web.admin_deps import AdminKeysDep
from arena.web.admin_deps import PageAdminDep as AdminDep
from arena.web.admin_render import admin_router, page
from arena.web.deps import EngineDep, SettingsDep

router = admin_router()


@router.get("/spend", response_class=HTMLResponse)
async def spend_page(
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    keys: AdminKeysDep,
    sid: AdminDep,
    days: Annotated[int, Query(ge=1, le=366)] = 30,
) -> HTMLResponse:
    """What each model used per UTC day, and which are stopped by their daily budget."""
    report = await asyncio.to_thread(spend_report, engine, currency=settings.currency, days=days)
    return page(request, keys, sid, "admin_spend.html", report=report, days=days)
