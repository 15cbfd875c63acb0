"""The voter's HTML pages: htmx fragments when htmx asks, whole pages otherwise."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from sqlmodel import Session

from arena.battles import service as actions
from arena.battles import views
from arena.battles.events import Event, SideDone, TextEvent, TurnEnd
from arena.battles.store import BattleError
from arena.store.endpoints import drawable_endpoints
from arena.web.csrf import CSRF
from arena.web.deps import (
    BattlesDep,
    EngineDep,
    RunnerDep,
    SettingsDep,
    VoterDep,
    VoterIdentityDep,
    is_htmx,
)
from arena.web.images import VOTER_HEADERS, image_response
from arena.web.markdown import render_markdown, render_plain
from arena.web.render import error_fragment, render
from arena.web.sse import PING, SSE_HEADERS, encode, frame
from arena.web.state import arena_state

router = APIRouter(include_in_schema=False)


def _models_ready(engine: Any) -> tuple[bool, bool]:
    """Whether two models, and two vision models, can be drawn."""
    with Session(engine) as session:
        drawable = drawable_endpoints(session)
        return len(drawable) >= 2, sum(e.vision for e in drawable) >= 2


@router.get("/", response_class=HTMLResponse)
async def arena_page(request: Request, engine: EngineDep, settings: SettingsDep) -> HTMLResponse:
    """The arena: one prompt, two anonymous answers."""
    ready, vision_ready = await asyncio.to_thread(_models_ready, engine)
    return render(
        request,
        "arena.html",
        ready=ready,
        vision_ready=vision_ready,
        max_chars=settings.max_prompt_chars,
    )


Images = Annotated[list[str], Form()]  # data: URIs the page's script puts in hidden inputs


@router.post("/battles", dependencies=CSRF)
async def start_battle(
    request: Request,
    prompt: Annotated[str, Form()],
    arena: BattlesDep,
    voter: VoterIdentityDep,
    images: Images = [],  # noqa: B006 (FastAPI copies defaults)
) -> Response:
    """Start a battle from the prompt form (with the images attached to it)."""
    try:
        battle_id = await actions.start_battle(arena, voter, prompt, images)
        view = await asyncio.to_thread(
            views.battle_view, arena.engine, battle_id=battle_id, voter_id=voter.id
        )
    except BattleError as exc:
        return error_fragment(request, exc)
    if not is_htmx(request):
        return RedirectResponse(f"/battles/{battle_id}", status_code=303)
    response = render(request, "_battle.html", battle=view)
    response.headers["HX-Push-Url"] = f"/battles/{battle_id}"
    return response


@router.get("/battles/{battle_id}", response_class=HTMLResponse)
async def battle_page(
    request: Request, battle_id: str, engine: EngineDep, voter: VoterDep, settings: SettingsDep
) -> HTMLResponse:
    """A battle, as far as it has got (a reload or a shared tab lands here)."""
    try:
        view = await asyncio.to_thread(
            views.battle_view, engine, battle_id=battle_id, voter_id=voter
        )
    except BattleError as exc:
        return error_fragment(request, exc)
    return render(
        request, "arena.html", ready=True, battle=view, max_chars=settings.max_prompt_chars
    )


def merge_text(batch: list[Event]) -> list[Event]:
    """A batch with each run of pieces for one side and kind joined into one piece.

    Every frame is one swap, and every swap lays out the growing answer again; a long answer that
    arrives in many pieces costs the browser one layout per batch instead of one per piece.
    """
    out: list[Event] = []
    for ev in batch:
        last = out[-1] if out else None
        if (
            isinstance(ev, TextEvent)
            and isinstance(last, TextEvent)
            and not ev.replace
            and (last.side, last.kind) == (ev.side, ev.kind)
        ):
            out[-1] = TextEvent(ev.side, ev.kind, last.text + ev.text, last.replace)
        else:
            out.append(ev)
    return out


async def _merged(batches: AsyncIterator[list[Event]]) -> AsyncIterator[list[Event]]:
    async for batch in batches:
        yield merge_text(batch)


@router.get("/battles/{battle_id}/events")
async def battle_events(
    request: Request, battle_id: str, gen: RunnerDep, voter: VoterDep
) -> Response:
    """The current turn as htmx SSE fragments."""
    try:
        events = await gen.open(battle_id, voter)
    except BattleError as exc:
        return Response(status_code=exc.status)
    state = arena_state(request.app)
    templates = state.templates
    # The forms that arrive with the end of the turn work without htmx's header too.
    csrf = state.signer.csrf_token(voter)
    images_ok = await asyncio.to_thread(views.accepts_images, state.engine, battle_id)

    def html_frame(ev: Event) -> bytes:
        if isinstance(ev, TextEvent):
            if ev.replace:
                return frame(f"{ev.side}-{ev.kind}-all", str(render_plain(ev.text)))
            name = ev.side if ev.kind == "content" else f"{ev.side}-reasoning"
            return frame(name, str(render_plain(ev.text)))
        if isinstance(ev, SideDone):
            html = templates.get_template("_answer.html").render(
                side=ev.side,
                content=ev.content,
                reasoning=ev.reasoning,
                status=ev.status,
                error=ev.error,
                stopped=ev.stopped,
                live=False,
                md=render_markdown,
            )
            return frame(f"{ev.side}-done", html)
        if isinstance(ev, TurnEnd):
            html = templates.get_template("_controls.html").render(
                battle_id=battle_id,
                state=ev.status,
                csrf=csrf,
                images_ok=images_ok,
                max_images=state.settings.max_images_per_turn,
                max_image_bytes=state.settings.max_image_bytes,
            )
            return frame("end", html)
        return PING

    return StreamingResponse(
        encode(_merged(events), html_frame), media_type="text/event-stream", headers=SSE_HEADERS
    )


@router.post("/battles/{battle_id}/turns", dependencies=CSRF)
async def follow_up(
    request: Request,
    battle_id: str,
    prompt: Annotated[str, Form()],
    arena: BattlesDep,
    voter: VoterIdentityDep,
    images: Images = [],  # noqa: B006 (FastAPI copies defaults)
) -> Response:
    """Ask both models a follow-up question."""
    try:
        await actions.follow_up(arena, voter, battle_id, prompt, images)
        view = await asyncio.to_thread(
            views.battle_view, arena.engine, battle_id=battle_id, voter_id=voter.id
        )
    except BattleError as exc:
        return error_fragment(request, exc)
    if not is_htmx(request):
        return RedirectResponse(f"/battles/{battle_id}", status_code=303)
    return render(request, "_followup.html", battle=view, turn=view.turns[-1])


@router.get("/battles/{battle_id}/images/{turn}/{position}")
async def battle_image(
    battle_id: str, turn: int, position: int, engine: EngineDep, voter: VoterDep
) -> Response:
    """An image of the voter's own battle (403 for anybody else's; admins have their own)."""
    return await image_response(
        engine,
        battle_id=battle_id,
        voter_id=voter,
        turn=turn,
        position=position,
        headers=VOTER_HEADERS,
    )


@router.post("/battles/{battle_id}/stop", dependencies=CSRF)
async def stop(battle_id: str, gen: RunnerDep, voter: VoterDep) -> Response:
    """Stop both answers of the current turn."""
    try:
        await gen.stop(battle_id, voter)
    except BattleError as exc:
        return Response(status_code=exc.status)
    return Response(status_code=204)


@router.post("/battles/{battle_id}/vote", dependencies=CSRF)
async def vote(
    request: Request,
    battle_id: str,
    winner: Annotated[str, Form()],
    arena: BattlesDep,
    voter: VoterIdentityDep,
) -> Response:
    """Vote, then reveal both names."""
    try:
        result = await actions.vote(arena, voter, battle_id, winner)
    except BattleError as exc:
        return error_fragment(request, exc)
    if not is_htmx(request):
        return RedirectResponse(f"/battles/{battle_id}", status_code=303)
    urls = await asyncio.to_thread(views.battle_image_urls, arena.engine, battle_id)
    image_urls = [u for turn in urls for u in turn]
    return render(
        request, "_reveal.html", result=result, battle_id=battle_id, image_urls=image_urls
    )
