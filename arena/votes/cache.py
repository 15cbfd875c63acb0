"""Counted anonymous votes as numpy columns, read from the database incrementally.

Ranking reads every counted vote; at a million votes that read dominates a refit. A worker keeps
the columns it has read and asks the database only for votes newer than the last one it holds.
`count(*)` and `sum(id)` of the counted votes tell it whether an older vote changed (an admin
excluded or re-included one): then it reads everything again. A re-tag of older votes (the `tags`
counter) re-reads their category bits only. Only a copy of database rows lives here; a fresh
worker rebuilds it with one query. Every column is a plain number (style features, category bits,
the modality), so nothing is decoded per vote.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Connection, Engine, case, func
from sqlalchemy import select as sa_select
from sqlmodel import col

from arena.store.style_columns import STYLE_COLUMNS
from arena.store.tables import Counter, Vote
from arena.votes.category_bits import BITS, bit
from arena.votes.hygiene import NONE, VoteColumns
from arena.votes.speed import AnswerCache

OUTCOME = {"model_a": 0, "model_b": 1, "tie": 2, "tie (bothbad)": 3}
CATEGORY_BIT = {c: bit(c) for c in BITS}
COUNTED = (col(Vote.counted), col(Vote.anony))


@dataclass
class Snapshot:
    """The votes at one moment: the columns ranking needs."""

    votes: VoteColumns
    style: NDArray[np.float64]  # (n, 2, 4); NaN where a vote has no style features
    categories: NDArray[np.int64]  # Vote.category_bits (arena/votes/category_bits.py)
    ids: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    vision: NDArray[np.bool_] | None = None  # the battle carried images (its own leaderboard)


@dataclass
class VoteCache:
    """The counted votes this worker has read so far."""

    max_id: int = 0
    id_sum: int = 0
    tags_version: int = 0
    chunks: list[dict[str, NDArray[Any]]] = field(default_factory=list)
    codes: dict[str, dict[str, int]] = field(
        default_factory=lambda: {"voter": {}, "ip": {}, "prompt": {}}
    )
    lock: threading.Lock = field(default_factory=threading.Lock)
    # The answers of voted battles, for the board's speed and cost figures (votes/speed.py).
    answers: AnswerCache = field(default_factory=AnswerCache)
    _snapshot: Snapshot | None = None

    def snapshot(self, engine: Engine) -> Snapshot:
        """All counted anonymous votes, in vote order, as of now."""
        with self.lock:
            with engine.connect() as conn:
                # Read before the votes: a re-tag after this read shows at the next snapshot.
                tags = _tags_version(conn)
                counts: Any = conn.execute(
                    sa_select(func.count(), func.coalesce(func.sum(col(Vote.id)), 0)).where(
                        *COUNTED
                    )
                ).one()
                total, id_sum = int(counts[0]), int(counts[1])
                newer = _columns().where(*COUNTED, col(Vote.id) > self.max_id)
                rows = _fetch(conn, newer.order_by(col(Vote.id)))
                held = sum(len(c["id"]) for c in self.chunks)
                new_sum = int(rows[0].sum()) if rows else 0
                if held + _length(rows) != total or self.id_sum + new_sum != id_sum:
                    # An older vote changed (excluded, included): read everything again.
                    self.max_id, self.id_sum, self.chunks, self._snapshot = 0, 0, [], None
                    everything = _columns().where(*COUNTED).order_by(col(Vote.id))
                    rows = _fetch(conn, everything)
                    new_sum = int(rows[0].sum()) if rows else 0
                if tags != self.tags_version:
                    # Older votes were re-tagged (retag, the LLM tagger): re-read their bits only.
                    self._reread_bits(conn)
                    self.tags_version = tags
            if _length(rows) or self._snapshot is None:
                if _length(rows):
                    self.chunks.append(self._encode(rows))
                    self.max_id = int(rows[0][-1])
                    self.id_sum += new_sum
                self._snapshot = self._join()
            return self._snapshot

    def _reread_bits(self, conn: Connection) -> None:
        if not self.chunks:
            return
        self._snapshot = None
        self.chunks = [self._join_chunks()]
        held = self.chunks[0]
        query = sa_select(col(Vote.id), col(Vote.category_bits)).where(
            *COUNTED, col(Vote.id) <= self.max_id
        )
        fresh = _fetch(conn, query.order_by(col(Vote.id)))
        if not fresh:
            return
        ids, bits = fresh[0], np.asarray(fresh[1], dtype=np.int64)
        at = np.clip(np.searchsorted(ids, held["id"]), 0, len(ids) - 1)
        held["categories"] = np.where(ids[at] == held["id"], bits[at], 0)

    def _join_chunks(self) -> dict[str, NDArray[Any]]:
        if len(self.chunks) == 1:
            return self.chunks[0]
        return {k: np.concatenate([c[k] for c in self.chunks]) for k in self.chunks[0]}

    def _code(self, kind: str, values: Any, n: int) -> NDArray[np.int64]:
        """Small-integer codes of strings, the same for a string in every chunk (NONE: none)."""
        table = self.codes[kind]
        setdefault = table.setdefault
        return np.fromiter((setdefault(v, len(table)) if v else NONE for v in values), np.int64, n)

    def _encode(self, rows: list[Any]) -> dict[str, NDArray[Any]]:
        n = _length(rows)
        if not n:
            rows = [()] * _WIDTH
        # Floats with NULL come out as NaN: a vote without style features.
        style = np.array(rows[9:], dtype=np.float64).reshape(8, n).T.reshape(n, 2, 4)
        return {
            "id": np.asarray(rows[0], dtype=np.int64),
            "a": np.asarray(rows[1], dtype=np.int64),
            "b": np.asarray(rows[2], dtype=np.int64),
            "outcome": np.asarray(rows[3], dtype=np.int8),
            "voter": self._code("voter", rows[4], n),
            "ip": self._code("ip", rows[5], n),
            "prompt": self._code("prompt", rows[6], n),
            "categories": np.asarray(rows[7], dtype=np.int64),
            "vision": np.asarray(rows[8], dtype=np.bool_),
            "style": style,
        }

    def _join(self) -> Snapshot:
        self.chunks = [self._join_chunks()] if self.chunks else []
        c = self.chunks[0] if self.chunks else self._encode([])
        votes = VoteColumns(c["a"], c["b"], c["outcome"], c["voter"], c["ip"], c["prompt"])
        return Snapshot(votes, c["style"], c["categories"], c["id"], c["vision"])


_WIDTH = 17  # the columns of `_columns()`


def _tags_version(conn: Connection) -> int:
    value = conn.execute(sa_select(col(Counter.value)).where(col(Counter.name) == "tags")).first()
    return int(value[0]) if value else 0


def _columns() -> Any:
    """Everything ranking reads of a vote, as numbers where it can be (the winner as its code,
    -1 for a label that is none of the four; the modality as 1 for vision), and the three strings
    hygiene groups by."""
    return sa_select(
        col(Vote.id),
        col(Vote.model_a_id),
        col(Vote.model_b_id),
        case(OUTCOME, value=col(Vote.winner), else_=-1),
        col(Vote.voter_id),
        col(Vote.client_ip),
        col(Vote.prompt_hash),
        func.coalesce(col(Vote.category_bits), 0),
        case((col(Vote.modality) == "vision", 1), else_=0),
        *(getattr(Vote, name) for name in STYLE_COLUMNS),
    )


def _fetch(conn: Connection, stmt: Any) -> list[Any]:
    """The rows of a query as columns (one tuple per column); [] when there are none.

    Straight from the driver's cursor: the values are plain ints, floats and strings already, and
    SQLAlchemy's per-row processing would be most of the time of reading a million votes."""
    # Literal values: the query's only parameters are vote ids and the winner labels.
    sql = str(stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    cursor = conn.exec_driver_sql(sql).cursor
    assert cursor is not None
    rows = cursor.fetchall()
    if not rows:
        return []
    columns: list[Any] = list(zip(*rows, strict=True))
    columns[0] = np.asarray(columns[0], dtype=np.int64)
    return columns


def _length(rows: list[Any]) -> int:
    return len(rows[0]) if rows else 0
