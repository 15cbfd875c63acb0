"""The one CSRF check of the HTML forms, the voter's and the admin's: an unsafe request comes from
our own origin and carries the token signed for its voter or admin session."""

from __future__ import annotations

from urllib.parse import urlparse

from fastapi import Depends, Request

from arena.core.errors import BattleError
from arena.core.signing import Signer
from arena.web.deps import SignerDep, VoterDep


async def check_csrf(
    request: Request, signer: Signer, subject: str, *, error: type[BattleError], expired: str
) -> None:
    """Raise `error` (403) for a cross-site request or a missing or wrong token."""
    origin = request.headers.get("origin") or request.headers.get("referer")
    if origin and urlparse(origin).netloc not in ("", request.headers.get("host", "")):
        raise error(403, "Cross-site request refused.")
    token = request.headers.get("x-csrf-token")
    if token is None:
        # A plain (non-htmx) form sends the token as a field; Starlette caches the parsed form.
        value = (await request.form()).get("csrf_token")
        token = value if isinstance(value, str) else None
    if not signer.check_csrf(subject, token):
        raise error(403, expired)


async def csrf_protect(request: Request, signer: SignerDep, voter: VoterDep) -> None:
    """Unsafe HTML requests must come from our own origin and carry the voter's CSRF token."""
    await check_csrf(
        request,
        signer,
        voter,
        error=BattleError,
        expired="The form has expired or did not come from this site; reload.",
    )


CSRF = [Depends(csrf_protect)]
