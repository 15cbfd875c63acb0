"""The optional LLM tagger: a configured endpoint classifies a prompt and answers strict JSON.

The answer must be exactly one JSON object of booleans (a Markdown code fence around it is
tolerated, nothing else): the four capabilities, and LMArena's seven hard-prompt criteria. Any
other shape is refused as malformed, and the caller keeps the rules' tags.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from openai import AsyncOpenAI
from pydantic import BaseModel, ConfigDict, StrictBool, ValidationError
from sqlalchemy import Engine
from sqlmodel import select

from arena.core.rules import Timeouts
from arena.core.settings import Settings
from arena.store.endpoints import resolve_api_key
from arena.store.engine import session_scope
from arena.store.tables import Endpoint
from arena.upstream.client import make_client
from arena.votes.category_bits import bits_of, names_of

#: Sends the classification messages to the tagger and returns its reply's text.
TaggerCall = Callable[[list[dict[str, str]]], Awaitable[str]]

INSTRUCTIONS = """You classify a user's prompt to a chatbot. Answer with one JSON object and \
nothing else, with exactly these keys, each true or false:
{"math": ..., "code": ..., "creative_writing": ..., "instruction_following": ...,
 "criteria": {"specificity": ..., "domain_knowledge": ..., "complexity": ...,
              "problem_solving": ..., "creativity": ..., "technical_accuracy": ...,
              "real_world": ...}}
math: the prompt asks to solve, compute or prove something mathematical (formulas, equations, \
word problems). code: it is about programming (writing, fixing or explaining code, tools, \
systems). creative_writing: it asks for fiction, poetry, lyrics, a scene or role-play. \
instruction_following: it sets explicit constraints on the answer's format, length, wording or \
style. The criteria (LMArena's hard prompts): specificity (asks for a specific output), \
domain_knowledge (needs a specialist's knowledge), complexity (several parts or variables), \
problem_solving (the answer must work something out), creativity (needs a novel approach), \
technical_accuracy (precision matters), real_world (a practical situation). \
Numbers alone (a recipe, a date, a port) do not make math."""


class Criteria(BaseModel):
    """LMArena's seven criteria, each strictly a boolean."""

    model_config = ConfigDict(extra="forbid")
    specificity: StrictBool
    domain_knowledge: StrictBool
    complexity: StrictBool
    problem_solving: StrictBool
    creativity: StrictBool
    technical_accuracy: StrictBool
    real_world: StrictBool


class TaggerReply(BaseModel):
    """The one shape of answer the tagger may give."""

    model_config = ConfigDict(extra="forbid")
    math: StrictBool
    code: StrictBool
    creative_writing: StrictBool
    instruction_following: StrictBool
    criteria: Criteria


class MalformedAnswer(ValueError):
    """The tagger's reply is not the JSON object asked for."""


@dataclass(frozen=True)
class TaggerAnswer:
    """What the tagger decided for one prompt."""

    bits: int  # capability bits only (arena/votes/category_bits.py)
    criteria: dict[str, bool]

    @property
    def categories(self) -> list[str]:
        """The capability names set."""
        return names_of(self.bits)


_FENCE = re.compile(r"^```(?:json)?\s*\n(.*)\n```$", re.DOTALL)


def parse_reply(text: str, threshold: int) -> TaggerAnswer:
    """The tagger's reply checked against the shape; MalformedAnswer otherwise."""
    body = text.strip()
    if fenced := _FENCE.match(body):
        body = fenced.group(1).strip()
    try:
        reply = TaggerReply.model_validate(json.loads(body))
    except (json.JSONDecodeError, ValidationError) as exc:
        raise MalformedAnswer(f"the tagger's answer is not the JSON asked for: {exc}") from None
    criteria = reply.criteria.model_dump()
    names = [
        name
        for name, on in (
            ("math", reply.math),
            ("code", reply.code),
            ("creative-writing", reply.creative_writing),
            ("instruction-following", reply.instruction_following),
            ("hard-prompts", sum(criteria.values()) >= threshold),
        )
        if on
    ]
    return TaggerAnswer(bits_of(names), criteria)


def messages_for(prompt: str) -> list[dict[str, str]]:
    """The classification request for one prompt."""
    return [
        {"role": "system", "content": INSTRUCTIONS},
        {"role": "user", "content": f"The prompt to classify:\n<<<\n{prompt[:8000]}\n>>>"},
    ]


async def classify(call: TaggerCall, prompt: str, threshold: int) -> TaggerAnswer:
    """Ask the tagger about one prompt (errors and malformed answers raise)."""
    return parse_reply(await call(messages_for(prompt)), threshold)


class EndpointTagger:
    """A TaggerCall to one endpoint, with its own connection pool (close it when done)."""

    def __init__(self, name: str, client: AsyncOpenAI, model: str, extra: dict[str, Any]):
        self.name, self._client, self._model, self._extra = name, client, model, extra

    async def __call__(self, messages: list[dict[str, str]]) -> str:
        """The tagger's reply to the messages."""
        reply = await self._client.chat.completions.create(
            model=self._model,
            messages=messages,  # type: ignore[arg-type]
            temperature=0,
            max_tokens=300,
            extra_body=self._extra or None,
        )
        content = reply.choices[0].message.content if reply.choices else None
        return content or ""

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.close()


def tagger_call(
    engine: Engine,
    name: str,
    settings: Settings,
    decrypt: Callable[[str], str] | None = None,
) -> EndpointTagger:
    """A call to the endpoint named `name` (LookupError when there is none)."""
    with session_scope(engine) as session:
        endpoint = session.exec(select(Endpoint).where(Endpoint.name == name)).first()
    if endpoint is None:
        raise LookupError(f"category_tagger names no endpoint: {name!r}")
    timeouts = Timeouts(
        connect=min(settings.connect_timeout, settings.tagger_timeout),
        first_token=settings.tagger_timeout,
        stall=settings.tagger_timeout,
        total=settings.tagger_timeout,
        retries=0,  # the work list retries, with its own count
    )
    client = make_client(endpoint.base_url, resolve_api_key(endpoint, decrypt), timeouts)
    return EndpointTagger(name, client, endpoint.model, dict(endpoint.extra_body or {}))
