"""PostgreSQL: a large import checks the battle tables' foreign keys once, at its end.

Each row COPY writes into battle and vote fires a trigger per foreign key that looks its parent
up (an endpoint, the battle): at a million records, more of the server's time than the rows and
their indexes together. The import makes every reference itself (the endpoints it read or made
in its transaction, the battles it wrote), so a large import (`import_indexes.large_import`)
drops those constraints inside its own transaction and adds them again, from the definitions the
database gave (`pg_get_constraintdef`), before it commits: adding one checks every row in one
join. DDL is transactional on PostgreSQL: a failed or rejected import restores them with its
rollback. The tables (and the endpoints they refer to) are locked until the import commits.

SQLite's import turns the checks off for its connection instead (`import_tuning`).
"""

from __future__ import annotations

from sqlalchemy import Connection

from arena.admin.import_indexes import TABLES

#: (table, constraint name, definition) of a dropped foreign key.
Dropped = list[tuple[str, str, str]]


def drop_foreign_keys(conn: Connection) -> Dropped:
    """Drop the foreign keys of the tables an import writes, in this transaction; what they
    were, to add them again with `restore_foreign_keys`."""
    rows = conn.exec_driver_sql(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE contype = 'f' AND conrelid = ANY(CAST(%s AS regclass[])) ORDER BY oid",
        (list(TABLES),),
    ).all()
    quote = conn.dialect.identifier_preparer.quote
    dropped: Dropped = []
    for table, name, definition in rows:
        conn.exec_driver_sql(f"ALTER TABLE {table} DROP CONSTRAINT {quote(name)}")
        dropped.append((str(table), str(name), str(definition)))
    return dropped


def restore_foreign_keys(conn: Connection, dropped: Dropped) -> None:
    """Add again (and so check every row against) the foreign keys `drop_foreign_keys` dropped."""
    quote = conn.dialect.identifier_preparer.quote
    for table, name, definition in dropped:
        conn.exec_driver_sql(f"ALTER TABLE {table} ADD CONSTRAINT {quote(name)} {definition}")
