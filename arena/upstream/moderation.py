"""An optional moderation hook: an OpenAI-compatible `/moderations` endpoint checks the prompt and
both answers. Off by default. When the service fails, the policy decides: "open" lets the text
through, "closed" refuses it."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import Any, Literal

import openai

from arena.core.rules import ModerationConfig

log = logging.getLogger("arena.upstream.moderation")
Verdict = Literal["ok", "flagged", "unavailable"]


class Moderator:
    """Calls the moderation endpoint; one client for the app's lifetime."""

    def __init__(self, config: ModerationConfig) -> None:
        self.config = config
        key = os.environ.get(config.api_key_env or "", "") or "sk-no-key"
        self.client = openai.AsyncOpenAI(
            base_url=config.base_url, api_key=key, max_retries=1, timeout=config.timeout
        )

    async def verdict(self, texts: list[str], images: Sequence[str] = ()) -> Verdict:
        """Whether any of the texts (or images, as data: URIs) is flagged, or the service
        could not say. Images go as multi-modal input, as omni-moderation models take them."""
        texts = [t for t in texts if t.strip()]
        if not texts and not images:
            return "ok"
        payload: Any = texts
        if images:
            payload = [{"type": "text", "text": t} for t in texts] + [
                {"type": "image_url", "image_url": {"url": url}} for url in images
            ]
        try:
            result = await self.client.moderations.create(model=self.config.model, input=payload)
        except (openai.APIError, ValueError) as exc:
            log.warning("moderation endpoint failed: %s", exc)
            return "unavailable"
        return "flagged" if any(r.flagged for r in result.results) else "ok"

    def allows(self, verdict: Verdict) -> bool:
        """Whether text with this verdict may go on, under the failure policy."""
        return verdict == "ok" or (verdict == "unavailable" and self.config.policy == "open")

    async def close(self) -> None:
        """Close the client's connections."""
        await self.client.close()
