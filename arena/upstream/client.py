"""Talking to an OpenAI-compatible endpoint: its client, call parameters, the messages sent, and
the pieces (`Delta`, `Finish`) an answer comes back in."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import openai
from openai import AsyncOpenAI

from arena.core.rules import Timeouts


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
    # The endpoint's arena name, for metrics (not sent upstream).
    name: str = field(default="", compare=False)


class EndpointSettings(Protocol):
    """What a call reads of an endpoint (the store's `Endpoint` has it)."""

    name: str
    base_url: str
    model: str
    temperature: float | None
    top_p: float | None
    max_tokens: int | None
    system_prompt: str | None
    extra_body: dict[str, Any]


def call_params(e: EndpointSettings, api_key: str, default_max_tokens: int) -> CallParams:
    """How to call an endpoint: its settings, its key, the arena's answer length by default."""
    return CallParams(
        base_url=e.base_url,
        model=e.model,
        api_key=api_key,
        temperature=e.temperature,
        top_p=e.top_p,
        max_tokens=e.max_tokens or default_max_tokens,
        system_prompt=e.system_prompt,
        extra_body=dict(e.extra_body or {}),
        name=e.name,
    )


def make_client(base_url: str, api_key: str, timeouts: Timeouts) -> AsyncOpenAI:
    """One client (and connection pool) per endpoint, on the SDK's aiohttp transport.

    Reading a stream costs much less CPU there than on the default httpx transport (see
    docs/deployment.md), and a worker reads hundreds of streams at once.
    """
    return AsyncOpenAI(
        base_url=base_url,
        api_key=api_key,
        max_retries=timeouts.retries,
        timeout=openai.Timeout(timeouts.total, connect=timeouts.connect, read=timeouts.stall),
        http_client=openai.DefaultAioHttpClient(),
    )


# A user turn's content: plain text, or text and images as OpenAI-style content parts.
UserContent = str | list[dict[str, Any]]
Message = dict[str, Any]


def user_content(text: str, image_urls: Sequence[str] = ()) -> UserContent:
    """A user turn as sent: the text alone, or a text part followed by one part per image."""
    if not image_urls:
        return text
    parts: list[dict[str, Any]] = [{"type": "text", "text": text}]
    parts.extend({"type": "image_url", "image_url": {"url": url}} for url in image_urls)
    return parts


def build_messages(
    system_prompt: str | None, history: Sequence[tuple[UserContent, str]], prompt: UserContent
) -> list[Message]:
    """The conversation to send: system prompt, earlier (prompt, answer) pairs, the new prompt.
    A prompt with images is a list of content parts (`user_content`), on every later turn too."""
    messages: list[Message] = []
    if system_prompt:
        messages.append({"role": "system", "content": system_prompt})
    for user, assistant in history:
        messages.append({"role": "user", "content": user})
        messages.append({"role": "assistant", "content": assistant})
    messages.append({"role": "user", "content": prompt})
    return messages


def has_images(messages: Sequence[Message]) -> bool:
    """Whether a conversation carries an image part (then only vision models may answer it)."""
    return any(isinstance(m.get("content"), list) for m in messages)


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
    notes: tuple[str, ...] = ()  # what the arena changed in the text, for the answer's record
    truncated: bool = False  # the arena cut the answer at its length limit
