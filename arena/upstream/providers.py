"""Streaming chat completions from OpenAI-compatible endpoints, with reasoning kept apart.

Reasoning arrives three ways: `delta.reasoning_content` (Qwen, DeepSeek), `delta.reasoning` (vLLM,
OpenRouter, Ollama) or inline `<think>…</think>` at the start of the content. All three come out of
`stream_answer` as `Delta("reasoning", …)`; only content is ever sent back in the history.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Literal

import aiohttp
import httpx2
import openai
from openai import AsyncOpenAI

from arena.core.rules import Timeouts

THINK_OPEN, THINK_CLOSE = "<think>", "</think>"
MAX_EVENT = 16 << 20  # bytes in one line, or one event, of an upstream's event stream


@dataclass(frozen=True, slots=True)
class Delta:
    """A piece of the answer (`content`) or of the model's reasoning (`reasoning`)."""

    kind: Literal["content", "reasoning"]
    text: str


@dataclass(frozen=True, slots=True)
class Finish:
    """The end of a complete answer, with what the upstream said about it."""

    finish_reason: str
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


@dataclass(frozen=True)
class CallParams:
    """Everything needed to call one endpoint."""

    base_url: str
    model: str
    api_key: str
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    system_prompt: str | None = None
    extra_body: dict[str, Any] = field(default_factory=dict)


class UpstreamError(Exception):
    """An answer that could not be completed. `kind` is for people; `detail` only for admins."""

    def __init__(self, kind: str, detail: str, *, status: int | None = None) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail
        self.status = status


VOTER_MESSAGES = {
    "auth": "The model's provider refused the request (authentication).",
    "not_found": "The model's provider does not know this model.",
    "rate_limited": "The model's provider is rate-limiting requests.",
    "timeout": "The model took too long to answer.",
    "stalled": "The model stopped sending its answer.",
    "connection": "The model's server could not be reached.",
    "content_filter": "The model's provider refused to answer this prompt (content filter).",
    "incomplete": "The answer ended before it was complete.",
    "protocol": "The model's server sent a malformed answer.",
    "server": "The model's server had an error.",
    "cancelled": "Generation was stopped.",
    "interrupted": "Generation was interrupted.",
}


def voter_message(kind: str) -> str:
    """A neutral message for the voter: it never names the model or quotes the upstream."""
    return VOTER_MESSAGES.get(kind, "The model could not answer.")


class ThinkSplitter:
    """Splits inline `<think>…</think>` at the start of a stream into reasoning and content."""

    def __init__(self) -> None:
        self._buf = ""
        self._state: Literal["start", "think", "content"] = "start"

    def feed(self, text: str) -> list[Delta]:
        """The deltas that `text` completes; a partial tag is held back until it is decided."""
        out: list[Delta] = []
        self._buf += text
        while self._buf:
            if self._state == "content":
                out.append(Delta("content", self._buf))
                self._buf = ""
            elif self._state == "start":
                stripped = self._buf.lstrip()
                if stripped.startswith(THINK_OPEN):
                    self._buf = stripped[len(THINK_OPEN) :]
                    self._state = "think"
                elif THINK_OPEN.startswith(stripped):
                    break  # could still become "<think>"
                else:
                    self._state = "content"
            else:
                end = self._buf.find(THINK_CLOSE)
                if end >= 0:
                    if end:
                        out.append(Delta("reasoning", self._buf[:end]))
                    self._buf = self._buf[end + len(THINK_CLOSE) :].lstrip("\n")
                    self._state = "content"
                    continue
                keep = _partial_suffix(self._buf, THINK_CLOSE)
                if len(self._buf) > keep:
                    out.append(Delta("reasoning", self._buf[: len(self._buf) - keep]))
                self._buf = self._buf[len(self._buf) - keep :]
                break
        return out

    def flush(self) -> list[Delta]:
        """Whatever is still held back at the end of the stream."""
        rest, self._buf = self._buf, ""
        if not rest:
            return []
        return [Delta("reasoning" if self._state == "think" else "content", rest)]


def _partial_suffix(text: str, tag: str) -> int:
    """Length of the longest suffix of `text` that is a proper prefix of `tag`."""
    for n in range(min(len(tag) - 1, len(text)), 0, -1):
        if text.endswith(tag[:n]):
            return n
    return 0


def make_client(base_url: str, api_key: str, timeouts: Timeouts) -> AsyncOpenAI:
    """One client (and connection pool) per endpoint, on the SDK's aiohttp transport.

    Reading a stream costs a fifth of the CPU it does on the default httpx transport (measured
    with `benchmarks/stream_overhead.py`), and a worker reads hundreds of streams at once.
    """
    return AsyncOpenAI(
        base_url=base_url,
        api_key=api_key,
        max_retries=timeouts.retries,
        timeout=openai.Timeout(timeouts.total, connect=timeouts.connect, read=timeouts.stall),
        http_client=openai.DefaultAioHttpClient(),
    )


def build_messages(
    system_prompt: str | None, history: list[tuple[str, str]], prompt: str
) -> list[dict[str, str]]:
    """The conversation to send: system prompt, earlier (prompt, answer) pairs, the new prompt."""
    messages: list[dict[str, str]] = []
    if system_prompt:
        messages.append({"role": "system", "content": system_prompt})
    for user, assistant in history:
        messages.append({"role": "user", "content": user})
        messages.append({"role": "assistant", "content": assistant})
    messages.append({"role": "user", "content": prompt})
    return messages


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception and what caused it, outermost first."""
    out: list[BaseException] = []
    link: BaseException | None = exc
    while link is not None and link not in out:
        out.append(link)
        link = link.__cause__ or link.__context__
    return out


def _root(exc: BaseException) -> BaseException:
    return _chain(exc)[-1]


def timed_out(exc: BaseException) -> bool:
    """Whether a timeout error is one. The SDK's aiohttp transport reports a refused or dropped
    connection as `ConnectTimeout` too; only a clock that ran out is a timeout here."""
    chain = _chain(exc)
    if any(isinstance(e, TimeoutError) for e in chain):
        return True
    return not any(isinstance(e, aiohttp.ClientError) for e in chain)


def classify(exc: BaseException) -> UpstreamError:
    """Turn whatever the client raised into an UpstreamError with a kind a person can act on."""
    if isinstance(exc, UpstreamError):
        return exc
    if isinstance(exc, openai.APIError) and not isinstance(exc, openai.APIStatusError):
        # An error event inside a stream, e.g. Model Studio flagging the *output* mid-answer.
        body = exc.body if isinstance(exc.body, dict) else {}
        code = str(body.get("code") or body.get("type") or "").lower()
        if "data_inspection" in code or "datainspection" in code or "content_filter" in code:
            return UpstreamError("content_filter", f"stream error: {exc.message}")
    if isinstance(exc, openai.APIStatusError):
        body = exc.body if isinstance(exc.body, dict) else {}
        code = str(body.get("code") or body.get("type") or "").lower()
        detail = f"HTTP {exc.status_code}: {exc.message}"
        if "data_inspection" in code or "datainspection" in code or "content_filter" in code:
            return UpstreamError("content_filter", detail, status=exc.status_code)
        kind = {401: "auth", 403: "auth", 404: "not_found", 429: "rate_limited"}.get(
            exc.status_code, "server"
        )
        if exc.status_code == 400 and "inappropriate" in exc.message.lower():
            kind = "content_filter"
        return UpstreamError(kind, detail, status=exc.status_code)
    if isinstance(exc, openai.APITimeoutError | TimeoutError) and timed_out(exc):
        return UpstreamError("timeout", f"timed out: {exc!r}")
    if isinstance(exc, openai.APITimeoutError):
        return UpstreamError("connection", f"connection failed: {_root(exc)!r}")
    if isinstance(exc, openai.APIConnectionError):
        return UpstreamError("connection", f"connection failed: {exc.__cause__ or exc!r}")
    if isinstance(exc, ValueError | KeyError | TypeError | AttributeError):
        return UpstreamError("protocol", f"malformed response: {exc!r}")
    return UpstreamError("server", f"{type(exc).__name__}: {exc}")


async def stream_answer(
    client: AsyncOpenAI, params: CallParams, messages: list[dict[str, str]], timeouts: Timeouts
) -> AsyncIterator[Delta | Finish]:
    """Deltas of one answer, then exactly one Finish; UpstreamError when it cannot be completed."""
    body: dict[str, Any] = {
        "model": params.model,
        "messages": messages,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    if params.temperature is not None:
        body["temperature"] = params.temperature
    if params.top_p is not None:
        body["top_p"] = params.top_p
    if params.max_tokens is not None:
        body["max_tokens"] = params.max_tokens
    body.update(params.extra_body)  # as the SDK's `extra_body` does: merged into the body

    started = time.monotonic()
    splitter = ThinkSplitter()
    finish_reason: str | None = None
    usage: Any = None
    got_token = False
    try:
        async with asyncio.timeout(timeouts.total), contextlib.AsyncExitStack() as stack:
            # The SDK's own request path (auth, retries, timeouts, errors) with the body as we
            # built it; its response's events are read by `sse_json`. `chat.completions.create`
            # would re-validate the parameters and build a pydantic model for every chunk, which
            # cost more CPU than everything else the arena does per request and per token.
            stream = await asyncio.wait_for(
                client.post(
                    "/chat/completions",
                    cast_to=object,
                    body=body,
                    stream=True,
                    stream_cls=openai.AsyncStream[object],
                ),
                timeouts.first_token,
            )
            stack.push_async_callback(stream.close)
            if stream.response.headers.get("content-type", "").startswith("application/json"):
                # Some servers answer a streaming request with one plain completion: accept it.
                for item in _plain_completion(json.loads(await stream.response.aread())):
                    yield item
                return
            iterator = sse_json(stream.response).__aiter__()
            while True:
                try:
                    if got_token:
                        chunk = await iterator.__anext__()
                    else:
                        left = timeouts.first_token - (time.monotonic() - started)
                        chunk = await asyncio.wait_for(iterator.__anext__(), max(left, 0.001))
                except StopAsyncIteration:
                    break
                if not isinstance(chunk, dict):
                    raise UpstreamError("protocol", f"malformed chunk: {chunk!r:.200}")
                if chunk.get("usage"):
                    usage = chunk["usage"]
                for choice in (chunk.get("choices") or [])[:1]:
                    delta = choice.get("delta") or {}
                    reasoning = delta.get("reasoning_content") or delta.get("reasoning")
                    if reasoning:
                        got_token = True
                        yield Delta("reasoning", str(reasoning))
                    content = delta.get("content")
                    if content:
                        got_token = True
                        for piece in splitter.feed(str(content)):
                            yield piece
                    if choice.get("finish_reason"):
                        finish_reason = str(choice["finish_reason"])
    except TimeoutError as exc:
        kind = "stalled" if got_token else "timeout"
        raise UpstreamError(kind, f"{kind} after {time.monotonic() - started:.1f}s") from exc
    except openai.APITimeoutError as exc:
        if not timed_out(exc):
            raise classify(exc) from exc
        kind = "stalled" if got_token else "timeout"
        raise UpstreamError(kind, f"{kind}: {exc!r}") from exc
    except (openai.APIError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise classify(exc) from exc
    for piece in splitter.flush():
        yield piece
    if finish_reason is None:
        raise UpstreamError("incomplete", "stream ended without a finish_reason")
    if finish_reason == "content_filter":
        raise UpstreamError("content_filter", "finish_reason=content_filter")
    yield Finish(finish_reason, *_usage_counts(usage))


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
    data = json.loads(payload)
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


def _usage_counts(usage: Any) -> tuple[int | None, int | None]:
    """Prompt and completion tokens of a usage report, if it has well-formed ones."""
    if not isinstance(usage, dict):
        return None, None
    prompt, completion = usage.get("prompt_tokens"), usage.get("completion_tokens")
    return (
        prompt if isinstance(prompt, int) else None,
        completion if isinstance(completion, int) else None,
    )


def _plain_completion(body: Any) -> list[Delta | Finish]:
    """The deltas and finish of a non-streaming chat.completion body."""
    choice = body["choices"][0]
    message = choice.get("message") or {}
    out: list[Delta | Finish] = []
    reasoning = message.get("reasoning_content") or message.get("reasoning")
    if reasoning:
        out.append(Delta("reasoning", str(reasoning)))
    splitter = ThinkSplitter()
    out += [*splitter.feed(str(message.get("content") or "")), *splitter.flush()]
    finish_reason = str(choice.get("finish_reason") or "stop")
    out.append(Finish(finish_reason, *_usage_counts(body.get("usage"))))
    return out
