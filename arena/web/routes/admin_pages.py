"""The admin's HTML pages (`/admin/*`): login, models, tests, vote review. htmx fragments when htmx
asks, whole pages (and redirects after a POST) otherwise."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from datetime import date
from typing import Any
from urllib.parse import quote, urlparse

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from fastapi.routing import APIRoute
from sqlmodel import Session

from arena.admin import AdminError, crud, review
from arena.admin.auth import ADMIN_COOKIE, token_matches
from arena.admin.export import export_lines
from arena.admin.forms import endpoint_fields, endpoint_values, form_values, preset_values
from arena.admin.presets import PRESETS, get_preset
from arena.admin.testing import probe_endpoint, probe_params, probe_timeouts
from arena.battles.store import BattleError
from arena.core.settings import Settings
from arena.matchmaking.pairing import matchmaking_inputs
from arena.matchmaking.policy import NotEnoughModels, draw_probabilities
from arena.store.engine import session_scope
from arena.store.keys import redact
from arena.web.admin_deps import ADMIN_CSRF, AdminKeys, AdminKeysDep, AdminOff, LoginRequired
from arena.web.admin_deps import PageAdminDep as AdminDep
from arena.web.csrf import CSRF as VOTER_CSRF
from arena.web.deps import EngineDep, SettingsDep, SignerDep
from arena.web.render import render


class AdminPageRoute(APIRoute):
    """Answers the admin's refusals as HTML: the login form, the "admin is off" page, a message."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except AdminOff:
                return render(request, "admin_off.html", status=403, active="admin")
            except LoginRequired:
                return login_redirect(request)
            except BattleError as exc:
                return error_page(request, exc.status, exc.detail)
            except RequestValidationError as exc:
                detail = "; ".join(
                    f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}"
                    for e in exc.errors()
                )
                return error_page(request, 422, detail)

        return guarded


router = APIRouter(prefix="/admin", include_in_schema=False, route_class=AdminPageRoute)


def is_htmx(request: Request) -> bool:
    """Whether htmx sent the request (and wants a fragment)."""
    return bool(request.headers.get("hx-request"))


def login_redirect(request: Request) -> Response:
    """To the login form, and back here afterwards."""
    target = "/admin/login?next=" + quote(request.url.path)
    if is_htmx(request):
        return Response(status_code=401, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    """A refusal: into the page's flash area for htmx, a whole page otherwise."""
    if not is_htmx(request):
        return render(request, "admin_error.html", status=status, message=message, active="admin")
    response = render(request, "_error.html", status=status, message=message)
    response.headers["HX-Retarget"] = "#flash"
    response.headers["HX-Reswap"] = "innerHTML"
    return response


def page(
    request: Request, keys: AdminKeys, session_id: str, template: str, status: int = 200, **ctx: Any
) -> HTMLResponse:
    """An admin template, with this session's CSRF token."""
    assert keys.sessions is not None
    return render(
        request,
        template,
        status=status,
        csrf=keys.sessions.csrf_token(session_id),
        active="admin",
        **ctx,
    )


def back(request: Request, url: str) -> Response:
    """After a plain (non-htmx) POST: see the result at `url`."""
    return RedirectResponse(url, status_code=303)


def safe_next(value: str | None) -> str:
    """A local admin path to return to after login (never another site)."""
    parsed = urlparse(value or "")
    if parsed.scheme or parsed.netloc or not parsed.path.startswith("/admin"):
        return "/admin"
    return parsed.path


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
            error="That is not the admin token (ARENA_ADMIN_TOKEN).",
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


# --- models -------------------------------------------------------------------------------------


def draw_shares(session: Any, settings: Settings) -> dict[int, float]:
    """Each model's probability of being in the next battle, as matchmaking stands now."""
    try:
        return draw_probabilities(*matchmaking_inputs(session, settings.sampling))
    except NotEnoughModels:
        return {}


def _models(engine: Any, keys: AdminKeys, settings: Settings) -> list[dict[str, Any]]:
    with session_scope(engine) as session:
        counts = review.vote_counts(session)
        secrets = crud.all_keys(session, keys.cipher)
        shares = draw_shares(session, settings)
        return [
            {
                **crud.public(e, cipher=keys.cipher, votes=counts.get(e.name), secrets=secrets),
                "draw": shares.get(e.id or 0, 0.0),
            }
            for e in crud.list_endpoints(session)
        ]


def _model(engine: Any, keys: AdminKeys, name: str) -> dict[str, Any]:
    with session_scope(engine) as session:
        endpoint = crud.find(session, name=name)
        assert endpoint.id is not None
        counts = review.vote_counts(session)
        data = crud.public(
            endpoint,
            cipher=keys.cipher,
            votes=counts.get(name),
            secrets=crud.all_keys(session, keys.cipher),
        )
        data["battles"] = crud.battle_count(session, endpoint.id)
        data["values"] = endpoint_values(endpoint)
        return data


@router.get("", response_class=HTMLResponse)
async def models_page(
    request: Request, engine: EngineDep, settings: SettingsDep, keys: AdminKeysDep, sid: AdminDep
) -> HTMLResponse:
    """Every model: state, weight, key, breaker, votes, and what can be done to it."""
    models = await asyncio.to_thread(_models, engine, keys, settings)
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
    request: Request, engine: EngineDep, keys: AdminKeysDep, sid: AdminDep
) -> Response:
    """Add a model from the form; the form again, with the reason, when it is refused."""
    form = await request.form()

    def save() -> str:
        item, api_key = crud.parse_new(endpoint_fields(form, edit=False))
        with session_scope(engine) as session:
            crud.create(session, item=item, api_key=api_key, cipher=keys.store_cipher, source="ui")
        return item.name

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
    target = f"/admin/models/{quote(name)}"
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": target})
    return back(request, target)


@router.get("/models/{name}", response_class=HTMLResponse)
async def model_page(
    request: Request, name: str, engine: EngineDep, keys: AdminKeysDep, sid: AdminDep
) -> HTMLResponse:
    """One model: edit it, test it, see its breaker, retire it."""
    m = await asyncio.to_thread(_model, engine, keys, name)
    return page(
        request, keys, sid, "admin_model.html", m=m, values=m["values"], can_store=keys.can_store
    )


@router.post("/models/{name}", dependencies=ADMIN_CSRF)
async def edit_model(
    request: Request, name: str, engine: EngineDep, keys: AdminKeysDep, sid: AdminDep
) -> Response:
    """Save the edit form."""
    form = await request.form()

    def save() -> None:
        with session_scope(engine) as session:
            raw = endpoint_fields(form, edit=True)
            crud.edit(session, name=name, raw=raw, cipher=keys.store_cipher)

    try:
        await asyncio.to_thread(save)
    except AdminError as exc:
        if exc.status == 404:
            raise
        m = await asyncio.to_thread(_model, engine, keys, name)
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
    m = await asyncio.to_thread(_model, engine, keys, name)
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


ACTIONS: dict[str, Callable[[Session, str], Any]] = {
    "enable": lambda s, n: crud.set_enabled(s, name=n, enabled=True),
    "disable": lambda s, n: crud.set_enabled(s, name=n, enabled=False),
    "unpause": lambda s, n: crud.unpause(s, name=n),
    "retire": lambda s, n: crud.set_retired(s, name=n, retired=True),
    "restore": lambda s, n: crud.set_retired(s, name=n, retired=False),
}


@router.post("/models/{name}/weight", dependencies=ADMIN_CSRF)
async def set_weight(
    request: Request, name: str, engine: EngineDep, keys: AdminKeysDep, sid: AdminDep
) -> Response:
    """Change how often a model is drawn (its row again, or back to the list)."""
    raw = (await request.form()).get("weight")

    def save() -> None:
        with session_scope(engine) as session:
            crud.set_weight(session, name=name, weight=raw if isinstance(raw, str) else "")

    await asyncio.to_thread(save)
    return await _row_or_back(request, engine, keys, sid, name)


async def _row_or_back(
    request: Request, engine: Any, keys: AdminKeys, sid: str, name: str
) -> Response:
    if not is_htmx(request):
        referer = urlparse(request.headers.get("referer") or "").path
        return back(request, referer if referer.startswith("/admin") else "/admin")
    m = await asyncio.to_thread(_model, engine, keys, name)
    template = (
        "_admin_model_row.html"
        if request.headers.get("hx-target", "").startswith("row-")
        else "_admin_model_status.html"
    )
    response = page(request, keys, sid, template, m=m)
    # Every model's chance of being drawn may have moved: the list refreshes that column.
    response.headers["HX-Trigger"] = "draw-changed"
    return response


@router.post("/models/{name}/delete", dependencies=ADMIN_CSRF)
async def delete_model(
    request: Request, name: str, engine: EngineDep, keys: AdminKeysDep, sid: AdminDep
) -> Response:
    """Delete a model without battles, or retire one with battles."""

    def run() -> str:
        with session_scope(engine) as session:
            return crud.remove(session, name=name)

    result = await asyncio.to_thread(run)
    target = "/admin" if result == "deleted" else f"/admin/models/{quote(name)}"
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": target})
    return back(request, target)


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

    def load() -> Any:
        with session_scope(engine) as session:
            return probe_params(crud.find(session, name=name), keys.cipher)

    params, key = await asyncio.to_thread(load)
    result = await probe_endpoint(params, probe_timeouts(settings), key=key)
    if is_htmx(request):
        return page(request, keys, sid, "_admin_test.html", model_name=name, result=result)
    m = await asyncio.to_thread(_model, engine, keys, name)
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
    if action not in ACTIONS:
        raise AdminError(404, f"unknown action {action!r}")

    def run() -> None:
        with session_scope(engine) as session:
            ACTIONS[action](session, name)

    await asyncio.to_thread(run)
    return await _row_or_back(request, engine, keys, sid, name)


# --- votes --------------------------------------------------------------------------------------


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


PAGE_SIZE = 25


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

    def load() -> tuple[list[review.VoteRecord], list[str], list[str]]:
        with session_scope(engine) as session:
            names = [e.name for e in crud.list_endpoints(session)]
            secrets = crud.all_keys(session, keys.cipher)
            return review.list_votes(session, filters), names, secrets

    votes, names, secrets = await asyncio.to_thread(load)
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
        votes=votes,
        names=names,
        query=query,
        offset=filters.offset,
        page_size=PAGE_SIZE,
        judge=signer.hash_id,
        scrub=lambda text: redact(text, secrets),
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

    def run() -> tuple[review.VoteRecord, list[str]]:
        with session_scope(engine) as session:
            review.set_excluded(
                session,
                battle_id=battle_id,
                excluded=action == "exclude",
                reason=reason if isinstance(reason, str) else None,
                count_leaked=settings.count_leaked_votes,
            )
            secrets = crud.all_keys(session, keys.cipher)
            return review.get_vote(session, battle_id=battle_id), secrets

    vote, secrets = await asyncio.to_thread(run)
    if not is_htmx(request):
        referer = urlparse(request.headers.get("referer") or "")
        target = referer.path + (f"?{referer.query}" if referer.query else "")
        return back(request, target if referer.path == "/admin/votes" else "/admin/votes")
    return page(
        request,
        keys,
        sid,
        "_admin_vote.html",
        v=vote,
        judge=signer.hash_id,
        scrub=lambda text: redact(text, secrets),
    )


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
