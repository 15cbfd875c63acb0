"""The language switch: a plain link on every page that sets a cookie and comes back."""

from __future__ import annotations

from urllib.parse import urlparse

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from arena.web.i18n import COOKIE, COOKIE_MAX_AGE, LANGUAGES

router = APIRouter(include_in_schema=False)


def _local(url: str | None) -> str | None:
    """A path on this site to return to (never another site, never the switch itself)."""
    parsed = urlparse(url or "")
    if parsed.scheme or parsed.netloc or not parsed.path.startswith("/"):
        return None
    if parsed.path.startswith("//") or parsed.path.startswith("/language/"):
        return None
    return parsed.path + (f"?{parsed.query}" if parsed.query else "")


def return_to(request: Request, next: str | None) -> str:
    """Where the switch sends the reader back: the page they were on.

    The Referer comes first: after htmx has pushed a new address (a battle's), it is the page
    the reader sees, while the link's `next` was written when the page was first rendered.
    """
    referer = urlparse(request.headers.get("referer", ""))
    if referer.netloc and referer.netloc == request.headers.get("host"):
        back = _local(referer.path + (f"?{referer.query}" if referer.query else ""))
        if back:
            return back
    return _local(next) or "/"


@router.get("/language/{tag}")
async def choose_language(request: Request, tag: str, next: str | None = None) -> Response:
    """Remember the reader's language and show the page again in it."""
    if tag not in LANGUAGES:
        raise HTTPException(404, f"No such language; choose one of {', '.join(LANGUAGES)}.")
    response = RedirectResponse(return_to(request, next), status_code=303)
    response.set_cookie(
        COOKIE,
        tag,
        max_age=COOKIE_MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return response
