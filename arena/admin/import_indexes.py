"""SQLite: a large import builds the battle tables' secondary indexes once, at its end.

Inserting a million battles keeps a dozen indexes up to date row by row, each at a random place
(a voter id, a timestamp): about as much time as everything else the import does. An index built
from the finished table is a sort instead. So a large import (compared with the votes already
there) drops the non-unique indexes of the tables it writes, inside its own transaction, and
creates them again, from the very SQL that made them (`sqlite_master`), before it commits.
SQLite DDL is transactional: an import that fails or is rejected rolls the drop back with its
rows, and readers (WAL) see the old snapshot, indexes and all, until the commit. The unique
indexes stay: they are constraints, and the duplicate look-ups use the external id's.

Nothing on PostgreSQL, which keeps its indexes: what costs it most is the foreign keys'
checks (`import_foreign_keys`).
"""

from __future__ import annotations

from sqlalchemy import Connection

#: The tables an import writes.
TABLES = ("battle", "vote", "turn", "answer")
#: Fewer records than this never drop an index (and never fewer than the votes already there).
MIN_RECORDS = 50_000


def estimated_records(file_size: int, chars_read: int, records_read: int) -> int:
    """How many records a file of `file_size` characters holds, by its first chunk's lines."""
    if chars_read <= 0 or records_read <= 0:
        return 0
    return int(file_size * records_read / chars_read)


def large_import(conn: Connection, estimate: int) -> bool:
    """Whether an import of about `estimate` records is large: it brings at least as many votes
    as there are, and checking its rows at its end is cheaper than row by row."""
    if estimate < MIN_RECORDS:
        return False
    existing = int(conn.exec_driver_sql("SELECT count(*) FROM vote").scalar_one())
    return estimate >= existing


def worth_rebuilding(conn: Connection, estimate: int) -> bool:
    """Whether an import of about `estimate` records should build the indexes at its end."""
    return conn.dialect.name == "sqlite" and large_import(conn, estimate)


def drop_secondary(conn: Connection) -> list[str]:
    """Drop the non-unique indexes of the import's tables in this transaction; their SQL, to
    create them again with `recreate` before it commits."""
    dbapi = conn.connection.dbapi_connection
    if dbapi is not None and not getattr(dbapi, "in_transaction", True):
        # pysqlite opens a transaction only before a write, not before DDL: without one the
        # drop would commit at once and a failed import could not undo it.
        conn.exec_driver_sql("BEGIN")
    marks = ", ".join("?" * len(TABLES))
    rows = conn.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
        f"AND tbl_name IN ({marks}) ORDER BY rowid",
        TABLES,
    ).all()
    made = []
    for name, sql in rows:
        if sql.lstrip().upper().startswith("CREATE INDEX"):
            conn.exec_driver_sql(f'DROP INDEX "{name}"')
            made.append(str(sql))
    return made


def recreate(conn: Connection, made: list[str]) -> None:
    """Create again the indexes `drop_secondary` dropped, exactly as they were."""
    for sql in made:
        conn.exec_driver_sql(sql)
