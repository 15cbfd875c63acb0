"""What every admin page route shares: the HTML refusals, htmx-or-page answers, the CSRF token.

The route modules (`routes/admin_pages.py`, `admin_model.py`, `admin_votes.py`) import this and
never each other.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from typing import Any
from urllib.parse import quote, urlparse

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from sqlalchemy import Engine

from arena.admin import service
from arena.admin.auth import ADMIN_COOKIE
from arena.admin.forms import endpoint_fields
from arena.admin.testing import probe_timeouts
from arena.battles.store import BattleError
from arena.core.settings import Settings
from arena.web.admin_deps import AdminKeys, AdminOff, LoginRequired
from arena.web.deps import is_htmx
from arena.web.error_text import translate
from arena.web.i18n import _
from arena.web.render import render


class AdminPageRoute(APIRoute):
    """Answers the admin's refusals as HTML: the login form, the "admin is off" page, a message."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """The route's handler, with refusals turned into pages."""
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


def admin_router() -> APIRouter:
    """A router for admin pages: under /admin, out of the OpenAPI schema, refusals as HTML."""
    return APIRouter(prefix="/admin", include_in_schema=False, route_class=AdminPageRoute)


def login_redirect(request: Request) -> Response:
    """To the login form, and back here afterwards."""
    target = "/admin/login?next=" + quote(request.url.path)
    if is_htmx(request):
        return Response(status_code=401, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


def to_login(request: Request) -> Response:
    """To the login form, without the session cookie (after logout, or a new admin token)."""
    response: Response = RedirectResponse("/admin/login", status_code=303)
    if is_htmx(request):
        response = Response(status_code=204, headers={"HX-Redirect": "/admin/login"})
    response.delete_cookie(ADMIN_COOKIE, path="/admin", httponly=True, samesite="strict")
    return response


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    """A refusal: into the page's flash area for htmx, a whole page otherwise."""
    message = translate(message)
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


def redirect(request: Request, target: str) -> Response:
    """Go to `target`: htmx follows `HX-Redirect`, a plain form POST a 303."""
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": target})
    return back(request, target)


def safe_next(value: str | None) -> str:
    """A local admin path to return to after login (never another site)."""
    parsed = urlparse(value or "")
    if parsed.scheme or parsed.netloc or not parsed.path.startswith("/admin"):
        return "/admin"
    return parsed.path


async def draft_result(
    request: Request,
    engine: Engine,
    keys: AdminKeys,
    session_id: str,
    settings: Settings,
    form: Mapping[str, Any],
    *,
    name: str | None,
) -> HTMLResponse:
    """Test a form's values unsaved: the upstream's answer (or the refusal) beside the form.

    Shared by the add and the edit page; a refused draft answers 422 with the reason in the same
    place, so the error shows where the admin is looking.
    """
    title = name or str(form.get("name") or "").strip() or _("this model")
    try:
        result = await service.test_draft(
            engine,
            endpoint_fields(form, edit=name is not None),
            keys.cipher,
            probe_timeouts(settings),
            settings.endpoint_rules,
            name=name,
        )
    except BattleError as exc:
        if exc.status == 404:
            raise
        message = translate(exc.detail)
        return page(request, keys, session_id, "_error.html", status=exc.status, message=message)
    return page(request, keys, session_id, "_admin_test.html", model_name=title, result=result)
