"""`arena models …`: list, add, enable, disable and test endpoints in the arena's database."""

from __future__ import annotations

import argparse
import json
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Engine
from sqlmodel import select

from arena.db import make_engine, migrate, session_scope
from arena.endpoints import EndpointIn
from arena.settings import load_settings
from arena.tables import Endpoint, utcnow


def open_db() -> Engine:
    """The arena's database, migrated to the current schema."""
    engine = make_engine(load_settings().database_url)
    migrate(engine)
    return engine


def _list(args: argparse.Namespace) -> int:
    engine = open_db()
    with session_scope(engine) as session:
        rows = session.exec(select(Endpoint).order_by(Endpoint.name)).all()
        items = [
            {
                "name": e.name,
                "model": e.model,
                "base_url": e.base_url,
                "enabled": e.enabled,
                "retired": e.retired,
                "weight": e.weight,
                "paused_until": e.paused_until.isoformat() if e.paused_until else None,
            }
            for e in rows
        ]
    if args.json:
        print(json.dumps(items, indent=2))
        return 0
    if not items:
        print("no models; add one with `arena models add` or in configs/models.toml")
        return 0
    width = max(len(str(i["name"])) for i in items)
    for i in items:
        state = "retired" if i["retired"] else ("enabled" if i["enabled"] else "disabled")
        if i["paused_until"]:
            state += f", paused until {i['paused_until']}"
        print(
            f"{i['name']:<{width}}  {state:<10} w={i['weight']:<5g} {i['model']} @ {i['base_url']}"
        )
    return 0


def _add(args: argparse.Namespace) -> int:
    fields: dict[str, Any] = {
        k: v for k, v in vars(args).items() if k in EndpointIn.model_fields and v is not None
    }
    if args.extra_body:
        fields["extra_body"] = json.loads(args.extra_body)
    try:
        item = EndpointIn.model_validate(fields)
    except ValidationError as exc:
        raise ValueError(str(exc)) from None
    engine = open_db()
    with session_scope(engine) as session:
        if session.exec(select(Endpoint).where(Endpoint.name == item.name)).first():
            raise ValueError(f"a model named {item.name!r} exists already")
        session.add(Endpoint(**item.model_dump(), source="cli"))
    print(f"added {item.name}")
    return 0


def _set_enabled(args: argparse.Namespace, enabled: bool) -> int:
    engine = open_db()
    with session_scope(engine) as session:
        e = session.exec(select(Endpoint).where(Endpoint.name == args.name)).first()
        if e is None:
            raise LookupError(f"no model named {args.name!r}")
        e.enabled, e.updated_at = enabled, utcnow()
        if enabled:
            e.paused_until = None
        session.add(e)
    print(f"{'enabled' if enabled else 'disabled'} {args.name}")
    return 0


def register(sub: Any) -> None:
    """Add `models` and its subcommands to the CLI."""
    models = sub.add_parser("models", help="manage model endpoints")
    msub = models.add_subparsers(dest="models_command", required=True)

    p = msub.add_parser("list", help="list model endpoints")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_list)

    p = msub.add_parser("add", help="add a model endpoint")
    p.add_argument("name")
    p.add_argument("--base-url", dest="base_url", required=True)
    p.add_argument("--model", required=True, help="the upstream model id")
    p.add_argument("--api-key-env", dest="api_key_env")
    p.add_argument("--temperature", type=float)
    p.add_argument("--top-p", dest="top_p", type=float)
    p.add_argument("--max-tokens", dest="max_tokens", type=int)
    p.add_argument("--system-prompt", dest="system_prompt")
    p.add_argument("--extra-body", dest="extra_body", help="JSON object passed through")
    p.add_argument("--weight", type=float)
    p.add_argument("--organization")
    p.add_argument("--license")
    p.add_argument("--disabled", dest="enabled", action="store_false", default=None)
    p.set_defaults(func=_add)

    for name, flag in (("enable", True), ("disable", False)):
        p = msub.add_parser(name, help=f"{name} a model endpoint")
        p.add_argument("name")
        p.set_defaults(func=lambda a, f=flag: _set_enabled(a, f))
