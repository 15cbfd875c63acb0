"""Calling a judge endpoint: one pooled client per (base URL, key), the answer read whole.

The call goes through `stream_answer`, the arena's one door for model text, so a judge's reply is
made storable and scrubbed of the judge's own key exactly like a contestant's answer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from openai import AsyncOpenAI

from arena.core.rules import Timeouts
from arena.store.endpoints import resolve_api_key
from arena.store.tables import Endpoint
from arena.upstream.client import CallParams, Delta, Finish, Message, call_params, make_client
from arena.upstream.stream import stream_answer


@dataclass(frozen=True)
class Reply:
    """What a judge (or a model answering a prompt set) said."""

    content: str
    prompt_tokens: int | None
    completion_tokens: int | None


class Callers:
    """The upstream clients of the judging (or prompt-set) work of one process."""

    def __init__(
        self,
        timeouts: Timeouts,
        *,
        default_max_tokens: int = 2048,
        decrypt: Callable[[str], str] | None = None,
        max_chars: int = 200_000,
    ) -> None:
        self.timeouts = timeouts
        self.default_max_tokens = default_max_tokens
        self.decrypt = decrypt
        self.max_chars = max_chars
        self.clients: dict[tuple[str, str], AsyncOpenAI] = {}

    def params(self, e: Endpoint) -> CallParams:
        """How to call an endpoint."""
        return call_params(e, resolve_api_key(e, self.decrypt), self.default_max_tokens)

    async def ask(self, e: Endpoint, messages: list[Message]) -> Reply:
        """The endpoint's whole reply to these messages; UpstreamError when it fails."""
        params = self.params(e)
        key = (params.base_url, params.api_key)
        if key not in self.clients:
            self.clients[key] = make_client(params.base_url, params.api_key, self.timeouts)
        parts: list[str] = []
        finish: Finish | None = None
        async for piece in stream_answer(
            self.clients[key], params, messages, self.timeouts, max_chars=self.max_chars
        ):
            if isinstance(piece, Delta) and piece.kind == "content":
                parts.append(piece.text)
            elif isinstance(piece, Finish):
                finish = piece
        return Reply(
            "".join(parts),
            finish.prompt_tokens if finish else None,
            finish.completion_tokens if finish else None,
        )

    async def close(self) -> None:
        """Close every pooled client."""
        for client in self.clients.values():
            await client.close()
        self.clients.clear()
