"""The keys of an import's battles: which are in the database already, and the new battles' ids.

A record is a duplicate when its key (`import_rows.fingerprint`) is a battle's external id, or
one of the arena's own battle ids, which its exports write as `question_id`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection

#: Keys per duplicate look-up (well under SQLite's 32,766 bound parameters).
LOOKUP_BATCH = 5_000
_HEX = re.compile(r"[0-9a-f]{24}")


def _present(conn: Connection, column: str, keys: list[str]) -> list[str]:
    # Driver SQL: compiling an IN of 5,000 bound parameters cost more than running it.
    params: tuple[Any, ...]
    if conn.dialect.name == "sqlite":
        marks = ", ".join("?" * len(keys))
        sql, params = f"SELECT {column} FROM battle WHERE {column} IN ({marks})", tuple(keys)
    else:
        sql, params = f"SELECT {column} FROM battle WHERE {column} = ANY(%s)", (keys,)
    return [k for (k,) in conn.exec_driver_sql(sql, params) if k]


def existing(conn: Connection, keys: Iterable[str]) -> set[str]:
    """The keys that are already battles here: imported ones (by their question_id) and the
    arena's own, which an export writes with their battle id as `question_id`."""
    found: set[str] = set()
    batch = list(keys)
    for i in range(0, len(batch), LOOKUP_BATCH):
        chunk = batch[i : i + LOOKUP_BATCH]
        found.update(_present(conn, "external_id", chunk))
        # Only a key shaped like the arena's own battle ids (24 hex digits) can be one.
        if own := [k for k in chunk if len(k) == 24 and _HEX.fullmatch(k)]:
            found.update(_present(conn, "id", own))
    return found


class BattleIds:
    """The ids of one import's new battles: 24 hex digits like the arena's own, in increasing
    order. Fully random ids land all over the battle and vote indexes on the id, so every batch
    rewrote pages of the whole index (on SQLite a third of the time spent inserting); these go
    in one after the other. Each is an import's random prefix (40 bits), a counter, and 24
    random bits, so they are not guessable from one another, and no two imports share a prefix
    but by a 2^-40 chance (and then the primary key refuses the import as a whole)."""

    def __init__(self) -> None:
        self._prefix = os.urandom(5).hex()
        self._next = 0

    def take(self, n: int) -> list[str]:
        """The next `n` ids, in increasing order."""
        start, prefix = self._next, self._prefix
        self._next += n
        tails = os.urandom(3 * n).hex()
        return [f"{prefix}{start + k:08x}{tails[6 * k : 6 * k + 6]}" for k in range(n)]
