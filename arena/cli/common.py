"""What several commands share: the database for one command, the key cipher, admin errors.

Nothing heavy is imported at module level: the parser imports this module (for
`admin_command`), and `arena --help` must not load SQLAlchemy or the web stack.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from arena.core.settings import Settings
    from arena.store.keys import KeyCipher

Handler = Callable[[argparse.Namespace], int]


def open_db(settings: Settings | None = None) -> Engine:
    """The arena's database, migrated to the current schema (the caller disposes of it)."""
    from arena.core.settings import load_settings
    from arena.store.engine import make_engine, migrate

    engine = make_engine((settings or load_settings()).database_url)
    migrate(engine)
    return engine


@contextlib.contextmanager
def database(settings: Settings | None = None) -> Iterator[Engine]:
    """`open_db` for one command: the engine and its connections are closed afterwards."""
    engine = open_db(settings)
    try:
        yield engine
    finally:
        engine.dispose()


def secret(engine: Engine, settings: Settings) -> str:
    """The server's secret: ARENA_SECRET_KEY, or the development one kept in the database."""
    # The same function the server uses, so the CLI and the server encrypt and sign alike.
    from arena.store.secret import shared_secret

    return shared_secret(engine, settings)


def cipher_for(engine: Engine, settings: Settings) -> KeyCipher | None:
    """The cipher of stored keys; None without a secret (production without ARENA_SECRET_KEY)."""
    from arena.store.keys import KeyCipher

    try:
        return KeyCipher(secret(engine, settings))
    except RuntimeError:
        return None


def admin_command(func: Handler) -> Handler:
    """Report an AdminError as `arena: error: …` with exit status 2, like other CLI errors."""

    def run(args: argparse.Namespace) -> int:
        from arena.admin import AdminError

        try:
            return func(args)
        except AdminError as exc:
            print(f"arena: error: {exc.detail}", file=sys.stderr)
            return 2

    return run
