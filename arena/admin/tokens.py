"""The admin token in force: ARENA_ADMIN_TOKEN, or the one it was rotated to without a restart.

A rotation is stored in the database (only sha256 fingerprints, never a token), so every worker
sees it at its next admin request. It is tied to the environment's token it replaced: once an
operator sets a different ARENA_ADMIN_TOKEN and restarts, that new token is in force again (the
way back when a rotated token is lost).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets

from sqlalchemy import Engine
from sqlmodel import delete

from arena.store.engine import session_scope
from arena.store.tables import AdminSession, Meta

ENV_KEY = "admin_env_token"  # fingerprint of ARENA_ADMIN_TOKEN as the last server started with
ROTATED_KEY = "admin_token"  # {"replaces": env fingerprint, "current": fingerprint}


def fingerprint(token: str) -> str:
    """sha256 of a token, hex: what the database keeps instead of the token."""
    return hashlib.sha256(token.encode()).hexdigest()


def record_env_token(engine: Engine, env_token: str | None) -> None:
    """At start: remember which environment token the servers run with (for `arena admin`)."""
    if env_token is None:
        return
    with session_scope(engine) as session:
        row = session.get(Meta, ENV_KEY) or Meta(key=ENV_KEY, value="")
        row.value = fingerprint(env_token)
        session.add(row)


def current_fingerprint(engine: Engine, env_token: str | None) -> str | None:
    """The fingerprint of the admin token in force, or None when the admin is off."""
    if env_token is None:
        return None
    env = fingerprint(env_token)
    with session_scope(engine) as session:
        row = session.get(Meta, ROTATED_KEY)
    if row is not None:
        rotated = json.loads(row.value)
        if rotated.get("replaces") == env:
            return str(rotated["current"])
    return env


def token_valid(engine: Engine, env_token: str | None, presented: str | None) -> bool:
    """Whether `presented` is the admin token in force (constant-time)."""
    current = current_fingerprint(engine, env_token)
    if current is None or not presented:
        return False
    return hmac.compare_digest(current, fingerprint(presented))


def rotate(engine: Engine, env_token: str | None = None) -> str:
    """A new random admin token, in force at once on every worker; every session ends.

    `env_token` is the server's ARENA_ADMIN_TOKEN when known (the API, the pages); the CLI
    passes none and uses the one the servers recorded at start."""
    new = secrets.token_urlsafe(32)
    with session_scope(engine) as session:
        if env_token is not None:
            replaces = fingerprint(env_token)
        else:
            row = session.get(Meta, ENV_KEY)
            if row is None:
                raise LookupError(
                    "no arena has started with ARENA_ADMIN_TOKEN on this database yet; "
                    "set it and run `arena serve` once first"
                )
            replaces = row.value
        value = json.dumps({"replaces": replaces, "current": fingerprint(new)})
        stored = session.get(Meta, ROTATED_KEY) or Meta(key=ROTATED_KEY, value=value)
        stored.value = value
        session.add(stored)
        session.exec(delete(AdminSession))
    return new
