"""The voter's HTML pages: htmx fragments when htmx asks, whole pages otherwise."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any
from urllib.parse import urlparse

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from sqlmodel import Session

from arena.battles import service as actions
from arena.battles import store as battles
from arena.battles.store import BattleError
from arena.battles.turn import Event, SideDone, TextEvent, TurnEnd
from arena.store.endpoints import drawable_endpoints
from arena.votes.limits import RateLimited
from arena.web.assets import script_tags
from arena.web.deps import (
    ArenaDep,
    EngineDep,
    GeneratorDep,
    SettingsDep,
    SignerDep,
    VoterDep,
    VoterIdentityDep,
)
from arena.web.markdown import render_markdown, render_plain
from arena.web.sse import PING, SSE_HEADERS, encode, frame

router = APIRouter(include_in_schema=False)


async def csrf_protect(request: Request, signer: SignerDep, voter: VoterDep) -> None:
    """Unsafe HTML requests must come from our own origin and carry the voter's CSRF token."""
    origin = request.headers.get("origin") or request.headers.get("referer")
    if origin and urlparse(origin).netloc not in ("", request.headers.get("host", "")):
        raise BattleError(403, "Cross-site request refused.")
    token = request.headers.get("x-csrf-token")
    if token is None:
        # A plain (non-htmx) form sends the token as a field; reading the form here caches it.
        token = request.scope.get("state", {}).get("csrf_form_token")
    if not signer.check_csrf(voter, token):
        raise BattleError(403, "The form has expired or did not come from this site; reload.")


async def _form_token(request: Request) -> None:
    if "x-csrf-token" not in request.headers:
        form = await request.form()
        value = form.get("csrf_token")
        request.state.csrf_form_token = value if isinstance(value, str) else None


CSRF = [Depends(_form_token), Depends(csrf_protect)]


def render(request: Request, name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
    """A template with the page's common context."""
    settings = request.app.state.settings
    signer = request.app.state.signer
    ctx.setdefault("scripts", script_tags(settings.htmx_source))
    ctx.setdefault("csrf", signer.csrf_token(request.state.voter_id))
    ctx.setdefault("md", render_markdown)
    response: HTMLResponse = request.app.state.templates.TemplateResponse(
        request, name, ctx, status_code=status
    )
    response.headers["Vary"] = "HX-Request"
    return response


def error_fragment(request: Request, exc: BattleError) -> HTMLResponse:
    """A 4xx answer that htmx swaps in (and a whole page without htmx)."""
    if not request.headers.get("hx-request"):
        return render(request, "error.html", status=exc.status, message=exc.detail)
    response = render(request, "_error.html", status=exc.status, message=exc.detail)
    if isinstance(exc, RateLimited):
        response.headers["Retry-After"] = str(exc.retry_after)
    # Whatever the form targeted, the message goes to the page's flash area.
    response.headers["HX-Retarget"] = "#flash"
    response.headers["HX-Reswap"] = "innerHTML"
    return response


def _models_ready(engine: Any) -> bool:
    with Session(engine) as session:
        return len(drawable_endpoints(session)) >= 2


@router.get("/", response_class=HTMLResponse)
async def arena_page(request: Request, engine: EngineDep, settings: SettingsDep) -> HTMLResponse:
    """The arena: one prompt, two anonymous answers."""
    ready = await asyncio.to_thread(_models_ready, engine)
    return render(request, "arena.html", ready=ready, max_chars=settings.max_prompt_chars)


@router.post("/battles", dependencies=CSRF)
async def start_battle(
    request: Request, prompt: Annotated[str, Form()], arena: ArenaDep, voter: VoterIdentityDep
) -> Response:
    """Start a battle from the prompt form."""
    try:
        battle_id = await actions.start_battle(arena, voter, prompt)
        view = await asyncio.to_thread(
            battles.battle_view, arena.engine, battle_id=battle_id, voter_id=voter.id
        )
    except BattleError as exc:
        return error_fragment(request, exc)
    if not request.headers.get("hx-request"):
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
            battles.battle_view, engine, battle_id=battle_id, voter_id=voter
        )
    except BattleError as exc:
        return error_fragment(request, exc)
    return render(
        request, "arena.html", ready=True, battle=view, max_chars=settings.max_prompt_chars
    )


@router.get("/battles/{battle_id}/events")
async def battle_events(
    request: Request, battle_id: str, gen: GeneratorDep, voter: VoterDep
) -> Response:
    """The current turn as htmx SSE fragments."""
    try:
        events = await gen.open(battle_id, voter)
    except BattleError as exc:
        return Response(status_code=exc.status)
    templates = request.app.state.templates
    # The forms that arrive with the end of the turn work without htmx's header too.
    csrf = request.app.state.signer.csrf_token(voter)

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
                live=False,
                md=render_markdown,
            )
            return frame(f"{ev.side}-done", html)
        if isinstance(ev, TurnEnd):
            html = templates.get_template("_controls.html").render(
                battle_id=battle_id, state=ev.status, csrf=csrf
            )
            return frame("end", html)
        return PING

    return StreamingResponse(
        encode(events, html_frame), media_type="text/event-stream", headers=SSE_HEADERS
    )


@router.post("/battles/{battle_id}/turns", dependencies=CSRF)
async def follow_up(
    request: Request,
    battle_id: str,
    prompt: Annotated[str, Form()],
    arena: ArenaDep,
    voter: VoterIdentityDep,
) -> Response:
    """Ask both models a follow-up question."""
    try:
        await actions.follow_up(arena, voter, battle_id, prompt)
        view = await asyncio.to_thread(
            battles.battle_view, arena.engine, battle_id=battle_id, voter_id=voter.id
        )
    except BattleError as exc:
        return error_fragment(request, exc)
    if not request.headers.get("hx-request"):
        return RedirectResponse(f"/battles/{battle_id}", status_code=303)
    return render(request, "_followup.html", battle=view, turn=view.turns[-1])


@router.post("/battles/{battle_id}/stop", dependencies=CSRF)
async def stop(battle_id: str, gen: GeneratorDep, voter: VoterDep) -> Response:
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
    arena: ArenaDep,
    voter: VoterIdentityDep,
) -> Response:
    """Vote, then reveal both names."""
    try:
        result = await actions.vote(arena, voter, battle_id, winner)
    except BattleError as exc:
        return error_fragment(request, exc)
    if not request.headers.get("hx-request"):
        return RedirectResponse(f"/battles/{battle_id}", status_code=303)
    return render(request, "_reveal.html", result=result, battle_id=battle_id)
