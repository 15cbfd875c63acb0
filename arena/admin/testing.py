"""The admin's connection test: one short prompt, then time to first token, speed and the answer,
or the upstream's refusal explained in words a person can act on."""

from __future__ import annotations

import dataclasses
import os
import time
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlparse

from arena.admin.describe import stored_key
from arena.admin.presets import MODEL_STUDIO_REGIONS
from arena.core.rules import Timeouts
from arena.core.settings import Settings
from arena.images.sample import SAMPLE_QUESTION, sample_image_uri
from arena.store.endpoints import resolve_api_key
from arena.store.keys import KeyCipher, redact
from arena.store.tables import Endpoint
from arena.upstream.client import CallParams, Delta, build_messages, make_client, user_content
from arena.upstream.failures import UpstreamError
from arena.upstream.stream import stream_answer

TEST_PROMPT = "Say hello and name one colour, in one short sentence."
TEST_MAX_TOKENS = 64


@dataclass(frozen=True)
class KeyInfo:
    """Where the key for a call comes from (for the explanation; never the key)."""

    env: str | None
    env_set: bool
    stored: bool
    stored_unreadable: bool = False


@dataclass(frozen=True)
class ProbeResult:
    """What the upstream said to the test prompt."""

    ok: bool
    model: str
    base_url: str
    answer: str = ""
    reasoning: str | None = None
    finish_reason: str | None = None
    ttft_ms: float | None = None
    total_ms: float | None = None
    completion_tokens: int | None = None
    tokens_estimated: bool = False
    tokens_per_second: float | None = None
    error: str | None = None  # the upstream error's kind
    message: str | None = None  # what went wrong, in words
    hint: str | None = None  # what to do about it
    status: int | None = None
    detail: str | None = None  # the upstream's own words, keys scrubbed
    image: bool = False  # the test sent the built-in image (a vision endpoint)

    def public(self) -> dict[str, Any]:
        """JSON for the API."""
        return asdict(self)


def probe_timeouts(settings: Settings) -> Timeouts:
    """The arena's limits, shortened: a test should answer within a minute, and never retry."""
    t = settings.timeouts
    return dataclasses.replace(
        t,
        first_token=min(t.first_token, 30.0),
        stall=min(t.stall, 30.0),
        total=min(t.total, 60.0),
        retries=0,
    )


def probe_params(endpoint: Endpoint, cipher: KeyCipher | None) -> tuple[CallParams, KeyInfo]:
    """How to call an endpoint for a test (the key rule of battles), and where its key is from."""
    stored = stored_key(endpoint, cipher)
    key = KeyInfo(
        env=endpoint.api_key_env,
        env_set=bool(endpoint.api_key_env and os.environ.get(endpoint.api_key_env)),
        stored=stored is not None,
        stored_unreadable=bool(endpoint.api_key_encrypted) and stored is None,
    )
    params = CallParams(
        base_url=endpoint.base_url,
        model=endpoint.model,
        api_key=resolve_api_key(endpoint, lambda _token: stored or ""),
        temperature=endpoint.temperature,
        top_p=endpoint.top_p,
        max_tokens=endpoint.max_tokens,
        system_prompt=endpoint.system_prompt,
        extra_body=dict(endpoint.extra_body or {}),
    )
    return params, key


def _host(base_url: str) -> str:
    return urlparse(base_url).netloc or base_url


def _key_words(key: KeyInfo) -> str:
    if key.stored_unreadable:
        return (
            "The stored key cannot be decrypted with the current ARENA_SECRET_KEY (was the secret "
            "changed?): type the key again."
        )
    if key.env and key.env_set:
        return f"The key comes from ${key.env}: check its value in the arena's environment."
    if key.env and key.stored:
        return f"${key.env} is not set, so the stored (typed) key was sent: check or re-type it."
    if key.env:
        return (
            f"${key.env} is not set in the arena's environment, so no real key was sent: export "
            f"{key.env}=… and restart the arena (or type a key in the admin)."
        )
    if key.stored:
        return "The stored (typed) key was sent: check it, or type it again."
    return (
        "No key is configured: set api_key_env to the name of an environment variable that "
        "holds the key, or type the key in the admin."
    )


def explain(err: UpstreamError, *, base_url: str, model: str, key: KeyInfo) -> tuple[str, str]:
    """(what went wrong, what to do) for an upstream error."""
    host = _host(base_url)
    status = f" (HTTP {err.status})" if err.status else ""
    if err.kind == "auth":
        if "dashscope" in host:
            return (
                f"Model Studio refused the API key{status}: a wrong key or a key from another "
                "region.",
                f"{MODEL_STUDIO_REGIONS} This endpoint uses {host}. {_key_words(key)}",
            )
        return f"The server refused the API key{status}: wrong, expired or missing.", _key_words(
            key
        )
    if err.kind == "not_found":
        return (
            f"Unknown model id {model!r}{status}: {host} does not serve it.",
            f"Check the id against GET {base_url}/models. If the base URL is wrong (it should end "
            "in the API root such as /v1 or /compatible-mode/v1), every request lands on a path "
            "that does not exist.",
        )
    if err.kind == "connection":
        return (
            f"Unreachable host: nothing answered at {host}.",
            "Is the server running and listening on that host and port? For a local server "
            "check that it has started; for a remote one, the address, DNS, firewall or proxy.",
        )
    if err.kind in ("timeout", "stalled"):
        what = "to start answering" if err.kind == "timeout" else "between two parts of its answer"
        return (
            f"The server at {host} took too long {what}.",
            "It is reachable but slow or overloaded (a local model still loading, or a long "
            "thinking phase); try again, or raise first_token_timeout.",
        )
    if err.kind == "rate_limited":
        return (
            f"Rate-limited{status}: the provider refuses more requests for now.",
            "Wait and try again, or check the account's quota and billing.",
        )
    if err.kind == "content_filter":
        return (
            "The provider's content filter refused the test prompt.",
            "Try the model with a battle prompt; the test prompt is harmless, so check the "
            "account's moderation settings.",
        )
    if err.kind in ("protocol", "incomplete"):
        return (
            f"The server at {host} did not answer like an OpenAI-compatible chat endpoint.",
            "Check that base_url points at the API root (…/v1), not at a web page or another API.",
        )
    hint = "The provider's message is below."
    if err.status == 400:
        hint = (
            "The request was refused as invalid: a parameter may be unsupported by this model "
            "(check extra_body, max_tokens, temperature, top_p)."
        )
    return f"The server answered with an error{status}.", hint


async def probe_endpoint(
    params: CallParams,
    timeouts: Timeouts,
    *,
    key: KeyInfo,
    prompt: str = TEST_PROMPT,
    image: bool = False,
) -> ProbeResult:
    """Send one short prompt and report timing and the answer, or the error explained. With
    `image` (a vision endpoint) the prompt asks about a small built-in image sent with it."""
    params = CallParams(
        base_url=params.base_url,
        model=params.model,
        api_key=params.api_key,
        temperature=params.temperature,
        top_p=params.top_p,
        max_tokens=min(params.max_tokens or TEST_MAX_TOKENS, TEST_MAX_TOKENS),
        system_prompt=params.system_prompt,
        extra_body=params.extra_body,
    )
    secrets = [params.api_key, os.environ.get(key.env or "", "")]
    client = make_client(params.base_url, params.api_key, timeouts)
    started = time.monotonic()
    first: float | None = None
    content: list[str] = []
    reasoning: list[str] = []
    chunks = 0
    try:
        ask = user_content(SAMPLE_QUESTION, [sample_image_uri()]) if image else prompt
        messages = build_messages(params.system_prompt, [], ask)
        async for item in stream_answer(client, params, messages, timeouts):
            if isinstance(item, Delta):
                first = first or time.monotonic()
                chunks += 1
                (content if item.kind == "content" else reasoning).append(item.text)
                continue
            end = time.monotonic()
            tokens = item.completion_tokens
            estimated = tokens is None
            tokens = chunks if tokens is None else tokens
            span = end - (first or end)
            return ProbeResult(
                ok=True,
                model=params.model,
                base_url=params.base_url,
                answer=redact("".join(content), secrets),
                reasoning=redact("".join(reasoning), secrets) or None,
                finish_reason=item.finish_reason,
                ttft_ms=round(((first or end) - started) * 1000, 1),
                total_ms=round((end - started) * 1000, 1),
                completion_tokens=tokens,
                tokens_estimated=estimated,
                tokens_per_second=round(tokens / span, 1) if span > 0 and tokens else None,
                image=image,
            )
        raise UpstreamError("incomplete", "the stream ended without a finish")
    except UpstreamError as err:
        message, hint = explain(err, base_url=params.base_url, model=params.model, key=key)
        return ProbeResult(
            ok=False,
            model=params.model,
            base_url=params.base_url,
            answer=redact("".join(content), secrets),
            error=err.kind,
            message=message,
            hint=hint,
            status=err.status,
            detail=redact(err.detail, secrets)[:2000],
            ttft_ms=round((first - started) * 1000, 1) if first else None,
            image=image,
        )
    finally:
        await client.close()
