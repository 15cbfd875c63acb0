"""Pages and fragments: a template with the common context; errors as htmx fragments."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from arena.core.errors import BattleError
from arena.votes.limits import RateLimited
from arena.web.assets import script_tags
from arena.web.deps import is_htmx
from arena.web.error_text import translate
from arena.web.i18n import _, ngettext
from arena.web.markdown import render_markdown
from arena.web.state import arena_state


def render(request: Request, name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
    """A template with the page's common context."""
    state = arena_state(request.app)
    ctx.setdefault("scripts", script_tags(state.settings.htmx_source))
    ctx.setdefault("csrf", state.signer.csrf_token(request.state.voter_id))
    ctx.setdefault("md", render_markdown)
    ctx.setdefault("max_images", state.settings.max_images_per_turn)
    ctx.setdefault("max_image_bytes", state.settings.max_image_bytes)
    response: HTMLResponse = state.templates.TemplateResponse(
        request, name, ctx, status_code=status
    )
    # The page's language comes from the switch's cookie or Accept-Language.
    response.headers["Vary"] = "HX-Request, Accept-Language, Cookie"
    return response


def wait_in_words(seconds: int) -> str:
    """A wait as a person says it: "40 seconds", "3 minutes", "1 hour 5 minutes" (rounded up)."""

    def second(n: int) -> str:
        return ngettext("%(num)d second", "%(num)d seconds", n) % {"num": n}

    def minute(n: int) -> str:
        return ngettext("%(num)d minute", "%(num)d minutes", n) % {"num": n}

    def hour(n: int) -> str:
        return ngettext("%(num)d hour", "%(num)d hours", n) % {"num": n}

    if seconds < 60:
        return second(max(1, seconds))
    minutes = -(-seconds // 60)
    if minutes < 60:
        return minute(minutes)
    hours, rest = divmod(minutes, 60)
    return hour(hours) + (f" {minute(rest)}" if rest else "")


def _message(exc: BattleError) -> str:
    """The voter's message; a rate limit says when to try again, from its Retry-After."""
    detail = translate(exc.detail)
    if isinstance(exc, RateLimited):
        # The limit's own text ends in a vague "later"; the voter gets the actual wait instead.
        detail = detail.removesuffix(_("Try again later.")).rstrip()
        wait = wait_in_words(exc.retry_after)
        return _("%(refusal)s Try again in %(wait)s.") % {"refusal": detail, "wait": wait}
    return detail


def error_fragment(request: Request, exc: BattleError) -> HTMLResponse:
    """A 4xx answer that htmx swaps in (and a whole page without htmx)."""
    message = _message(exc)
    if not is_htmx(request):
        response = render(request, "error.html", status=exc.status, message=message)
        if isinstance(exc, RateLimited):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response
    response = render(request, "_error.html", status=exc.status, message=message)
    if isinstance(exc, RateLimited):
        response.headers["Retry-After"] = str(exc.retry_after)
    # Whatever the form targeted, the message goes to the page's flash area.
    response.headers["HX-Retarget"] = "#flash"
    response.headers["HX-Reswap"] = "innerHTML"
    return response
