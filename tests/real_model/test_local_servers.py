"""Smoke test of arena.local_models against two real llama.cpp servers running Gemma 3 270M."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from arena.cli.local_models import DEFAULT_SPECS, LocalServers, specs_differ

pytestmark = pytest.mark.real_model


@pytest.fixture(scope="module")
def servers() -> Iterator[LocalServers]:
    """Run the two default local servers for the whole module."""
    with LocalServers(DEFAULT_SPECS, host="127.0.0.1") as running:
        yield running


def test_endpoints_have_arena_fields_and_differ(servers: LocalServers) -> None:
    """Both endpoints carry the arena fields and really differ in configuration."""
    endpoints = servers.endpoints()
    assert [e["name"] for e in endpoints] == ["gemma3-270m-warm", "gemma3-270m-cool"]
    for endpoint in endpoints:
        assert endpoint["base_url"].startswith("http://127.0.0.1:")
        assert endpoint["base_url"].endswith("/v1")
        assert endpoint["api_key_env"] is None
        assert endpoint["weight"] == 1.0
        assert endpoint["enabled"] is True
        assert endpoint["organization"] == "Google (local llama.cpp)"
        assert endpoint["license"] == "Gemma"
        assert isinstance(endpoint["extra_body"]["seed"], int)
    warm, cool = endpoints
    assert warm["base_url"] != cool["base_url"]
    assert warm["model"] != cool["model"]
    assert warm["temperature"] != cool["temperature"]
    assert warm["system_prompt"] != cool["system_prompt"]
    assert warm["extra_body"]["seed"] != cool["extra_body"]["seed"]
    assert specs_differ(DEFAULT_SPECS)


async def _stream(endpoint: dict[str, Any], prompt: str) -> tuple[str, str | None, float]:
    """Stream one chat completion the way the arena does; return text, finish_reason, TTFT."""
    from openai import AsyncOpenAI

    messages: list[dict[str, str]] = []
    if endpoint["system_prompt"]:
        messages.append({"role": "system", "content": endpoint["system_prompt"]})
    messages.append({"role": "user", "content": prompt})
    client = AsyncOpenAI(base_url=endpoint["base_url"], api_key="not-needed", max_retries=0)
    text: list[str] = []
    finish: str | None = None
    first: float | None = None
    start = time.perf_counter()
    try:
        stream = await client.chat.completions.create(
            model=endpoint["model"],
            messages=messages,  # type: ignore[arg-type]
            stream=True,
            max_tokens=32,
            temperature=endpoint["temperature"],
            top_p=endpoint["top_p"],
            extra_body=endpoint["extra_body"],
            timeout=120.0,
        )
        async for chunk in stream:
            for choice in chunk.choices:
                if choice.delta.content:
                    if first is None:
                        first = time.perf_counter() - start
                    text.append(choice.delta.content)
                if choice.finish_reason:
                    finish = choice.finish_reason
    finally:
        await client.close()
    return "".join(text), finish, first if first is not None else float("nan")


@pytest.mark.parametrize("index", [0, 1], ids=["warm", "cool"])
async def test_streams_a_completion(servers: LocalServers, index: int) -> None:
    """Each side streams non-empty content and ends with a finish_reason."""
    endpoint = servers.endpoints()[index]
    text, finish, ttft = await _stream(endpoint, "Name three colours of the rainbow.")
    assert text.strip(), f"{endpoint['name']} streamed no content"
    assert finish in {"stop", "length"}, finish
    assert ttft < 60.0
