"""Model endpoints for the admin: parse requests, add, edit, enable, retire, unpause.

Keyword-only functions over a session; each raises `AdminError` with a status and a message a
person can act on, before anything is written, so a refused request leaves nothing half-saved.
How an endpoint is shown (state, key status, the public JSON) is in `arena.admin.describe`;
its names are re-exported here because the CLI calls them as `crud.public`, `crud.all_keys`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import ValidationError
from sqlalchemy import func, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from arena.admin import AdminError
from arena.admin.describe import (
    EDITABLE,
    all_keys,
    describe,
    key_status,
    known_keys,
    public,
    state,
    stored_key,
)
from arena.admin.presets import apply_preset
from arena.core.rules import EndpointRules
from arena.store.endpoint_models import EndpointCreate, EndpointUpdate, origin, rules_context
from arena.store.keys import KeyCipher
from arena.store.tables import Answer, Battle, Endpoint, Vote, utcnow
from arena.votes.version import bump_votes_version

NO_SECRET_MESSAGE = (
    "Typed API keys are stored encrypted with ARENA_SECRET_KEY, which is not set: set it (any "
    "string of at least 32 characters) and restart, or name an environment variable in api_key_env."
)


__all__ = [
    "EDITABLE",
    "NO_SECRET_MESSAGE",
    "all_keys",
    "battle_count",
    "check_key_follows_host",
    "create",
    "describe",
    "edit",
    "find",
    "key_status",
    "known_keys",
    "list_endpoints",
    "parse_edit",
    "parse_new",
    "public",
    "remove",
    "set_enabled",
    "set_retired",
    "set_weight",
    "state",
    "stored_key",
    "unpause",
    "update",
    "validation_message",
]


def validation_message(exc: ValidationError) -> str:
    """A pydantic error in one line, field by field: `weight: Input should be …`."""
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ())) or "body"
        msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        if err.get("type") == "extra_forbidden":
            msg = "unknown field"
        parts.append(f"{where}: {msg}")
    return "; ".join(parts)


def _optional(raw: Mapping[str, Any], key: str, kind: type) -> Any:
    value = raw.get(key)
    if value is not None and not isinstance(value, kind):
        raise AdminError(422, f"{key}: must be a {kind.__name__}")
    return value


def parse_new(
    raw: Mapping[str, Any], rules: EndpointRules | None = None
) -> tuple[EndpointCreate, str | None]:
    """A new endpoint from a request's fields (+ `preset`, `thinking`, `api_key`), validated."""
    if not isinstance(raw, Mapping):
        raise AdminError(422, "the body must be a JSON object of endpoint fields")
    fields = dict(raw)
    preset = _optional(fields, "preset", str)
    thinking = _optional(fields, "thinking", bool)
    api_key = (_optional(fields, "api_key", str) or "").strip() or None
    for key in ("preset", "thinking", "api_key"):
        fields.pop(key, None)
    fields = apply_preset(fields, preset or None, thinking=thinking, typed_key=api_key is not None)
    try:
        return EndpointCreate.model_validate(fields, context=rules_context(rules)), api_key
    except ValidationError as exc:
        raise AdminError(422, validation_message(exc)) from None


def parse_edit(
    endpoint: Endpoint, raw: Mapping[str, Any], rules: EndpointRules | None = None
) -> tuple[EndpointCreate, bool | None, str | None, bool]:
    """A partial edit merged into the endpoint and validated as a whole.

    Returns (fields, retired, new api key, clear the stored key). `"api_key": null` or `""`
    clears a stored key; a string replaces it. Moving a stored key to another host needs it
    typed again (see `check_key_follows_host`).
    """
    if not isinstance(raw, Mapping):
        raise AdminError(422, "the body must be a JSON object of the fields to change")
    fields = dict(raw)
    if "name" in fields and fields.pop("name") != endpoint.name:
        raise AdminError(
            422,
            "name: a model cannot be renamed (its name is its identity on the "
            "leaderboard); add a new model and retire this one",
        )
    clear_key, api_key = False, None
    if "api_key" in fields:
        api_key = (_optional(fields, "api_key", str) or "").strip() or None
        clear_key = api_key is None
        del fields["api_key"]
    try:
        context = rules_context(rules)
        patch = EndpointUpdate.model_validate(fields, context=context)
        changes = patch.model_dump(exclude_unset=True)
        retired = changes.pop("retired", None)
        current = {k: getattr(endpoint, k) for k in EDITABLE}
        item = EndpointCreate.model_validate({**current, **changes}, context=context)
    except ValidationError as exc:
        raise AdminError(422, validation_message(exc)) from None
    check_key_follows_host(endpoint, item.base_url, retyped="api_key" in raw)
    return item, retired, api_key, clear_key


def check_key_follows_host(endpoint: Endpoint, base_url: str, *, retyped: bool) -> None:
    """422 when a stored key would be sent to another host without being typed again.

    Whoever can edit base_url could otherwise point it at their own server and collect the key
    that was typed for the old host; a new key (or clearing the old one) is a deliberate act.
    """
    if not endpoint.api_key_encrypted or retyped:
        return
    old, new = origin(endpoint.base_url), origin(base_url)
    if old != new:
        raise AdminError(
            422,
            f"api_key: base_url now points at another host ({_where(new)} instead of "
            f"{_where(old)}); the stored API key is not sent to a new host. Type the key "
            'again, or clear it ("api_key": null, or "forget the typed key").',
        )


def _where(o: tuple[str, str, int | None]) -> str:
    return f"{o[0]}://{o[1]}:{o[2]}"


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
    for key, value in item.model_dump(exclude={"name"}).items():
        setattr(endpoint, key, value)
    if retired is not None:
        _set_retired(session, endpoint, retired)
    endpoint.updated_at = utcnow()
    session.add(endpoint)
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
