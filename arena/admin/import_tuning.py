"""What an import changes about its own process and connection while it runs, and puts back.

All about the same thing: a million records are tens of millions of small Python objects, a few
hundred MB of index pages and millions of look-ups of references the import made itself, and
the defaults are tuned for none of them.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection

#: The importing connection's SQLite page cache, in KiB (the indexes of a million battles).
IMPORT_CACHE_KIB = 256 * 1024


@contextlib.contextmanager
def big_cache(conn: Connection) -> Iterator[None]:
    """SQLite: a page cache big enough for the indexes a large import writes into at random
    places (with the default 2 MB each insert read pages back), for this connection while it
    imports; the pool gets it back with its own size. Nothing on PostgreSQL."""
    if conn.dialect.name != "sqlite":
        yield
        return
    before = conn.exec_driver_sql("PRAGMA cache_size").scalar_one()
    conn.exec_driver_sql(f"PRAGMA cache_size = -{IMPORT_CACHE_KIB}")
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size = {int(before)}")


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while an import runs (turned back on after, if it was on).

    Decoded records are dicts and lists, which the collector tracks: every few hundred new ones
    it walked the young ones, and now and then all the chunk's records, a quarter of the import's
    time. They hold no cycles; reference counting frees them all the same."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


@contextlib.contextmanager
def unchecked_references(conn: Connection) -> Iterator[None]:
    """SQLite: no foreign key checks on this connection while it imports, a few index look-ups
    per row for references the import makes itself (endpoints read or made in its transaction,
    battles it writes); on again once it is over. Entered before the transaction begins (SQLite
    ignores the pragma inside one), left after it ends. Nothing on PostgreSQL."""
    dbapi: Any = conn.connection.dbapi_connection
    if conn.dialect.name != "sqlite" or dbapi is None:
        yield
        return
    was = dbapi.execute("PRAGMA foreign_keys").fetchone()[0]
    dbapi.execute("PRAGMA foreign_keys = OFF")
    try:
        yield
    finally:
        try:
            if was:
                dbapi.execute("PRAGMA foreign_keys = ON")
        except Exception:
            # Never back to the pool without its checks.
            conn.invalidate()
            raise
