"""`arena admin rotate-token | logout-everywhere`: the admin's access, from a terminal on the
arena's database (a running server sees the change at its next admin request)."""

from __future__ import annotations

import argparse
from typing import Any

from arena.cli.common import database


def _rotate(args: argparse.Namespace) -> int:
    from arena.admin import tokens

    with database() as engine:
        new = tokens.rotate(engine)
    print(new)
    print(
        "The admin token is now the line above (shown only once); the old one and every admin "
        "session stopped working. Setting a different ARENA_ADMIN_TOKEN and restarting "
        "puts that one in force instead."
    )
    return 0


def _logout_everywhere(args: argparse.Namespace) -> int:
    from arena.admin import sessions

    with database() as engine:
        count = sessions.end_all(engine)
    print(f"ended {count} admin session(s)")
    return 0


def register(sub: Any) -> None:
    """Add `admin` to the CLI."""
    p = sub.add_parser("admin", help="the admin token and admin sessions")
    commands = p.add_subparsers(dest="admin_command", required=True)
    rotate = commands.add_parser("rotate-token", help="replace the admin token without a restart")
    rotate.set_defaults(func=_rotate)
    out = commands.add_parser("logout-everywhere", help="end every admin session")
    out.set_defaults(func=_logout_everywhere)
