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
from operator import itemgetter
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
            marks, values = _sqlite_parameters(values)
            cursor.executemany(f"INSERT INTO {target} ({quoted}) VALUES ({marks})", values)
        else:
            with cursor.copy(f"COPY {target} ({quoted}) FROM STDIN") as copy:
                for v in values:
                    copy.write_row(v)
    finally:
        cursor.close()


def _literal(value: Any) -> str | None:
    """`value` as an SQLite literal that stores the same as binding it, or None: NULL, a whole
    number, or ASCII text without NUL (nothing to encode, no quoting but doubled quotes)."""
    if value is None:
        return "NULL"
    kind = value.__class__
    if kind is int or kind is bool:
        return str(int(value))
    if kind is str and value.isascii() and "\x00" not in value:
        text: str = value
        return "'" + text.replace("'", "''") + "'"
    return None


def _sqlite_parameters(
    values: Sequence[Sequence[Any]],
) -> tuple[str, Sequence[Sequence[Any]]]:
    """The VALUES list of an insert and the values left to bind: a column holding one value in
    every row (the same NULL, flag or word) is written into the statement once instead. Binding
    a parameter cost the driver more than SQLite spent storing it: at a million imported votes,
    with half their columns the same in every row, half of the insert's time."""
    first, last, n = values[0], values[-1], len(values)
    marks: list[str] = []
    keep: list[int] = []
    for i, value in enumerate(first):
        literal = _literal(value) if last[i] == value else None
        if literal is not None:
            column = list(map(itemgetter(i), values))
            # The same value, and of the same type (1 and 1.0 are equal, not stored alike).
            if column.count(value) == n and len(set(map(type, column))) == 1:
                marks.append(literal)
                continue
        marks.append("?")
        keep.append(i)
    if len(keep) == len(first):
        return ", ".join(marks), values
    if not keep:
        return ", ".join(marks), [()] * n
    pick = itemgetter(*keep)
    rows = list(map(pick, values)) if len(keep) > 1 else [(pick(v),) for v in values]
    return ", ".join(marks), rows


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
