"""Starting and stopping the LLM tagger's loop in a worker of the arena."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine

from arena.core.settings import Settings
from arena.votes.llm_tagger import EndpointTagger, tagger_call
from arena.votes.tag_worker import TaggerRules, tag_forever

log = logging.getLogger("arena.votes.tagger")


def tagger_rules(settings: Settings) -> TaggerRules | None:
    """The tagger's settings, or None when no tagger is configured."""
    if not settings.category_tagger:
        return None
    return TaggerRules(
        name=settings.category_tagger,
        threshold=settings.hard_prompt_threshold,
        concurrency=settings.tagger_concurrency,
        retries=settings.tagger_retries,
        timeout=settings.tagger_timeout,
        poll_seconds=settings.tagger_poll_seconds,
    )


@dataclass
class RunningTagger:
    """The loop of one worker and the client it calls."""

    task: asyncio.Task[None]
    call: EndpointTagger

    async def stop(self) -> None:
        """Cancel the loop and close the client."""
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
        await self.call.aclose()


def start_tagger(
    engine: Engine, settings: Settings, decrypt: Callable[[str], str]
) -> RunningTagger | None:
    """Run the tagger in the background when `category_tagger` names an endpoint."""
    rules = tagger_rules(settings)
    if rules is None:
        return None
    try:
        call = tagger_call(engine, rules.name, settings, decrypt)
    except LookupError as exc:
        log.warning("%s; votes keep the rules' categories", exc)
        return None
    return RunningTagger(asyncio.create_task(tag_forever(engine, call, rules)), call)
