"""A request id for every request: the client's `X-Request-ID` when it is sane (what a proxy such
as nginx sends), else a new one; echoed in the response header, in logs and on error pages."""

from __future__ import annotations

import re

from asgi_correlation_id import CorrelationIdMiddleware
from asgi_correlation_id.context import correlation_id
from starlette.types import ASGIApp

HEADER = "X-Request-ID"
SANE = re.compile(r"[A-Za-z0-9._:-]{8,64}")


def sane(value: str) -> bool:
    """Short, printable, no spaces: safe to echo and to write in a log line."""
    return SANE.fullmatch(value) is not None


def current() -> str | None:
    """This request's id (in templates: `request_id()`)."""
    return correlation_id.get()


class RequestIds(CorrelationIdMiddleware):
    """asgi-correlation-id's middleware with the arena's header and check."""

    def __init__(self, app: ASGIApp) -> None:
        super().__init__(app, header_name=HEADER, validator=sane)
