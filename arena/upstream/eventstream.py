"""Reading an upstream's server-sent events: bounded lines and events, JSON payloads."""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
from collections.abc import AsyncIterator
from typing import Any

import httpx2
import openai

from arena.upstream.failures import UpstreamError

MAX_EVENT = 16 << 20  # bytes in one line, or one event, of an upstream's event stream


async def sse_json(response: httpx2.Response) -> AsyncIterator[Any]:
    """The JSON data of each event of an OpenAI-style stream, up to `data: [DONE]`.

    The SDK's event decoder, on the SDK's response: what it does, for a third of the CPU (it was
    a quarter of everything a worker spent per token). As the SSE standard says, lines end in
    LF, CRLF or CR (also when a read splits a CRLF), an event's `data:` lines are joined with LF,
    and comments, `event:`, `id:` and `retry:` fields are skipped. As the SDK does, data with an
    `error` member raises `openai.APIError`, and a broken connection or a read timeout raises the
    SDK's exceptions; after `[DONE]` the rest of the body is read briefly so that the
    connection can be used again.
    """
    rest: list[bytes] = []  # an unfinished line, in the pieces it came in
    rest_size = 0
    data: list[bytes] = []  # the current event's data lines
    size = 0  # their bytes
    reads = response.aiter_bytes()
    try:
        async for read in reads:
            if b"\n" not in read and b"\r" not in read:  # more of an unfinished line
                rest.append(read)
                rest_size += len(read)
                if rest_size > MAX_EVENT:
                    raise UpstreamError("protocol", f"a line of over {MAX_EVENT >> 20} MiB")
                continue
            chunk = b"".join((*rest, read)) if rest else read
            if b"\r" in chunk:
                held = b"\r" if chunk.endswith(b"\r") else b""  # maybe half of a CRLF
                chunk = chunk[: len(chunk) - len(held)]
                chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n") + held
            lines = chunk.split(b"\n")
            last = lines.pop()
            rest, rest_size = ([last], len(last)) if last else ([], 0)
            for line in lines:
                if line.startswith(b"data:"):
                    value = line[5:]
                    data.append(value[1:] if value.startswith(b" ") else value)
                    size += len(value)
                    if size > MAX_EVENT:
                        raise UpstreamError("protocol", f"an event of over {MAX_EVENT >> 20} MiB")
                elif not line and data:  # a blank line ends an event
                    payload = data[0] if len(data) == 1 else b"\n".join(data)
                    data, size = [], 0
                    if payload.startswith(b"[DONE]"):
                        await _drain(reads)
                        return
                    yield _event_data(payload, response)
        line = b"".join(rest).removesuffix(b"\r")
        if line.startswith(b"data:"):  # a last event without its blank line
            value = line[5:]
            data.append(value[1:] if value.startswith(b" ") else value)
        if data and not data[0].startswith(b"[DONE]"):
            yield _event_data(b"\n".join(data), response)
    except httpx2.TimeoutException as exc:
        raise openai.APITimeoutError(request=response.request) from exc
    except (httpx2.RequestError, ssl.SSLError) as exc:
        raise openai.APIConnectionError(request=response.request) from exc


def _event_data(payload: bytes, response: httpx2.Response) -> Any:
    try:
        data = json.loads(payload)
    except RecursionError as exc:  # nesting deeper than the parser goes: not an answer
        raise UpstreamError("protocol", "an event with JSON nested too deeply") from exc
    if isinstance(data, dict) and data.get("error"):  # e.g. Model Studio's output inspection
        error = data["error"]
        message = error.get("message") if isinstance(error, dict) else None
        if not isinstance(message, str) or not message:
            message = "An error occurred during streaming"
        raise openai.APIError(message, request=response.request, body=error)
    return data


async def _drain(reads: AsyncIterator[bytes]) -> None:
    """Read what follows `[DONE]` (usually just the body's end) for at most 0.1 s."""
    with contextlib.suppress(TimeoutError, httpx2.RequestError, ssl.SSLError):
        async with asyncio.timeout(0.1):
            async for _ in reads:
                pass
