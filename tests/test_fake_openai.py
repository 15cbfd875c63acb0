"""The fake OpenAI upstream, driven by the real ``openai.AsyncOpenAI`` client."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, Literal

_ROOT = Path(__file__).resolve().parents[1]
if str(_ROOT) not in sys.path:  # tests/ need not be a package; make `tests.*` importable
    sys.path.insert(0, str(_ROOT))

import httpx  # noqa: E402
import openai  # noqa: E402
import pytest  # noqa: E402
from openai import AsyncOpenAI  # noqa: E402
from openai.types.chat import ChatCompletionChunk, ChatCompletionMessageParam  # noqa: E402

from tests.fake_openai import (  # noqa: E402
    Behavior,
    FakeOpenAI,
    ReasoningField,
    closed_port_url,
    default_reply,
    running_fake_openai,
    tokenize,
)

MODEL = "upstream-secret-model-7b"
MSGS: list[ChatCompletionMessageParam] = [{"role": "user", "content": "hello there"}]


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeOpenAI]:
    with running_fake_openai(models=[MODEL]) as server:
        yield server


@pytest.fixture(autouse=True)
def _reset(fake: FakeOpenAI) -> None:
    fake.reset()


@pytest.fixture
async def client(fake: FakeOpenAI) -> AsyncIterator[AsyncOpenAI]:
    c = AsyncOpenAI(base_url=fake.base_url, api_key="sk-test", max_retries=0, timeout=5.0)
    try:
        yield c
    finally:
        await c.close()


async def collect(client: AsyncOpenAI, model: str = MODEL, **kw: Any) -> list[ChatCompletionChunk]:
    stream = await client.chat.completions.create(model=model, messages=MSGS, stream=True, **kw)
    return [chunk async for chunk in stream]


def text_of(chunks: list[ChatCompletionChunk]) -> str:
    return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)


def test_tokenize_round_trips() -> None:
    for s in ["", "a", "  a b  ", "Hello, world!\n\nNext line. ", "x\n", "   "]:
        assert "".join(tokenize(s)) == s
    assert tokenize("one two three") == ["one", " two", " three"]


def test_default_reply_does_not_name_model() -> None:
    r = default_reply(MSGS)
    assert r.startswith("Echo: hello there")
    assert MODEL not in r


async def test_stream_format_and_usage(fake: FakeOpenAI, client: AsyncOpenAI) -> None:
    chunks = await collect(client, stream_options={"include_usage": True})
    first, final, usage = chunks[0], chunks[-2], chunks[-1]
    assert first.object == "chat.completion.chunk" and first.model == MODEL
    assert first.choices[0].delta.role == "assistant"
    assert len({c.id for c in chunks}) == 1
    assert final.choices[0].finish_reason == "stop"
    assert usage.choices == [] and usage.usage is not None
    assert usage.usage.completion_tokens == len(tokenize(default_reply(MSGS)))
    assert text_of(chunks) == default_reply(MSGS)
    assert MODEL not in text_of(chunks)
    assert len(chunks) > 10  # one token per chunk by default
    rec = fake.chat_requests[-1]
    assert rec.model == MODEL and rec.messages == MSGS and rec.stream
    assert rec.api_key == "sk-test" and rec.headers["authorization"] == "Bearer sk-test"
    assert rec.outcome == "completed" and rec.status == 200
    assert fake.active_streams == 0 and fake.closed_early == 0


async def test_stream_without_usage_and_tokens_per_chunk(
    fake: FakeOpenAI, client: AsyncOpenAI
) -> None:
    fake.set_behavior(MODEL, Behavior(reply="a b c d e", tokens_per_chunk=2, no_usage=True))
    chunks = await collect(client, stream_options={"include_usage": True})
    assert [c.choices[0].delta.content for c in chunks[1:-1]] == ["a b", " c d", " e"]
    assert all(c.usage is None for c in chunks)


async def test_non_stream(fake: FakeOpenAI, client: AsyncOpenAI) -> None:
    fake.set_behavior(MODEL, Behavior(reply=lambda msgs: f"n={len(msgs)}"))
    res = await client.chat.completions.create(model=MODEL, messages=MSGS)
    assert res.object == "chat.completion"
    assert res.choices[0].message.content == "n=1"
    assert res.choices[0].finish_reason == "stop"
    assert res.usage is not None and res.usage.completion_tokens == 1


async def test_max_tokens_length_and_finish_override(fake: FakeOpenAI, client: AsyncOpenAI) -> None:
    fake.set_behavior(MODEL, Behavior(reply="one two three four five"))
    chunks = await collect(client, max_tokens=2)
    assert text_of(chunks) == "one two"
    assert chunks[-1].choices[0].finish_reason == "length"
    fake.update_behavior(MODEL, finish_reason="content_filter")
    chunks = await collect(client)
    assert chunks[-1].choices[0].finish_reason == "content_filter"


@pytest.mark.parametrize("fieldname", ["reasoning_content", "reasoning"])
async def test_reasoning_fields(
    fake: FakeOpenAI, client: AsyncOpenAI, fieldname: ReasoningField
) -> None:
    fake.set_behavior(
        MODEL,
        Behavior(reply="The answer.", reasoning="Let me think.", reasoning_field=fieldname),
    )
    chunks = await collect(client)
    extra = [(c.choices[0].delta.model_extra or {}).get(fieldname) for c in chunks if c.choices]
    assert "".join(x for x in extra if x) == "Let me think."
    assert text_of(chunks) == "The answer."
    res = await client.chat.completions.create(model=MODEL, messages=MSGS)
    assert (res.choices[0].message.model_extra or {})[fieldname] == "Let me think."
    assert res.choices[0].message.content == "The answer."


async def test_think_tags(fake: FakeOpenAI, client: AsyncOpenAI) -> None:
    fake.set_behavior(
        MODEL, Behavior(reply="Yes.", reasoning="Hmm ok", reasoning_field="think_tags")
    )
    chunks = await collect(client)
    assert text_of(chunks) == "<think>Hmm ok</think>\n\nYes."


@pytest.mark.parametrize(
    ("status", "exc"),
    [
        (400, openai.BadRequestError),
        (403, openai.PermissionDeniedError),
        (429, openai.RateLimitError),
        (500, openai.InternalServerError),
        (503, openai.InternalServerError),
    ],
)
async def test_status_faults(
    fake: FakeOpenAI, client: AsyncOpenAI, status: int, exc: type[openai.APIStatusError]
) -> None:
    fake.set_behavior(MODEL, Behavior(status=status, retry_after=0.01))
    with pytest.raises(exc) as info:
        await collect(client)
    assert info.value.status_code == status
    assert isinstance(info.value.body, dict) and "message" in info.value.body
    assert info.value.response.headers["retry-after"] == "0.01"


async def test_fail_times_then_retry_succeeds(fake: FakeOpenAI) -> None:
    fake.set_behavior(MODEL, Behavior(status=429, retry_after=0.01, fail_times=2, reply="ok"))
    async with AsyncOpenAI(base_url=fake.base_url, api_key="k", max_retries=3) as c:
        stream = await c.chat.completions.create(model=MODEL, messages=MSGS, stream=True)
        chunks = [ch async for ch in stream]
    assert text_of(chunks) == "ok"
    assert [r.status for r in fake.requests_for(MODEL)] == [429, 429, 200]


async def test_custom_error_body(fake: FakeOpenAI, client: AsyncOpenAI) -> None:
    body = {"error": {"message": "nope", "type": "x", "code": "y"}}
    fake.set_behavior(MODEL, Behavior(status=418, error_body=body))
    with pytest.raises(openai.APIStatusError) as info:
        await collect(client)
    assert info.value.status_code == 418 and info.value.code == "y"


async def test_content_filter(fake: FakeOpenAI, client: AsyncOpenAI) -> None:
    fake.set_behavior(MODEL, Behavior(content_filter=True))
    with pytest.raises(openai.BadRequestError) as info:
        await collect(client)
    assert info.value.code == "data_inspection_failed"
    assert info.value.type == "data_inspection_failed"
    assert "inappropriate content" in info.value.message


async def test_output_filter_mid_stream(fake: FakeOpenAI, client: AsyncOpenAI) -> None:
    fake.set_behavior(MODEL, Behavior(reply="a b c d", output_filter_after=2))
    seen: list[ChatCompletionChunk] = []
    with pytest.raises(openai.APIError, match="Output data may contain"):
        stream = await client.chat.completions.create(model=MODEL, messages=MSGS, stream=True)
        async for ch in stream:
            seen.append(ch)
    assert text_of(seen) == "a b"


async def test_api_key_required(fake: FakeOpenAI, client: AsyncOpenAI) -> None:
    fake.set_behavior(MODEL, Behavior(require_api_key="sk-right-key"))
    with pytest.raises(openai.AuthenticationError) as info:
        await collect(client)
    assert info.value.status_code == 401 and info.value.code == "invalid_api_key"
    async with AsyncOpenAI(base_url=fake.base_url, api_key="sk-right-key", max_retries=0) as c:
        res = await c.chat.completions.create(model=MODEL, messages=MSGS)
    assert res.choices[0].message.content


async def test_models_and_strict_models(fake: FakeOpenAI, client: AsyncOpenAI) -> None:
    fake.set_behavior("other-model", Behavior())
    ids = [m.id async for m in client.models.list()]
    assert ids == [MODEL, "other-model"]
    await collect(client, model="never-registered")  # accept_any_model by default
    fake.strict_models = True
    try:
        with pytest.raises(openai.NotFoundError) as info:
            await collect(client, model="never-registered")
        assert info.value.code == "model_not_found"
        assert "`never-registered` does not exist" in info.value.message
        await collect(client)  # a configured model still works
    finally:
        fake.strict_models = False


async def test_closed_port_connection_error() -> None:
    async with AsyncOpenAI(base_url=closed_port_url(), api_key="k", max_retries=0) as c:
        with pytest.raises(openai.APIConnectionError):
            await c.chat.completions.create(model=MODEL, messages=MSGS, stream=True)


async def test_stall_detected_by_client_timeout(fake: FakeOpenAI) -> None:
    fake.set_behavior(MODEL, Behavior(reply="a b c", stall_after=1))
    got: list[ChatCompletionChunk] = []
    async with AsyncOpenAI(
        base_url=fake.base_url, api_key="k", max_retries=0, timeout=openai.Timeout(5, read=0.3)
    ) as c:
        with pytest.raises(openai.APITimeoutError):
            stream = await c.chat.completions.create(model=MODEL, messages=MSGS, stream=True)
            async for ch in stream:
                got.append(ch)
    assert text_of(got) == "a"
    await fake.wait_for_async(lambda: fake.closed_early == 1 and fake.active_streams == 0)
    assert fake.chat_requests[-1].outcome == "disconnected"


async def test_stall_non_stream(fake: FakeOpenAI) -> None:
    fake.set_behavior(MODEL, Behavior(stall_after=0))
    async with AsyncOpenAI(base_url=fake.base_url, api_key="k", max_retries=0, timeout=0.3) as c:
        with pytest.raises(openai.APITimeoutError):
            await c.chat.completions.create(model=MODEL, messages=MSGS)
    await fake.wait_for_async(lambda: fake.closed_early == 1)


async def test_client_close_counts_closed_early(fake: FakeOpenAI, client: AsyncOpenAI) -> None:
    fake.set_behavior(MODEL, Behavior(token_delay=0.02))
    fake.set_behavior("b", Behavior(token_delay=0.02))
    s1 = await client.chat.completions.create(model=MODEL, messages=MSGS, stream=True)
    s2 = await client.chat.completions.create(model="b", messages=MSGS, stream=True)
    await s1.__anext__()
    await s2.__anext__()
    assert fake.active_streams == 2
    await s1.close()
    await s2.close()
    await fake.wait_for_async(lambda: fake.closed_early == 2 and fake.active_streams == 0)
    assert {r.outcome for r in fake.chat_requests} == {"disconnected"}


async def test_cut_clean_ends_without_finish(fake: FakeOpenAI, client: AsyncOpenAI) -> None:
    fake.set_behavior(MODEL, Behavior(reply="a b c d", cut_after=2))
    chunks = await collect(client)
    assert text_of(chunks) == "a b"
    assert all(c.choices[0].finish_reason is None for c in chunks)


async def test_cut_after_all_content(fake: FakeOpenAI, client: AsyncOpenAI) -> None:
    fake.set_behavior(MODEL, Behavior(reply="a b", cut_after=99))
    chunks = await collect(client)
    assert text_of(chunks) == "a b"
    assert all(c.choices[0].finish_reason is None for c in chunks)


async def test_cut_abort_is_connection_error(fake: FakeOpenAI, client: AsyncOpenAI) -> None:
    fake.set_behavior(MODEL, Behavior(reply="a b c d", cut_after=2, cut_mode="abort"))
    got: list[ChatCompletionChunk] = []
    with pytest.raises(openai.APIConnectionError):
        stream = await client.chat.completions.create(model=MODEL, messages=MSGS, stream=True)
        async for ch in stream:
            got.append(ch)
    assert text_of(got) == "a b"


@pytest.mark.parametrize("then", ["continue", "close"])
async def test_malformed_chunk(
    fake: FakeOpenAI, client: AsyncOpenAI, then: Literal["continue", "close"]
) -> None:
    fake.set_behavior(MODEL, Behavior(reply="a b c", malformed_after=1, malformed_then=then))
    got: list[ChatCompletionChunk] = []
    with pytest.raises(json.JSONDecodeError):
        stream = await client.chat.completions.create(model=MODEL, messages=MSGS, stream=True)
        async for ch in stream:
            got.append(ch)
    assert text_of(got) == "a"


async def test_malformed_raw_sse(fake: FakeOpenAI) -> None:
    fake.set_behavior(MODEL, Behavior(reply="a b", malformed_after=1))
    body = {"model": MODEL, "messages": MSGS, "stream": True}
    async with httpx.AsyncClient() as h:
        r = await h.post(f"{fake.base_url}/chat/completions", json=body)
    lines = [ln for ln in r.text.split("\n\n") if ln]
    assert "data: {not json" in lines
    assert lines[-1] == "data: [DONE]"  # "continue" keeps streaming afterwards


async def test_plain_json_for_stream_request(fake: FakeOpenAI, client: AsyncOpenAI) -> None:
    fake.set_behavior(MODEL, Behavior(reply="whole", plain_json=True))
    stream = await client.chat.completions.create(model=MODEL, messages=MSGS, stream=True)
    assert stream.response.headers["content-type"] == "application/json"
    assert [c async for c in stream] == []  # no SSE events at all
    body = {"model": MODEL, "messages": MSGS, "stream": True}
    async with httpx.AsyncClient() as h:
        r = await h.post(f"{fake.base_url}/chat/completions", json=body)
    assert r.json()["choices"][0]["message"]["content"] == "whole"


async def test_token_timing(fake: FakeOpenAI, client: AsyncOpenAI) -> None:
    fake.set_behavior(MODEL, Behavior(reply="a b c d e f", first_token_delay=0.1, token_delay=0.02))
    t0 = time.monotonic()
    stream = await client.chat.completions.create(model=MODEL, messages=MSGS, stream=True)
    stamps: list[float] = []
    async for ch in stream:
        if ch.choices and ch.choices[0].delta.content:
            stamps.append(time.monotonic() - t0)
    assert stamps[0] >= 0.09
    assert stamps[-1] - stamps[0] >= 5 * 0.02 * 0.9


async def test_moderations(fake: FakeOpenAI, client: AsyncOpenAI) -> None:
    res = await client.moderations.create(input="a perfectly nice text")
    assert res.results[0].flagged is False
    fake.set_moderation(["badword"], category="hate")
    res = await client.moderations.create(input=["ok", "has BadWord inside"])
    assert [r.flagged for r in res.results] == [False, True]
    assert res.results[1].categories.hate is True
    fake.set_moderation([], status=500)
    with pytest.raises(openai.InternalServerError):
        await client.moderations.create(input="x")


async def test_concurrent_streams(fake: FakeOpenAI, client: AsyncOpenAI) -> None:
    fake.set_default(Behavior(reply=" ".join(["w"] * 200), token_delay=0.001))
    results = await asyncio.gather(*(collect(client, model=f"m{i}") for i in range(20)))
    assert all(len(r) == 202 for r in results)
    assert fake.completed_streams == 20 and fake.active_streams == 0


def test_thread_safe_behavior_change_and_wait_for(fake: FakeOpenAI) -> None:
    fake.set_behavior(MODEL, Behavior(reply="x"))
    assert fake.behavior_for(MODEL).reply == "x"
    assert fake.behavior_for("unknown") == Behavior()
    fake.reset()
    assert fake.behavior_for(MODEL) == Behavior() and fake.requests == []
    with pytest.raises(TimeoutError):
        fake.wait_for(lambda: False, timeout=0.02)


def test_subprocess_mode() -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fake_openai", "--port", "0", "--token-delay", "0.001"],
        cwd=_ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        base_url = proc.stdout.readline().strip()
        assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/v1")
        r = httpx.post(
            f"{base_url}/chat/completions",
            json={"model": "x", "messages": MSGS, "stream": True},
            timeout=5,
        )
        assert r.text.endswith("data: [DONE]\n\n")
        httpx.post(f"{base_url[:-3]}/_fake/behavior", json={"model": "x", "status": 503})
        r = httpx.post(f"{base_url}/chat/completions", json={"model": "x", "messages": MSGS})
        assert r.status_code == 503
        assert httpx.get(f"{base_url[:-3]}/_fake/stats").json()["requests"] == 2
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0
        if proc.stdout is not None:
            proc.stdout.close()


def test_stop_with_stalled_stream_is_quick() -> None:
    with running_fake_openai() as server:
        server.set_default(Behavior(stall_after=0))
        body = {"model": "m", "messages": MSGS, "stream": True}

        def hang() -> None:
            try:
                with httpx.stream("POST", f"{server.base_url}/chat/completions", json=body) as r:
                    for _ in r.iter_bytes():
                        pass
            except httpx.HTTPError:
                pass

        import threading

        t = threading.Thread(target=hang, daemon=True)
        t.start()
        server.wait_for(lambda: server.active_streams == 1)
        t0 = time.monotonic()
    assert time.monotonic() - t0 < 3
    t.join(5)
