"""Which database the running server uses, so that `arena …` in another shell opens the same one.

`arena serve` and `arena demo` write `.arena-server.json` (pid and database URL) in the folder
they run in and remove it when they stop. A command that is not told which database to use
(no ARENA_DATABASE_URL, no `database_url` in the config) opens the running server's, and says
so on standard error. Nothing is read or written by `arena --help`.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

STATE_FILE = Path(".arena-server.json")


def absolute_url(url: str) -> str:
    """A SQLite URL with its file made absolute (a relative one means this folder)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return url
    if parsed.database == ":memory:" or parsed.database.startswith("file:"):
        return url
    path = Path(parsed.database).resolve()
    return parsed.set(database=str(path)).render_as_string(hide_password=False)


@contextlib.contextmanager
def server_state(database_url: str, path: Path = STATE_FILE) -> Iterator[None]:
    """Announce this process's database while it serves; the file goes when it stops."""
    state = {"pid": os.getpid(), "database_url": absolute_url(database_url)}
    # A read-only folder: the server still runs, the CLI falls back to its settings.
    with contextlib.suppress(OSError):
        path.write_text(json.dumps(state), encoding="utf-8")
    try:
        yield
    finally:
        with contextlib.suppress(OSError, ValueError):
            if json.loads(path.read_text(encoding="utf-8")).get("pid") == os.getpid():
                path.unlink()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except (OSError, OverflowError):
        return False
    return True


def running_server(path: Path = STATE_FILE) -> tuple[int, str] | None:
    """(pid, database URL) of a live server that announced itself here, or None."""
    try:
        state: Any = json.loads(path.read_text(encoding="utf-8"))
        pid, url = int(state["pid"]), str(state["database_url"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return (pid, url) if pid != os.getpid() and _alive(pid) else None


def cli_database_url(configured: str, *, explicit: bool) -> str:
    """The database a command opens: the configured one when it was set, else the running
    server's (said on stderr when it differs), else the default."""
    if explicit:
        return configured
    found = running_server()
    if found is None or found[1] == absolute_url(configured):
        return configured
    from sqlalchemy.engine import make_url

    shown = make_url(found[1]).render_as_string(hide_password=True)
    print(
        f"arena: using the database of the running server (pid {found[0]}): {shown}",
        file=sys.stderr,
    )
    return found[1]


def missing_sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL when it does not exist (opening it would create it)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    if parsed.database == ":memory:" or parsed.database.startswith("file:"):
        return None
    path = Path(parsed.database)
    return None if path.exists() else path
