"""Vote blocks: the counted votes of each fixed vote-id range packed into one stored value.

A worker that holds nothing would read a million vote rows, one Python row each: that read alone
is longer than a whole refit may take. Instead it reads the `voteblock` rows, one packed value
per 65,536 vote ids, and checks them against the votes with one aggregate query: a block is used
while its fingerprint, the count and sum of the ids of the counted votes in its range and the
`tags` counter it was built at, still matches. Any change to a vote that ranking sees moves the
fingerprint: an admin excluding or counting a vote again, a deleted vote, a vote committed late
into an old range (PostgreSQL numbers votes before they commit), a re-tag (which bumps the
counter). The fingerprint counts every counted vote, anonymous or not: `anony` is the battle's
and never changes once a vote is stored, so the cheaper count (a covering index on `counted`)
moves exactly when the anonymous ones do. Ranges whose block is missing or stale, and the tail
past the last block, are read row by row; the reader then writes the blocks of the full ranges
it read that are sealed (far below the newest vote id), best-effort: another worker writing the
same block at once only replaces one valid block with another.

Strings hygiene groups by (voter, IP, prompt) are stored as 64-bit hashes (`string_hash.py`);
the eight style features come in a second value of the same rows, read only for style control.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Connection, Engine, and_, case, func, or_, text
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import col

from arena.store.engine import begin
from arena.store.style_columns import STYLE_COLUMNS
from arena.store.tables import Vote, VoteBlock, utcnow
from arena.votes.records import fetch_records
from arena.votes.string_hash import hash_strings

log = logging.getLogger("arena.votes.blocks")

BLOCK = 65_536  # vote ids per block: block k holds ids k*BLOCK+1 .. (k+1)*BLOCK
LAYOUT = 1  # the packed format below; a block of another layout or size is ignored
# A range is written as a block only when the newest vote id is this far past its end, so that
# votes still committing rarely land in it (the fingerprint catches them when they do).
SEAL_MARGIN = 4_096
OUTCOME = {"model_a": 0, "model_b": 1, "tie": 2, "tie (bothbad)": 3}
COUNTED = (col(Vote.counted), col(Vote.anony))

#: A vote as ranking holds it, and as a block packs it (fixed little-endian layout).
ROW: np.dtype[Any] = np.dtype(
    [
        ("id", "<i8"),
        ("a", "<i8"),
        ("b", "<i8"),
        ("outcome", "i1"),
        ("categories", "<i8"),
        ("vision", "?"),
        ("voter", "<u8"),
        ("ip", "<u8"),
        ("prompt", "<u8"),
    ]
)
#: `columns()` as read from the database: the three strings as Python objects.
RAW: np.dtype[Any] = np.dtype(
    [(n, object if n in ("voter", "ip", "prompt") else ROW[n]) for n in ROW.names or ()]
)
_COLD: np.dtype[Any] = np.dtype([*((n, RAW[n]) for n in RAW.names or ()), ("anony", np.bool_)])
STYLE: np.dtype[Any] = np.dtype([("id", np.int64), *((c, np.float64) for c in STYLE_COLUMNS)])


def columns(*extra: Any) -> Any:
    """Everything ranking reads of a vote but its style, as numbers where it can be (the winner
    as its code, -1 for a label that is none of the four; the modality as 1 for vision), and
    the three strings hygiene groups by."""
    return sa_select(
        col(Vote.id),
        col(Vote.model_a_id),
        col(Vote.model_b_id),
        case(OUTCOME, value=col(Vote.winner), else_=-1),
        func.coalesce(col(Vote.category_bits), 0),
        case((col(Vote.modality) == "vision", 1), else_=0),
        col(Vote.voter_id),
        col(Vote.client_ip),
        col(Vote.prompt_hash),
        *extra,
    )


def style_query() -> Any:
    """The style features of every vote, by id."""
    return sa_select(col(Vote.id), *(getattr(Vote, name) for name in STYLE_COLUMNS))


def hashed(raw: NDArray[Any]) -> NDArray[Any]:
    """Rows of `RAW` (or wider) as `ROW`: the strings become their hashes."""
    out = np.empty(len(raw), dtype=ROW)
    for name in ROW.names or ():
        out[name] = hash_strings(raw[name]) if RAW[name].kind == "O" else raw[name]
    return out


@dataclass
class ColdRead:
    """The counted anonymous votes read by a worker that held nothing, and what it can store."""

    rows: NDArray[Any]  # ROW, in id order
    used: dict[int, NDArray[np.int64]]  # block -> the ids it gave (its style rows follow them)
    fingerprints: dict[int, tuple[int, int]] = field(default_factory=dict)
    # What to pack into blocks afterwards: the counted votes read row by row, and which ranges.
    counted: NDArray[Any] = field(default_factory=lambda: np.zeros(0, _COLD))
    anonymous: NDArray[Any] = field(default_factory=lambda: np.zeros(0, ROW))
    sealed: list[int] = field(default_factory=list)
    tags: int = 0


def read_cold(conn: Connection, tags: int) -> ColdRead:
    """Every counted anonymous vote: from the blocks that still match, the rest row by row."""
    newest = int(conn.execute(sa_select(func.max(col(Vote.id)))).scalar() or 0)
    stored = blobs(
        conn,
        "SELECT block, votes, id_sum, tags_version, data FROM voteblock "
        f"WHERE size = {BLOCK} AND layout = {LAYOUT} ORDER BY block",
    )
    now = fingerprints(conn, [int(r[0]) for r in stored])
    good = {
        int(k): bytes(data)
        for k, votes, id_sum, built_tags, data in stored
        if now.get(int(k), (0, 0)) == (int(votes), int(id_sum)) and int(built_tags) == tags
    }
    where = in_holes(sorted(good))
    query = columns(col(Vote.anony)).where(col(Vote.counted), where).order_by(col(Vote.id))
    counted = fetch_records(conn, query, _COLD)
    anonymous = hashed(counted[counted["anony"]])
    pieces = [np.frombuffer(data, dtype=ROW) for data in good.values()]
    rows = np.concatenate([*pieces, anonymous]) if pieces else anonymous
    if len(rows) > 1 and not bool((rows["id"][1:] > rows["id"][:-1]).all()):
        rows = rows[np.argsort(rows["id"], kind="stable")]
    sealed = [
        k
        for k in range(newest // BLOCK)
        if k not in good and (k + 1) * BLOCK + SEAL_MARGIN <= newest
    ]
    used = {k: piece["id"].copy() for k, piece in zip(good, pieces, strict=True)}
    return ColdRead(rows, used, now, counted, anonymous, sealed, tags)


def fingerprints(conn: Connection, blocks: list[int]) -> dict[int, tuple[int, int]]:
    """Count and sum of the ids of the counted votes (anonymous or not) in each block's range.

    One statement of one range aggregate per block: each is a range scan of the index on
    `counted`, where one GROUP BY over every vote would sort them all."""
    out: dict[int, tuple[int, int]] = {}
    # SQLite allows at most 500 SELECTs in one compound statement (32M votes' worth).
    for start in range(0, len(blocks), 400):
        parts = " UNION ALL ".join(
            f"SELECT {k}, count(*), coalesce(sum(id), 0) FROM vote WHERE counted = {_true(conn)}"
            f" AND id > {k * BLOCK} AND id <= {(k + 1) * BLOCK}"
            for k in blocks[start : start + 400]
        )
        out.update((int(k), (int(n), int(s))) for k, n, s in conn.execute(text(parts)))
    return out


def blobs(conn: Connection, sql: str) -> list[Any]:
    """The rows of a query of vote blocks (no parameters), their packed values as bytes.

    On PostgreSQL by a binary cursor: bytea in the text protocol would travel as hex, twice the
    bytes, and be decoded again."""
    if conn.dialect.name == "postgresql":
        raw = conn.connection.driver_connection
        assert raw is not None
        with raw.cursor(binary=True) as cursor:
            return list(cursor.execute(sql).fetchall())
    return list(conn.exec_driver_sql(sql).fetchall())


def _true(conn: Connection) -> str:
    return "true" if conn.dialect.name == "postgresql" else "1"


def in_holes(good: list[int]) -> Any:
    """A condition on the vote id: outside the ranges of these blocks (sorted)."""
    vote_id = col(Vote.id)
    holes: list[Any] = []
    after = 0
    for k in good:
        if k * BLOCK > after:
            holes.append(and_(vote_id > after, vote_id <= k * BLOCK))
        after = (k + 1) * BLOCK
    holes.append(vote_id > after)
    return or_(*holes) if len(holes) > 1 else holes[0]


def write_blocks(engine: Engine, read: ColdRead) -> int:
    """Store the sealed ranges a cold read read row by row as blocks; how many it wrote.

    Their style features follow when a board with style control first reads them
    (`votes/block_style.py`), so that a board without reads no style at all. Best-effort and
    one short transaction a block: a failure is logged, never raised."""
    written = 0
    if not read.sealed:
        return written
    try:
        for k in read.sealed:
            lo, hi = k * BLOCK, (k + 1) * BLOCK
            counted = _within(read.counted, lo, hi)
            rows = _within(read.anonymous, lo, hi)
            _store(engine, k, counted, rows, read.tags)
            # Now a block like those read: its style comes from it, or is added to it.
            read.used[k] = rows["id"].copy()
            read.fingerprints[k] = (len(counted), int(counted["id"].sum()))
            written += 1
    except SQLAlchemyError:
        log.warning("vote blocks not stored; the next cold read builds them", exc_info=True)
    finally:  # only once, and what it held is not needed any more
        read.sealed, read.counted, read.anonymous = [], read.counted[:0], read.anonymous[:0]
    return written


def _within(rows: NDArray[Any], lo: int, hi: int) -> NDArray[Any]:
    ids = rows["id"]
    return rows[np.searchsorted(ids, lo, side="right") : np.searchsorted(ids, hi, side="right")]


def _store(
    engine: Engine,
    k: int,
    counted: NDArray[Any],
    rows: NDArray[Any],
    tags: int,
) -> None:
    with begin(engine, durable=False) as conn:
        insert = sqlite_insert if conn.dialect.name == "sqlite" else postgresql_insert
        stmt = insert(VoteBlock).values(
            block=k,
            size=BLOCK,
            layout=LAYOUT,
            votes=len(counted),
            id_sum=int(counted["id"].sum()),
            tags_version=tags,
            data=rows.astype(ROW, copy=False).tobytes(),
            style=b"",  # not yet (votes/block_style.py)
            built_at=utcnow(),
        )
        new = stmt.excluded
        names = ("size", "layout", "votes", "id_sum", "tags_version", "data", "style", "built_at")
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=[col(VoteBlock.block)], set_={n: getattr(new, n) for n in names}
            )
        )
