"""What a turn run needs from the worker that runs it: the database, the upstream clients, the
generation rules, the moderation hook, and who to tell when it ends."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from openai import AsyncOpenAI
from sqlalchemy import Engine

from arena.core.rules import GenerationRules, Timeouts
from arena.store.endpoints import resolve_api_key
from arena.store.tables import Endpoint
from arena.upstream.client import CallParams, call_params, make_client
from arena.upstream.moderation import Moderator


class Upstreams:
    """The worker's upstream clients, one per (base URL, key), and how to call each endpoint."""

    def __init__(
        self,
        timeouts: Timeouts,
        *,
        default_max_tokens: int,
        decrypt: Callable[[str], str] | None = None,
    ) -> None:
        self.timeouts = timeouts
        self.default_max_tokens = default_max_tokens
        self.decrypt = decrypt
        self.clients: dict[tuple[str, str], AsyncOpenAI] = {}

    def client(self, params: CallParams) -> AsyncOpenAI:
        """The pooled client for an endpoint."""
        key = (params.base_url, params.api_key)
        if key not in self.clients:
            self.clients[key] = make_client(params.base_url, params.api_key, self.timeouts)
        return self.clients[key]

    def params_for(self, e: Endpoint) -> CallParams:
        """How to call an endpoint."""
        return call_params(e, resolve_api_key(e, self.decrypt), self.default_max_tokens)

    async def close(self) -> None:
        """Close every pooled client."""
        for client in self.clients.values():
            await client.close()
        self.clients.clear()


def _nobody(battle_id: str) -> None:
    """The default end-of-run listener."""


@dataclass
class RunContext:
    """Everything a `TurnRun` uses beyond its own turn."""

    engine: Engine
    rules: GenerationRules
    upstreams: Upstreams
    moderator: Moderator | None = None
    rng: random.Random = field(default_factory=random.Random)
    on_end: Callable[[str], None] = _nobody  # told the battle id when a run ends
