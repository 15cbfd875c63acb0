"""Model endpoints: validation, the models file, and which of file and database wins.

The rule: `configs/models.toml` *seeds* the database at start. A name that is not in the database
yet is added; a name that is already there is left exactly as it is, so edits made in the admin
UI, the CLI or the API are never overwritten by a restart. To change a seeded model, edit it in
the UI or with the CLI.
"""

from __future__ import annotations

import os
import tomllib
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Engine
from sqlmodel import Session, select

from arena.core.rules import EndpointRules
from arena.store.endpoint_models import EndpointCreate, EndpointUpdate, rules_context
from arena.store.endpoint_urls import check_base_url, reserved_env
from arena.store.engine import session_scope
from arena.store.spend import within_budget
from arena.store.tables import Endpoint, utcnow

# The old names: the models file loader, the CLI and the admin all validate with these.
EndpointIn = EndpointCreate
EndpointPatch = EndpointUpdate

__all__ = [
    "EndpointCreate",
    "EndpointIn",
    "EndpointPatch",
    "EndpointUpdate",
    "ModelsFileError",
    "check_base_url",
    "drawable_endpoints",
    "read_models_file",
    "resolve_api_key",
    "seed_endpoints",
    "usable_models",
]


class ModelsFileError(ValueError):
    """The models file cannot be used; the message says where and why."""


def read_models_file(path: Path, rules: EndpointRules | None = None) -> list[EndpointIn]:
    """The `[[models]]` entries of a TOML file, validated; a missing file means no models."""
    if not path.exists():
        return []
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ModelsFileError(f"{path}: not valid TOML: {exc}") from exc
    entries = data.get("models", [])
    if not isinstance(entries, list):
        raise ModelsFileError(f"{path}: `models` must be an array of tables ([[models]])")
    out: list[EndpointIn] = []
    seen: set[str] = set()
    for i, entry in enumerate(entries, start=1):
        try:
            item = EndpointIn.model_validate(entry, context=rules_context(rules))
        except ValidationError as exc:
            raise ModelsFileError(f"{path}: model #{i}: {exc}") from exc
        if item.name in seen:
            raise ModelsFileError(f"{path}: model #{i}: duplicate name {item.name!r}")
        seen.add(item.name)
        out.append(item)
    return out


def seed_endpoints(engine: Engine, entries: list[EndpointIn]) -> list[str]:
    """Add the entries whose names are not in the database yet; return the names added."""
    added: list[str] = []
    with session_scope(engine) as session:
        existing = set(session.exec(select(Endpoint.name)).all())
        for item in entries:
            if item.name not in existing:
                session.add(Endpoint(**item.model_dump(), source="file"))
                added.append(item.name)
    return added


# Built once: it is run for every battle start.
_ACTIVE = select(Endpoint).where(Endpoint.enabled == True, Endpoint.retired == False)  # noqa: E712


def drawable_endpoints(session: Session, now: datetime | None = None) -> list[Endpoint]:
    """Endpoints that may be drawn now: enabled, not retired, not paused, weight above zero, and
    not over today's budget."""
    now = now or utcnow()
    rows = session.exec(_ACTIVE).all()
    return [
        e
        for e in rows
        if e.weight > 0
        and (e.paused_until is None or e.paused_until <= now)
        and within_budget(e, now)
    ]


def resolve_api_key(endpoint: Endpoint, decrypt: Any = None) -> str:
    """The key to send upstream: the named env var, else a stored encrypted key, else a dummy.

    An ARENA_* variable is never read, even from a row saved before that rule existed.
    """
    if endpoint.api_key_env and not reserved_env(endpoint.api_key_env):
        value = os.environ.get(endpoint.api_key_env)
        if value:
            return value
    if endpoint.api_key_encrypted and decrypt is not None:
        return str(decrypt(endpoint.api_key_encrypted))
    # Local servers (vLLM, Ollama, llama.cpp) accept any key; the client insists on one.
    return "sk-no-key"


def usable_models(entries: list[EndpointIn]) -> list[EndpointIn]:
    """Enabled entries whose key, if they need one, is in the environment."""
    return [e for e in entries if e.enabled and _key_available(e.api_key_env)]


def _key_available(env: str | None) -> bool:
    return env is None or (not reserved_env(env) and bool(os.environ.get(env)))


if __name__ == "__main__":
    import sys

    from arena.core.settings import load_settings

    # `python -m arena.endpoints usable`: exit 0 when at least two models can be called, from the
    # models file or from the database (models added in the admin UI or with the CLI).
    settings = load_settings()
    entries = read_models_file(settings.models, settings.endpoint_rules)
    found = {e.name for e in usable_models(entries)}
    if settings.database_url.startswith("sqlite:///") and not os.path.exists(
        settings.database_url.removeprefix("sqlite:///")
    ):
        stored: set[str] = set()
    else:
        from arena.store.engine import make_engine

        with Session(make_engine(settings.database_url)) as session:
            try:
                stored = {
                    e.name
                    for e in drawable_endpoints(session)
                    if e.source != "demo"
                    and (
                        e.api_key_env is None
                        or e.api_key_encrypted
                        or os.environ.get(e.api_key_env)
                    )
                }
            except Exception:  # an old or foreign database: let `arena serve` migrate it
                stored = set()
    sys.exit(0 if sys.argv[1:] == ["usable"] and len(found | stored) >= 2 else 1)
