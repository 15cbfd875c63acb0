"""The model-endpoint service: what the admin API, the admin pages and the CLI do, one
transaction per call, over the engine.

Routes only parse the request, call one of these and render the result; the session, the vote
counts and the key scrubbing are assembled here once, so the three front ends cannot drift.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Engine
from sqlmodel import Session

from arena.admin import AdminError, crud, drafts, parsing, review
from arena.admin.describe import all_keys, describe, stored_key
from arena.admin.forms import endpoint_values
from arena.admin.testing import KeyInfo, ProbeResult, probe_params
from arena.core.rules import EndpointRules, SamplingRules, Timeouts
from arena.matchmaking.pairing import matchmaking_inputs
from arena.matchmaking.policy import NotEnoughModels, draw_probabilities
from arena.store.endpoint_models import EndpointPublic, Removal
from arena.store.endpoint_urls import origin
from arena.store.engine import session_scope
from arena.store.keys import KeyCipher
from arena.store.tables import Endpoint
from arena.upstream.client import CallParams


class ModelRow(EndpointPublic):
    """A model on the admin's list: the public fields and its chance of being drawn next."""

    draw: float


class ModelDetail(EndpointPublic):
    """A model's own page: the public fields, how many battles name it, and its form values."""

    battles: int
    values: dict[str, str]


@dataclass(frozen=True)
class Ciphers:
    """The admin's key ciphers: one reads stored keys, the other (None when off) stores them."""

    read: KeyCipher | None
    store: KeyCipher | None = None


def _public(session: Session, endpoint: Endpoint, cipher: KeyCipher | None) -> EndpointPublic:
    counts = review.vote_counts(session)
    secrets = all_keys(session, cipher)
    return describe(endpoint, cipher=cipher, votes=counts.get(endpoint.name), secrets=secrets)


def list_models(engine: Engine, cipher: KeyCipher | None) -> list[EndpointPublic]:
    """Every model endpoint, retired ones last, with vote counts; keys masked, errors scrubbed."""
    with session_scope(engine) as session:
        counts = review.vote_counts(session)
        secrets = all_keys(session, cipher)
        return [
            describe(e, cipher=cipher, votes=counts.get(e.name), secrets=secrets)
            for e in crud.list_endpoints(session)
        ]


def draw_shares(session: Session, rules: SamplingRules) -> dict[int, float]:
    """Each model's probability of being in the next battle, as matchmaking stands now."""
    try:
        return draw_probabilities(*matchmaking_inputs(session, rules))
    except NotEnoughModels:
        return {}


def model_rows(engine: Engine, cipher: KeyCipher | None, rules: SamplingRules) -> list[ModelRow]:
    """The admin list: every model as `list_models` shows it, with its draw share."""
    with session_scope(engine) as session:
        counts = review.vote_counts(session)
        secrets = all_keys(session, cipher)
        shares = draw_shares(session, rules)
        return [
            ModelRow.model_validate(
                {
                    **describe(
                        e, cipher=cipher, votes=counts.get(e.name), secrets=secrets
                    ).model_dump(),
                    "draw": shares.get(e.id or 0, 0.0),
                }
            )
            for e in crud.list_endpoints(session)
        ]


def get_model(engine: Engine, cipher: KeyCipher | None, name: str) -> EndpointPublic:
    """One model endpoint; 404 when there is none by that name."""
    with session_scope(engine) as session:
        return _public(session, crud.find(session, name=name), cipher)


def model_detail(engine: Engine, cipher: KeyCipher | None, name: str) -> ModelDetail:
    """One model for its page: the public fields, its battle count and its form values."""
    with session_scope(engine) as session:
        endpoint = crud.find(session, name=name)
        assert endpoint.id is not None
        return ModelDetail.model_validate(
            {
                **_public(session, endpoint, cipher).model_dump(),
                "battles": crud.battle_count(session, endpoint.id),
                "values": endpoint_values(endpoint),
            }
        )


def add_model(
    engine: Engine,
    raw: Mapping[str, Any],
    ciphers: Ciphers,
    *,
    source: str,
    rules: EndpointRules | None = None,
) -> EndpointPublic:
    """Validate a new model's fields (+ preset, thinking, api_key) and add it; 409 if taken."""
    item, api_key = parsing.parse_new(raw, rules)
    with session_scope(engine) as session:
        endpoint = crud.create(
            session, item=item, api_key=api_key, cipher=ciphers.store, source=source
        )
        return _public(session, endpoint, ciphers.read)


def edit_model(
    engine: Engine,
    name: str,
    raw: Mapping[str, Any],
    ciphers: Ciphers,
    rules: EndpointRules | None = None,
) -> EndpointPublic:
    """Apply a partial edit (API body or form fields), validated whole; nothing saved if refused."""
    with session_scope(engine) as session:
        crud.edit(session, name=name, raw=raw, cipher=ciphers.store, rules=rules)
        return _public(session, crud.find(session, name=name), ciphers.read)


def set_weight(engine: Engine, name: str, weight: float | str) -> None:
    """Change how often a model is drawn (0 = never); a form's string is validated too."""
    with session_scope(engine) as session:
        crud.set_weight(session, name=name, weight=weight)


def removal_detail(name: str, result: Literal["retired", "deleted"]) -> str:
    """What a removal did, in words."""
    if result == "retired":
        return (
            f"{name} has battles, so it is retired: never drawn again, its battles and votes kept."
        )
    return f"{name} had no battles and is deleted."


def remove_model(engine: Engine, name: str) -> Removal:
    """Retire a model that has battles (its history stays), else delete it."""
    with session_scope(engine) as session:
        result = crud.remove(session, name=name)
    return Removal(name=name, result=result, detail=removal_detail(name, result))


# What the admin pages' buttons (and the CLI's verbs) do to a model by name.
ACTIONS: dict[str, Callable[[Session, str], Endpoint]] = {
    "enable": lambda s, n: crud.set_enabled(s, name=n, enabled=True),
    "disable": lambda s, n: crud.set_enabled(s, name=n, enabled=False),
    "unpause": lambda s, n: crud.unpause(s, name=n),
    "retire": lambda s, n: crud.set_retired(s, name=n, retired=True),
    "restore": lambda s, n: crud.set_retired(s, name=n, retired=False),
}


def act(engine: Engine, name: str, action: str) -> None:
    """Enable, disable, unpause, retire or restore a model; 404 for another action."""
    if action not in ACTIONS:
        raise AdminError(404, f"unknown action {action!r}")
    with session_scope(engine) as session:
        ACTIONS[action](session, name)


def unpause_model(engine: Engine, name: str, cipher: KeyCipher | None) -> EndpointPublic:
    """Lift a circuit-breaker pause now; the model as it is afterwards."""
    with session_scope(engine) as session:
        endpoint = crud.unpause(session, name=name)
        return _public(session, endpoint, cipher)


async def test_model(
    engine: Engine,
    name: str,
    cipher: KeyCipher | None,
    timeouts: Timeouts,
    rules: EndpointRules | None = None,
) -> ProbeResult:
    """Send the test prompt to a model: timing and the answer, or the error explained."""

    def load() -> tuple[CallParams, KeyInfo, bool]:
        with session_scope(engine) as session:
            endpoint = crud.find(session, name=name)
            return (*probe_params(endpoint, cipher), endpoint.vision)

    # The lookup is blocking database work; the probe itself is async network work.
    params, key, vision = await asyncio.to_thread(load)
    return await drafts.guarded_probe(
        params, timeouts, key=key, rules=rules or EndpointRules(), image=vision
    )


async def test_draft(
    engine: Engine,
    raw: Mapping[str, Any],
    cipher: KeyCipher | None,
    timeouts: Timeouts,
    rules: EndpointRules | None = None,
    *,
    name: str | None = None,
) -> ProbeResult:
    """Test the add form's (or, with `name`, the edit form's) values without saving anything.

    Validated like the save (422 the same way); on a host no saved model uses, failures are
    neutral (see `arena.admin.drafts`).
    """
    rules = rules or EndpointRules()

    def load() -> tuple[CallParams, KeyInfo, bool, bool]:
        # Read-only: the session is rolled back, so a draft never writes a row.
        with Session(engine) as session:
            item, typed, saved = drafts.draft_fields(session, raw, rules, name=name)
            stored = stored_key(saved, cipher) if saved is not None else None
            params, key = drafts.draft_call(item, typed, stored)
            known = origin(item.base_url) in drafts.known_origins(session)
            return params, key, known, item.vision

    params, key, known, vision = await asyncio.to_thread(load)
    if known:
        return await drafts.guarded_probe(params, timeouts, key=key, rules=rules, image=vision)
    return await drafts.neutral_probe(params, timeouts, key=key, rules=rules, image=vision)
