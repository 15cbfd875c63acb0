"""How the admin shows an endpoint: its state, where its key comes from (masked), the public JSON.

Nothing here returns a key except `stored_key`/`known_keys`, which exist so keys can be *scrubbed*
from upstream text before it is shown; the public shape (`EndpointPublic`) has no field for one.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from sqlmodel import Session, col, select

from arena.store.endpoint_models import EndpointPublic
from arena.store.keys import KeyCipher, KeyDecryptError, mask, redact
from arena.store.spend import within_budget
from arena.store.tables import Endpoint, EndpointBase, utcnow

# The fields the file, the UI, the CLI and the API share (everything but identity and state).
EDITABLE = tuple(EndpointBase.model_fields)


def state(endpoint: Endpoint) -> str:
    """retired | disabled | paused | over-budget | enabled."""
    if endpoint.retired:
        return "retired"
    if not endpoint.enabled:
        return "disabled"
    if endpoint.paused_until is not None and endpoint.paused_until > utcnow():
        return "paused"
    if not within_budget(endpoint, utcnow()):
        return "over-budget"
    return "enabled"


def stored_key(endpoint: Endpoint, cipher: KeyCipher | None) -> str | None:
    """The decrypted stored key (for calls and redaction only), None when none or unreadable."""
    if not endpoint.api_key_encrypted or cipher is None:
        return None
    try:
        return cipher.decrypt(endpoint.api_key_encrypted)
    except KeyDecryptError:
        return None


def known_keys(endpoint: Endpoint, cipher: KeyCipher | None) -> list[str]:
    """Every key this endpoint could send: what to scrub from anything shown."""
    keys = [os.environ.get(endpoint.api_key_env, "") if endpoint.api_key_env else ""]
    keys.append(stored_key(endpoint, cipher) or "")
    return [k for k in keys if k]


def key_status(endpoint: Endpoint, cipher: KeyCipher | None) -> dict[str, Any]:
    """Where the key comes from, masked: never the key itself."""
    env = endpoint.api_key_env
    env_set = bool(os.environ.get(env)) if env else False
    stored = stored_key(endpoint, cipher)
    if endpoint.api_key_encrypted:
        shown = mask(stored) if stored else "•••• (unreadable with the current ARENA_SECRET_KEY)"
    else:
        shown = None
    in_use = "env" if env_set else ("stored" if stored else "none")
    return {"env": env, "env_set": env_set if env else None, "stored": shown, "in_use": in_use}


def all_keys(session: Session, cipher: KeyCipher | None) -> list[str]:
    """Every key any endpoint could send: what to scrub from upstream words before showing them."""
    # The order `crud.list_endpoints` gives (retired last, then by name), without importing it.
    rows = session.exec(select(Endpoint).order_by(col(Endpoint.retired), col(Endpoint.name)))
    return [k for e in rows for k in known_keys(e, cipher)]


def public(
    endpoint: Endpoint,
    *,
    cipher: KeyCipher | None,
    votes: Mapping[str, int] | None = None,
    secrets: Sequence[str] = (),
) -> dict[str, Any]:
    """An endpoint as the admin API shows it: fields, state, key status, breaker, vote counts.

    The breaker's last error is upstream text: it is scrubbed of this endpoint's keys and of
    `secrets` (pass `all_keys`, since a provider may quote any key).
    """
    data = {k: getattr(endpoint, k) for k in EDITABLE}
    last_error = endpoint.last_error
    if last_error:
        last_error = redact(last_error, [*known_keys(endpoint, cipher), *secrets])
    data.update(
        id=endpoint.id,
        state=state(endpoint),
        retired=endpoint.retired,
        source=endpoint.source,
        api_key=key_status(endpoint, cipher),
        breaker={
            "consecutive_failures": endpoint.consecutive_failures,
            "paused_until": endpoint.paused_until.isoformat() if endpoint.paused_until else None,
            "paused": state(endpoint) == "paused",
            "last_error": last_error,
        },
        budget={
            "daily_budget": endpoint.daily_budget,
            "over": not within_budget(endpoint, utcnow()),
            "until": endpoint.over_budget_until.isoformat() if endpoint.over_budget_until else None,
        },
        created_at=endpoint.created_at.isoformat(),
        updated_at=endpoint.updated_at.isoformat(),
    )
    if votes is not None:
        data["votes"] = dict(votes)
    return data


def describe(
    endpoint: Endpoint,
    *,
    cipher: KeyCipher | None,
    votes: Mapping[str, int] | None = None,
    secrets: Sequence[str] = (),
) -> EndpointPublic:
    """`public`, typed: what `GET /api/admin/models/{name}` answers."""
    return EndpointPublic.model_validate(
        public(endpoint, cipher=cipher, votes=votes, secrets=secrets)
    )
