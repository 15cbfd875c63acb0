"""Pages and fragments: a template with the common context; errors as htmx fragments."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from arena.core.errors import BattleError
from arena.votes.limits import RateLimited
from arena.web.assets import script_tags
from arena.web.markdown import render_markdown
from arena.web.state import arena_state


def render(request: Request, name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
    """A template with the page's common context."""
    state = arena_state(request.app)
    ctx.setdefault("scripts", script_tags(state.settings.htmx_source))
    ctx.setdefault("csrf", state.signer.csrf_token(request.state.voter_id))
    ctx.setdefault("md", render_markdown)
    response: HTMLResponse = state.templates.TemplateResponse(
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
