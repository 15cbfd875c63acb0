"""A ceiling on every request body: 413 with a JSON detail, before or while it is read.

Pure ASGI, so it sees the body as it arrives: a declared Content-Length past the limit is refused
without reading a byte, and a chunked body is counted chunk by chunk and refused at the limit,
so no route (nor FastAPI's body parsing) ever buffers more than `max_request_bytes`.
"""

from __future__ import annotations

import json
import re

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def too_large_message(limit: int) -> str:
    """The refusal's sentence."""
    return f"The request body is larger than this arena accepts ({limit:,} bytes)."


class BodyTooLarge(HTTPException):
    """Raised from `receive` once the body passes the limit; FastAPI's body parsing lets an
    HTTPException through, so the route answers 413 instead of a parse error."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, too_large_message(limit))


# The routes that take images (a prompt's data: URIs): POST /battles, /battles/{id}/turns,
# and the same under /api. Only these read bodies past `limit`, up to `image_limit`.
IMAGE_ROUTES = re.compile(r"^(/api)?/battles(/[^/]+/turns)?/?$")


class BodyLimit:
    """Refuses request bodies larger than `limit` bytes (`image_limit` on the routes that take
    images) with 413."""

    def __init__(self, app: ASGIApp, limit: int, image_limit: int | None = None) -> None:
        self.app = app
        self.base_limit = limit
        self.image_limit = max(limit, image_limit or limit)

    def limit_for(self, scope: Scope) -> int:
        """The body limit of this request's route."""
        if scope.get("method") == "POST" and IMAGE_ROUTES.match(str(scope.get("path", ""))):
            return self.image_limit
        return self.base_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await self._refuse(send, limit)
            return
        seen = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except BodyTooLarge:
            # Read outside a route (a middleware or a mount): answer here if nothing was sent.
            if started:
                raise
            await self._refuse(send, limit)

    async def _refuse(self, send: Send, limit: int) -> None:
        body = json.dumps({"detail": too_large_message(limit)}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _content_length(scope: Scope) -> int | None:
    """The declared body size, or None when absent or unreadable (then chunks are counted)."""
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
