"""Query rows straight into a numpy record array: the one way the board's caches read columns.

SQLAlchemy's per-row processing, or a Python transpose of the rows, would be most of the time of
reading a million votes; the driver's rows go into numpy's C conversion instead (NULL numbers
become NaN). On PostgreSQL the rows are packed by the database instead, one value per column,
so that nothing is built per row in Python: a number column as one bytea of 8-byte big-endian
values (`float8send`, `int8send`), a string column as one text joined by a separator, all
aggregated in one pass so that the columns stay aligned. A NULL float is packed as NaN, as the
plain read gives, and a NULL string as '' (every caller takes both as "none"). A NULL integer
(which no query here has) would shorten its column, and a string holding the separator would
lengthen its own: either is seen, and then the plain read is used, as it is when the packed
query fails. Every query read here is
ordered by its first column, an integer: packed rows are put in that order by a stable sort.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import psycopg
from numpy.typing import NDArray
from sqlalchemy import Connection

SEPARATOR = "\x1f"  # the ASCII unit separator, between the packed strings of a column


def fetch_records(conn: Connection, stmt: Any, dtype: np.dtype[Any]) -> NDArray[Any]:
    """The rows of a query ordered by its first column (its columns in `dtype`'s order) as one
    record array of `dtype`."""
    # Literal values: the queries' only parameters are vote ids and the winner labels.
    sql = str(stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    if conn.dialect.name == "postgresql":
        rows = _packed(conn, sql, dtype)
        if rows is not None:
            return rows
    cursor = conn.exec_driver_sql(sql).cursor
    assert cursor is not None
    return np.array(cursor.fetchall(), dtype=dtype)


def _packed(conn: Connection, sql: str, dtype: np.dtype[Any]) -> NDArray[Any] | None:
    """The rows by one packed value per column; None when a column did not unpack to one value
    per row."""
    names = list(dtype.names or ())
    kinds = [dtype[name].kind for name in names]
    aliases = ", ".join(f"c{k}" for k in range(len(names)))
    packed = ", ".join(_pack(f"q.c{k}", kind) for k, kind in enumerate(kinds))
    query = f"SELECT count(*), {packed} FROM ({sql}) AS q({aliases})"
    raw = conn.connection.driver_connection
    assert raw is not None
    try:
        # In a savepoint: a value the packing cannot cast, or a packed column past the server's
        # 1 GB limit on one value, fails only the packed read, not the caller's transaction.
        with raw.transaction(), raw.cursor(binary=True) as cursor:  # bytea as bytes, not hex
            row = cursor.execute(query).fetchone()
    except psycopg.Error:
        return None
    assert row is not None
    n = int(row[0])
    out = np.empty(n, dtype=dtype)
    if not n:
        return out
    for name, kind, value in zip(names, kinds, row[1:], strict=True):
        if kind == "O":
            strings = value.split(SEPARATOR)
            if len(strings) != n:
                return None
            out[name] = strings
        else:
            data = bytes(value or b"")
            if len(data) != 8 * n:
                return None
            out[name] = np.frombuffer(data, dtype=">f8" if kind == "f" else ">i8")
    first = out[names[0]]
    if not bool((first[1:] >= first[:-1]).all()):
        out = out[np.argsort(first, kind="stable")]
    return out


def _pack(column: str, kind: str) -> str:
    """The aggregate that packs a column: 8 big-endian bytes a value for a float (NULL: NaN) or
    an integer (a boolean by way of int4), separated text for a string (NULL: '')."""
    if kind == "O":
        return f"string_agg(COALESCE({column}::text, ''), chr(31))"
    if kind == "f":
        send = f"float8send(COALESCE({column}::float8, 'NaN'::float8))"
    else:
        send = f"int8send({column}::int4::int8)" if kind == "b" else f"int8send({column}::int8)"
    return f"string_agg({send}, ''::bytea)"
