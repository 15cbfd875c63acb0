"""Streaming chat completions from OpenAI-compatible endpoints, with reasoning kept apart.

Reasoning arrives three ways: `delta.reasoning_content` (Qwen, DeepSeek), `delta.reasoning` (vLLM,
OpenRouter, Ollama) or inline `<think>…</think>` at the start of the content. All three come out of
`stream_answer` as `Delta("reasoning", …)`; only content is ever sent back in the history.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import openai
from openai import AsyncOpenAI

from arena.core.rules import Timeouts
from arena.upstream.client import CallParams, Delta, Finish, Message
from arena.upstream.eventstream import sse_json
from arena.upstream.failures import UpstreamError, classify, timed_out
from arena.upstream.guard import guarded
from arena.upstream.reasoning import ThinkSplitter

# Chunks in a row with no text and no finish reason (empty choices, empty deltas) after which a
# stream is taken as broken: a server that only ever sends those would otherwise hold the side
# open until the whole-answer timeout, showing nobody anything.
MAX_IDLE_CHUNKS = 2000


def stream_answer(
    client: AsyncOpenAI,
    params: CallParams,
    messages: list[Message],
    timeouts: Timeouts,
    *,
    max_chars: int | None = None,
) -> AsyncIterator[Delta | Finish]:
    """Deltas of one answer, then exactly one Finish; UpstreamError when it cannot be completed.

    Every piece passes `guarded` on its way out: this is where a model's text enters the arena.
    """
    return guarded(_stream(client, params, messages, timeouts), params.api_key, max_chars)


async def _stream(
    client: AsyncOpenAI, params: CallParams, messages: list[Message], timeouts: Timeouts
) -> AsyncIterator[Delta | Finish]:
    """The pieces of one answer as the upstream sent them."""
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
    idle = 0  # chunks in a row that carried no text and no finish
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
                for item in _plain_completion(_loads(await stream.response.aread())):
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
                idle = idle + 1 if not _carries_text(chunk) else 0
                if idle > MAX_IDLE_CHUNKS:
                    raise UpstreamError("protocol", f"{idle} chunks in a row without any text")
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
    except (openai.APIError, ValueError, LookupError, TypeError, AttributeError) as exc:
        raise classify(exc) from exc
    for piece in splitter.flush():
        yield piece
    if finish_reason is None:
        raise UpstreamError("incomplete", "stream ended without a finish_reason")
    if finish_reason == "content_filter":
        raise UpstreamError("content_filter", "finish_reason=content_filter")
    yield Finish(finish_reason, *_usage_counts(usage))


def _loads(payload: bytes) -> Any:
    """JSON from the upstream; nesting too deep to parse is a malformed reply, not a crash."""
    try:
        return json.loads(payload)
    except RecursionError as exc:
        raise UpstreamError("protocol", "JSON nested too deeply") from exc


def _carries_text(chunk: dict[str, Any]) -> bool:
    """Whether a chunk has text or a finish reason (a usage-only chunk has neither)."""
    choices = chunk.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return False
    choice = choices[0]
    delta = choice.get("delta") or {}
    return bool(
        choice.get("finish_reason")
        or (
            isinstance(delta, dict)
            and (delta.get("content") or delta.get("reasoning_content") or delta.get("reasoning"))
        )
    )


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
    """The deltas and finish of a non-streaming chat.completion body.

    Only a body with a first choice whose message has content or reasoning is an answer; any
    other shape (no choices, a null or absent message) is the server's fault, not an empty
    answer.
    """
    choices = body.get("choices") if isinstance(body, dict) else None
    choice = choices[0] if isinstance(choices, list) and choices else None
    message = choice.get("message") if isinstance(choice, dict) else None
    if not isinstance(choice, dict) or not isinstance(message, dict):
        raise UpstreamError("protocol", f"a completion without a message: {body!r:.200}")
    content = message.get("content")
    reasoning = message.get("reasoning_content") or message.get("reasoning")
    if not isinstance(content, str) and not reasoning:
        raise UpstreamError("protocol", f"a message without content: {message!r:.200}")
    out: list[Delta | Finish] = []
    if reasoning:
        out.append(Delta("reasoning", str(reasoning)))
    splitter = ThinkSplitter()
    out += [*splitter.feed(content if isinstance(content, str) else ""), *splitter.flush()]
    finish_reason = str(choice.get("finish_reason") or "stop")
    out.append(Finish(finish_reason, *_usage_counts(body.get("usage"))))
    return out
