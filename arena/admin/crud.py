"""Model endpoints for the admin: add, edit, enable, retire, unpause (parsing: `admin.parsing`).

Keyword-only functions over a session; each raises `AdminError` with a status and a message a
person can act on, before anything is written, so a refused request leaves nothing half-saved.
How an endpoint is shown (state, key status, the public JSON) is in `arena.admin.describe`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from sqlalchemy import func, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from arena.admin import AdminError
from arena.admin.parsing import parse_edit
from arena.core.rules import EndpointRules
from arena.store.endpoint_models import EndpointCreate
from arena.store.keys import KeyCipher
from arena.store.spend import apply_budgets
from arena.store.tables import Answer, Battle, Endpoint, Vote, utcnow
from arena.votes.version import bump_votes_version

NO_SECRET_MESSAGE = (
    "Typed API keys are stored encrypted with ARENA_SECRET_KEY, which is not set: set it (any "
    "string of at least 32 characters) and restart, or name an environment variable in api_key_env."
)


def find(session: Session, *, name: str) -> Endpoint:
    """The endpoint with this name; 404 otherwise."""
    endpoint = session.exec(select(Endpoint).where(Endpoint.name == name)).first()
    if endpoint is None:
        raise AdminError(404, f"no model named {name!r}")
    return endpoint


def list_endpoints(session: Session) -> list[Endpoint]:
    """Every endpoint, retired ones last."""
    return list(session.exec(select(Endpoint).order_by(col(Endpoint.retired), col(Endpoint.name))))


def _store_key(endpoint: Endpoint, api_key: str, cipher: KeyCipher | None) -> None:
    if cipher is None:
        raise AdminError(422, NO_SECRET_MESSAGE)
    endpoint.api_key_encrypted = cipher.encrypt(api_key)


def create(
    session: Session,
    *,
    item: EndpointCreate,
    api_key: str | None = None,
    cipher: KeyCipher | None = None,
    source: str = "api",
) -> Endpoint:
    """Add an endpoint; 409 when the name is taken."""
    if session.exec(select(Endpoint.id).where(Endpoint.name == item.name)).first() is not None:
        raise AdminError(409, f"a model named {item.name!r} exists already")
    endpoint = Endpoint(**item.model_dump(), source=source)
    if api_key:
        _store_key(endpoint, api_key, cipher)
    session.add(endpoint)
    try:
        session.flush()
    except IntegrityError:
        raise AdminError(409, f"a model named {item.name!r} exists already") from None
    return endpoint


def update(
    session: Session,
    *,
    endpoint: Endpoint,
    item: EndpointCreate,
    retired: bool | None = None,
    api_key: str | None = None,
    clear_key: bool = False,
    cipher: KeyCipher | None = None,
) -> Endpoint:
    """Apply validated fields (never the name) and key changes to an endpoint."""
    if api_key:
        _store_key(endpoint, api_key, cipher)
    elif clear_key:
        endpoint.api_key_encrypted = None
    if item.enabled and not endpoint.enabled:
        endpoint.paused_until = None  # enabling by hand also lifts a breaker pause
    money = (endpoint.input_price, endpoint.output_price, endpoint.daily_budget)
    for key, value in item.model_dump(exclude={"name"}).items():
        setattr(endpoint, key, value)
    if retired is not None:
        _set_retired(session, endpoint, retired)
    endpoint.updated_at = utcnow()
    session.add(endpoint)
    if money != (endpoint.input_price, endpoint.output_price, endpoint.daily_budget):
        session.flush()
        # A budget raised or lowered today applies now; a cached board shows the new costs.
        apply_budgets(session.connection(), [endpoint.id or 0])
        session.refresh(endpoint)
        bump_votes_version(session)
    return endpoint


def set_enabled(session: Session, *, name: str, enabled: bool) -> Endpoint:
    """Enable (which also lifts a breaker pause) or disable an endpoint."""
    endpoint = find(session, name=name)
    endpoint.enabled, endpoint.updated_at = enabled, utcnow()
    if enabled:
        endpoint.paused_until = None
    session.add(endpoint)
    return endpoint


def set_weight(session: Session, *, name: str, weight: float | str) -> Endpoint:
    """Change how often an endpoint is drawn (0 = never); a form's string is validated too."""
    endpoint = find(session, name=name)
    item, _, _, _ = parse_edit(endpoint, {"weight": weight})
    endpoint.weight, endpoint.updated_at = item.weight, utcnow()
    session.add(endpoint)
    return endpoint


def unpause(session: Session, *, name: str) -> Endpoint:
    """Lift the circuit breaker's pause and reset its count of failures in a row."""
    endpoint = find(session, name=name)
    endpoint.paused_until, endpoint.consecutive_failures = None, 0
    endpoint.updated_at = utcnow()
    session.add(endpoint)
    return endpoint


def _set_retired(session: Session, endpoint: Endpoint, retired: bool) -> None:
    if endpoint.retired != retired:
        endpoint.retired = retired
        # A leaderboard cached with the old state would show it wrongly until the next vote.
        bump_votes_version(session)


def set_retired(session: Session, *, name: str, retired: bool) -> Endpoint:
    """Retire an endpoint (never drawn again; its battles and votes stay) or bring it back."""
    endpoint = find(session, name=name)
    _set_retired(session, endpoint, retired)
    endpoint.updated_at = utcnow()
    session.add(endpoint)
    return endpoint


def battle_count(session: Session, endpoint_id: int) -> int:
    """Battles, answers or votes that name this endpoint (any of them keeps it in history)."""
    battles = session.exec(
        select(func.count())
        .select_from(Battle)
        .where(or_(col(Battle.model_a_id) == endpoint_id, col(Battle.model_b_id) == endpoint_id))
    ).one()
    answers = session.exec(
        select(func.count()).select_from(Answer).where(col(Answer.endpoint_id) == endpoint_id)
    ).one()
    votes = session.exec(
        select(func.count())
        .select_from(Vote)
        .where(or_(col(Vote.model_a_id) == endpoint_id, col(Vote.model_b_id) == endpoint_id))
    ).one()
    return int(battles) + int(answers) + int(votes)


def remove(session: Session, *, name: str) -> Literal["retired", "deleted"]:
    """Retire an endpoint that has battles (history is kept); delete one that has none."""
    endpoint = find(session, name=name)
    assert endpoint.id is not None
    if battle_count(session, endpoint.id):
        set_retired(session, name=name, retired=True)
        return "retired"
    session.delete(endpoint)
    return "deleted"


def edit(
    session: Session,
    *,
    name: str,
    raw: Mapping[str, Any],
    cipher: KeyCipher | None,
    rules: EndpointRules | None = None,
) -> None:
    """Apply a partial edit (API body or form fields) to the named endpoint, validated whole."""
    endpoint = find(session, name=name)
    item, retired, api_key, clear_key = parse_edit(endpoint, raw, rules)
    update(
        session,
        endpoint=endpoint,
        item=item,
        retired=retired,
        api_key=api_key,
        clear_key=clear_key,
        cipher=cipher,
    )
