"""The admin's vote review pages (`/admin/votes`) and the battle export for the browser."""

from __future__ import annotations

import asyncio
from datetime import date
from urllib.parse import urlparse

from fastapi import Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from arena.admin import AdminError, review, vote_service
from arena.admin.export import export_lines
from arena.web.admin_deps import ADMIN_CSRF, AdminKeysDep
from arena.web.admin_deps import PageAdminDep as AdminDep
from arena.web.admin_render import admin_router, back, page
from arena.web.deps import EngineDep, SettingsDep, SignerDep, is_htmx
from arena.web.images import ADMIN_HEADERS, image_response

router = admin_router()

PAGE_SIZE = 25


def _tristate(value: str | None, name: str) -> bool | None:
    if value in (None, "", "any"):
        return None
    if value in ("yes", "true", "1"):
        return True
    if value in ("no", "false", "0"):
        return False
    raise AdminError(422, f"{name}: use yes, no or any")


def _day(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise AdminError(422, f"{name}: a date such as 2025-01-31") from None


@router.get("/votes", response_class=HTMLResponse)
async def votes_page(
    request: Request,
    engine: EngineDep,
    keys: AdminKeysDep,
    sid: AdminDep,
    signer: SignerDep,
    model: str | None = None,
    since: str | None = None,
    until: str | None = None,
    leaked: str | None = None,
    excluded: str | None = None,
    offset: int = 0,
) -> HTMLResponse:
    """Recent votes with both conversations, filtered; exclude spam, include it again."""
    filters = review.VoteFilter(
        model or None,
        _day(since, "since"),
        _day(until, "until"),
        _tristate(leaked, "flagged"),
        _tristate(excluded, "excluded"),
        PAGE_SIZE,
        max(offset, 0),
    )
    found = await asyncio.to_thread(vote_service.vote_page, engine, filters, keys.cipher)
    query = {
        "model": model or "",
        "since": since or "",
        "until": until or "",
        "leaked": leaked or "",
        "excluded": excluded or "",
    }
    return page(
        request,
        keys,
        sid,
        "admin_votes.html",
        votes=found.votes,
        names=found.names,
        query=query,
        offset=filters.offset,
        page_size=PAGE_SIZE,
        judge=signer.hash_id,
        scrub=found.scrub,
    )


@router.post("/votes/{battle_id}/{action}", dependencies=ADMIN_CSRF)
async def vote_action(
    request: Request,
    battle_id: str,
    action: str,
    engine: EngineDep,
    keys: AdminKeysDep,
    sid: AdminDep,
    signer: SignerDep,
    settings: SettingsDep,
) -> Response:
    """Exclude a vote (with a reason) or include it again."""
    if action not in ("exclude", "include"):
        raise AdminError(404, f"unknown action {action!r}")
    reason = (await request.form()).get("reason")
    try:
        vote, scrub = await asyncio.to_thread(
            lambda: vote_service.review_vote(
                engine,
                battle_id,
                keys.cipher,
                excluded=action == "exclude",
                reason=reason if isinstance(reason, str) else None,
                count_leaked=settings.count_leaked_votes,
            )
        )
    except AdminError as exc:
        if exc.status == 404 or not is_htmx(request):
            raise
        # Beside the reason field of this vote, not at the top of a long page.
        vote, scrub = await asyncio.to_thread(
            lambda: (
                vote_service.get_vote(engine, battle_id),
                vote_service.scrubber(engine, keys.cipher),
            )
        )
        return page(
            request,
            keys,
            sid,
            "_admin_vote.html",
            status=exc.status,
            v=vote,
            judge=signer.hash_id,
            scrub=scrub,
            reason_error=exc.detail,
            reason_value=reason if isinstance(reason, str) else "",
        )
    if not is_htmx(request):
        referer = urlparse(request.headers.get("referer") or "")
        target = referer.path + (f"?{referer.query}" if referer.query else "")
        return back(request, target if referer.path == "/admin/votes" else "/admin/votes")
    return page(request, keys, sid, "_admin_vote.html", v=vote, judge=signer.hash_id, scrub=scrub)


@router.get("/export.jsonl")
async def export(
    engine: EngineDep, signer: SignerDep, sid: AdminDep, include_excluded: bool = True
) -> StreamingResponse:
    """The battle export, for the browser (the same as GET /api/admin/battles.jsonl)."""
    return StreamingResponse(
        export_lines(engine, signer.hash_id, include_excluded),
        media_type="application/x-ndjson",
        headers={"Content-Disposition": 'attachment; filename="battles.jsonl"'},
    )


@router.get("/battles/{battle_id}/images/{turn}/{position}")
async def battle_image(
    battle_id: str, turn: int, position: int, engine: EngineDep, _: AdminDep
) -> Response:
    """An image of any battle, for the admin's vote review."""
    return await image_response(
        engine,
        battle_id=battle_id,
        voter_id=None,
        turn=turn,
        position=position,
        headers=ADMIN_HEADERS,
    )
