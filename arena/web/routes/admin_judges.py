"""The admin's Judges page: the judge prompt (edit or restore the default) and the prompt sets."""

from __future__ import annotations

import asyncio

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from arena.judges.prompt import current_prompt, default_prompt, save_prompt
from arena.judges.promptsets import import_set, list_sets, parse_prompts
from arena.judges.queue import active_judges
from arena.web.admin_deps import ADMIN_CSRF, AdminKeysDep
from arena.web.admin_deps import PageAdminDep as AdminDep
from arena.web.admin_render import admin_router, page, redirect
from arena.web.deps import EngineDep

router = admin_router()


async def _page(
    request: Request,
    engine: EngineDep,
    keys: AdminKeysDep,
    sid: str,
    *,
    status: int = 200,
    error: str | None = None,
    prompt: str | None = None,
) -> HTMLResponse:
    text = prompt if prompt is not None else await asyncio.to_thread(current_prompt, engine)
    return page(
        request,
        keys,
        sid,
        "admin_judges.html",
        status=status,
        section="judges",
        prompt=text,
        is_default=text == default_prompt(),
        judges=[j.name for j in await asyncio.to_thread(active_judges, engine)],
        sets=await asyncio.to_thread(list_sets, engine),
        error=error,
    )


@router.get("/judges", response_class=HTMLResponse)
async def judges_admin(
    request: Request, engine: EngineDep, keys: AdminKeysDep, sid: AdminDep
) -> HTMLResponse:
    """The judge prompt, the judges and the prompt sets."""
    return await _page(request, engine, keys, sid)


@router.post("/judges/prompt", dependencies=ADMIN_CSRF)
async def save_judge_prompt(
    request: Request, engine: EngineDep, keys: AdminKeysDep, sid: AdminDep
) -> Response:
    """Save the judge prompt (the default when emptied or when asked to restore it)."""
    form = await request.form()
    text = "" if form.get("restore") else str(form.get("prompt") or "")
    try:
        await asyncio.to_thread(save_prompt, engine, text)
    except ValueError as exc:
        return await _page(request, engine, keys, sid, status=422, error=str(exc), prompt=text)
    return redirect(request, "/admin/judges")


@router.post("/judges/sets", dependencies=ADMIN_CSRF)
async def add_prompt_set(
    request: Request, engine: EngineDep, keys: AdminKeysDep, sid: AdminDep
) -> Response:
    """Import a prompt set from the form (JSON Lines or one prompt a line)."""
    form = await request.form()
    upload = form.get("file")
    text = str(form.get("prompts") or "")
    if upload is not None and not isinstance(upload, str):
        text = (await upload.read()).decode("utf-8", errors="replace") or text
    try:
        prompts = parse_prompts(text)
        await asyncio.to_thread(import_set, engine, str(form.get("name") or ""), prompts)
    except ValueError as exc:
        return await _page(request, engine, keys, sid, status=422, error=str(exc))
    return redirect(request, "/admin/judges")
