"""Bulk inserts for imports: the driver's own fast path, inside the caller's transaction.

SQLAlchemy's executemany processes every parameter of every row in Python (dates to strings,
JSON to text, booleans), which cost more than the database's own work at a million rows. Here the
values are converted once per column kind and handed to the driver: `executemany` on SQLite,
`COPY … FROM STDIN` on PostgreSQL. Ids that later rows refer to are taken before inserting
(`reserve_ids`), so no row has to be read back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import JSON, Boolean, Connection, DateTime, Table, func, select, text

_encode_json = msgspec.json.Encoder().encode


def _sqlite_datetime(value: datetime | None) -> str | None:
    # The format SQLAlchemy writes and compares with, microseconds always present.
    return None if value is None else value.isoformat(" ", "microseconds")


def _json_text(value: Any) -> str:
    return _encode_json(value).decode()


def _converter(kind: Any, sqlite: bool) -> Callable[[Any], Any] | None:
    if isinstance(kind, JSON):
        return _json_text
    if sqlite and isinstance(kind, DateTime):
        return _sqlite_datetime
    if sqlite and isinstance(kind, Boolean):
        return lambda v: None if v is None else int(v)
    return None


def insert_rows(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows (dicts with the same keys, each a column of `table`) in the caller's
    transaction; the driver's fastest path on SQLite and on PostgreSQL."""
    if not rows:
        return
    names = list(rows[0])
    sqlite = conn.dialect.name == "sqlite"
    converters = [_converter(table.c[n].type, sqlite) for n in names]
    columns = []
    for name, convert in zip(names, converters, strict=True):
        column = [r[name] for r in rows]
        columns.append(column if convert is None else list(map(convert, column)))
    insert_tuples(conn, table, names, list(zip(*columns, strict=True)))


def driver_values(conn: Connection, table: Table, values: dict[str, Any]) -> tuple[Any, ...]:
    """Column values as `insert_tuples` takes them (what `insert_rows` would make of them)."""
    sqlite = conn.dialect.name == "sqlite"
    out = []
    for name, value in values.items():
        convert = _converter(table.c[name].type, sqlite)
        out.append(value if convert is None else convert(value))
    return tuple(out)


def insert_tuples(
    conn: Connection, table: Table, names: Sequence[str], values: Sequence[Sequence[Any]]
) -> None:
    """Insert rows given as tuples of driver values for the columns `names` (JSON as text; on
    SQLite, times as text and booleans as 0/1, which PostgreSQL's COPY reads as well)."""
    if not values:
        return
    sqlite = conn.dialect.name == "sqlite"
    quoted = ", ".join(conn.dialect.identifier_preparer.quote(n) for n in names)
    target = conn.dialect.identifier_preparer.format_table(table)
    cursor: Any = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        if sqlite:
            marks = ", ".join("?" * len(names))
            cursor.executemany(f"INSERT INTO {target} ({quoted}) VALUES ({marks})", values)
        else:
            with cursor.copy(f"COPY {target} ({quoted}) FROM STDIN") as copy:
                for v in values:
                    copy.write_row(v)
    finally:
        cursor.close()


def reserve_ids(conn: Connection, table: Table, n: int) -> list[int]:
    """`n` fresh values of a table's integer primary key `id`, for rows inserted next in this
    transaction. PostgreSQL: from its sequence (safe beside other writers). SQLite: after the
    largest id, which is safe once this transaction has written (SQLite has one writer)."""
    if n <= 0:
        return []
    if conn.dialect.name == "sqlite":
        last = conn.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()
        return list(range(int(last) + 1, int(last) + 1 + n))
    sequence = conn.execute(
        text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table.name}
    ).scalar_one()
    rows = conn.execute(
        text("SELECT nextval(CAST(:s AS regclass)) FROM generate_series(1, :n)"),
        {"s": sequence, "n": n},
    ).scalars()
    return [int(i) for i in rows]
