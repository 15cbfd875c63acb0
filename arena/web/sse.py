"""Server-sent events: the JSON API's events and the HTML page's htmx fragments."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable

from arena.battles.events import Event, Ping, SideDone, TextEvent, TurnEnd

SSE_HEADERS = {
    "Cache-Control": "no-cache, no-transform",
    "X-Accel-Buffering": "no",  # nginx: do not buffer the stream
}


def frame(event: str, data: str) -> bytes:
    """One SSE frame; every line of `data` gets its own `data:` field."""
    lines = data.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return (f"event: {event}\n" + "".join(f"data: {ln}\n" for ln in lines) + "\n").encode()


PING = b": ping\n\n"


def json_frame(ev: Event) -> bytes:
    """The JSON API's encoding of an event."""
    if isinstance(ev, TextEvent):
        payload = {"side": ev.side, "kind": ev.kind, "text": ev.text, "replace": ev.replace}
        return frame("delta", json.dumps(payload, ensure_ascii=False))
    if isinstance(ev, SideDone):
        payload2 = {"side": ev.side, "status": ev.status, "error": ev.error}
        return frame("done", json.dumps(payload2))
    if isinstance(ev, TurnEnd):
        return frame("end", json.dumps({"status": ev.status}))
    return PING


async def encode(
    batches: AsyncIterator[list[Event]], encoder: Callable[[Event], bytes]
) -> AsyncIterator[bytes]:
    """The encoded stream of a turn's events: one write per batch."""
    async for batch in batches:
        yield b"".join(PING if isinstance(ev, Ping) else encoder(ev) for ev in batch)
