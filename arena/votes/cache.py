"""Counted anonymous votes as numpy columns, read from the database incrementally.

Ranking reads every counted vote; at a million votes that read dominates a refit. A worker keeps
the columns it has read and asks the database only for votes newer than the last one it holds.
`count(*)` and `sum(id)` of the counted votes tell it whether an older vote changed (an admin
excluded or re-included one): then it reads everything again, as a fresh worker does, from the
vote blocks that still match and row by row for the rest (`votes/blocks.py`). A re-tag of older
votes (the `tags` counter) re-reads their category bits only. Only a copy of database rows lives
here. Every column is a plain number (category bits, the modality) or a string hygiene groups by,
read into numpy records in one C-level conversion and hashed by column, so nothing is decoded
per vote in Python. Style features are read only when a board with style control asks.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Connection, Engine, func
from sqlalchemy import select as sa_select
from sqlmodel import col

from arena.store.style_columns import STYLE_COLUMNS
from arena.store.tables import Counter, Vote
from arena.votes import blocks
from arena.votes.block_style import read_style
from arena.votes.blocks import COUNTED, RAW, ROW, STYLE, columns, hashed, style_query
from arena.votes.category_bits import BITS, bit
from arena.votes.hygiene import NONE, VoteColumns
from arena.votes.records import fetch_records
from arena.votes.speed import AnswerCache

CATEGORY_BIT = {c: bit(c) for c in BITS}
_NO_CODES: tuple[NDArray[np.uint64], NDArray[np.int64]] = (
    np.zeros(0, dtype=np.uint64),
    np.zeros(0, dtype=np.int64),
)
_BITS_DTYPE: np.dtype[Any] = np.dtype([("id", np.int64), ("bits", np.int64)])


@dataclass
class Snapshot:
    """The votes at one moment: the columns ranking needs."""

    votes: VoteColumns
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
    # Per string column: the hashes seen so far, sorted, and the code each was given.
    codes: dict[str, tuple[NDArray[np.uint64], NDArray[np.int64]]] = field(
        default_factory=lambda: {"voter": _NO_CODES, "ip": _NO_CODES, "prompt": _NO_CODES}
    )
    lock: threading.Lock = field(default_factory=threading.Lock)
    # The answers of voted battles, for the board's speed and cost figures (votes/speed.py).
    answers: AnswerCache = field(default_factory=AnswerCache)
    _snapshot: Snapshot | None = None
    # Style features by vote id, read only when a board with style control asks (`style`).
    _style_rows: NDArray[Any] = field(default_factory=lambda: np.zeros(0, STYLE))
    # The vote blocks the last cold read used, for their style features (`read_style`).
    _cold: blocks.ColdRead | None = None

    def snapshot(self, engine: Engine) -> Snapshot:
        """All counted anonymous votes, in vote order, as of now."""
        with self.lock:
            with engine.connect() as conn:
                # Read before the votes: a re-tag after this read shows at the next snapshot.
                tags = _tags_version(conn)
                # Holding nothing, the read below is everything: no older vote to check.
                cold = not self.chunks and self.max_id == 0
                if not cold:
                    counts: Any = conn.execute(
                        sa_select(func.count(), func.coalesce(func.sum(col(Vote.id)), 0)).where(
                            *COUNTED
                        )
                    ).one()
                    total, id_sum = int(counts[0]), int(counts[1])
                    newer = columns().where(*COUNTED, col(Vote.id) > self.max_id)
                    rows = hashed(_fetch(conn, newer.order_by(col(Vote.id)), RAW))
                    held = sum(len(c["id"]) for c in self.chunks)
                    new_sum = int(rows["id"].sum())
                    if held + len(rows) != total or self.id_sum + new_sum != id_sum:
                        # An older vote changed (excluded, included): read everything again.
                        self.max_id, self.id_sum, self.chunks, self._snapshot = 0, 0, [], None
                        cold = True
                if cold:
                    self._cold = blocks.read_cold(conn, tags)
                    rows = self._cold.rows
                    new_sum = int(rows["id"].sum())
                    # The tags read above are the ones the rows carry.
                    self.tags_version = tags
                if tags != self.tags_version:
                    # Older votes were re-tagged (retag, the LLM tagger): re-read their bits only.
                    self._reread_bits(conn)
                    self.tags_version = tags
            if len(rows) or self._snapshot is None:
                if len(rows):
                    self.chunks.append(self._encode(rows))
                    self.max_id = int(rows["id"][-1])
                    self.id_sum += new_sum
                self._snapshot = self._join()
            if cold and self._cold is not None:
                self._cold.rows = rows[:0]  # held in the chunks now
                blocks.write_blocks(engine, self._cold)
            return self._snapshot

    def style(self, engine: Engine, ids: NDArray[np.int64]) -> NDArray[np.float64]:
        """The style features (n, 2, 4) of these votes, NaN where a vote has none.

        Read on first use only (a board without style control never reads them), then only for
        votes newer than those held: a vote's style never changes once stored. Every vote's
        (counted or not), so that a vote counted again later is found without a re-read."""
        with self.lock:
            at = _positions(self._style_rows["id"], ids)
            if at is None and not len(self._style_rows) and self._cold and self._cold.used:
                self._style_rows = read_style(engine, self._cold)
                at = _positions(self._style_rows["id"], ids)
            if at is None:
                held = self._style_rows["id"]
                for after in (int(held[-1]), 0) if len(held) else (0,):
                    query = style_query().where(col(Vote.id) > after).order_by(col(Vote.id))
                    with engine.connect() as conn:
                        rows = _fetch(conn, query, STYLE)
                    self._style_rows = np.concatenate([self._style_rows, rows]) if after else rows
                    at = _positions(self._style_rows["id"], ids)
                    if at is not None:
                        break
                else:
                    raise RuntimeError("votes being ranked are missing from the vote table")
            picked = self._style_rows[at]
            style = np.stack([picked[c] for c in STYLE_COLUMNS], axis=1)
            return style.reshape(len(ids), 2, 4)

    def _reread_bits(self, conn: Connection) -> None:
        if not self.chunks:
            return
        self._snapshot = None
        self.chunks = [self._join_chunks()]
        held = self.chunks[0]
        query = sa_select(col(Vote.id), func.coalesce(col(Vote.category_bits), 0)).where(
            *COUNTED, col(Vote.id) <= self.max_id
        )
        fresh = _fetch(conn, query.order_by(col(Vote.id)), _BITS_DTYPE)
        if not len(fresh):
            return
        ids, bits = fresh["id"], fresh["bits"]
        at = np.clip(np.searchsorted(ids, held["id"]), 0, len(ids) - 1)
        held["categories"] = np.where(ids[at] == held["id"], bits[at], 0)

    def _join_chunks(self) -> dict[str, NDArray[Any]]:
        if len(self.chunks) == 1:
            return self.chunks[0]
        return {k: np.concatenate([c[k] for c in self.chunks]) for k in self.chunks[0]}

    def _code(self, kind: str, hashes: NDArray[np.uint64]) -> NDArray[np.int64]:
        """Small-integer codes of string hashes, the same for a string in every chunk (NONE:
        none). Distinct strings are numbered in order of first appearance, by sorting."""
        if not hashes.any():  # none at all (imported battles carry no IP or prompt hash)
            return np.full(len(hashes), NONE, dtype=np.int64)
        known, known_codes = self.codes[kind]
        uniq, first, inverse = np.unique(hashes, return_index=True, return_inverse=True)
        at = np.minimum(np.searchsorted(known, uniq), max(len(known) - 1, 0))
        found = known[at] == uniq if len(known) else np.zeros(len(uniq), dtype=bool)
        codes = np.full(len(uniq), NONE, dtype=np.int64)
        codes[found] = known_codes[at[found]]
        new = ~found & (uniq != 0)
        order = np.argsort(first[new], kind="stable")
        fresh = np.empty(len(order), dtype=np.int64)
        fresh[order] = len(known) + np.arange(len(order))
        codes[new] = fresh
        if len(fresh):
            merged = np.concatenate([known, uniq[new]])
            by_hash = np.argsort(merged, kind="stable")
            self.codes[kind] = (merged[by_hash], np.concatenate([known_codes, fresh])[by_hash])
        return codes[inverse.reshape(-1)]

    def _encode(self, rows: NDArray[Any]) -> dict[str, NDArray[Any]]:
        return {
            "id": rows["id"],
            "a": rows["a"],
            "b": rows["b"],
            "outcome": rows["outcome"],
            "voter": self._code("voter", rows["voter"]),
            "ip": self._code("ip", rows["ip"]),
            "prompt": self._code("prompt", rows["prompt"]),
            "categories": rows["categories"],
            "vision": rows["vision"],
        }

    def _join(self) -> Snapshot:
        self.chunks = [self._join_chunks()] if self.chunks else []
        c = self.chunks[0] if self.chunks else self._encode(np.zeros(0, ROW))
        votes = VoteColumns(c["a"], c["b"], c["outcome"], c["voter"], c["ip"], c["prompt"])
        return Snapshot(votes, c["categories"], c["id"], c["vision"])


def _tags_version(conn: Connection) -> int:
    value = conn.execute(sa_select(col(Counter.value)).where(col(Counter.name) == "tags")).first()
    return int(value[0]) if value else 0


def _fetch(conn: Connection, stmt: Any, dtype: np.dtype[Any]) -> NDArray[Any]:
    """The rows of a query as one numpy record array of `dtype` (votes/records.py)."""
    return fetch_records(conn, stmt, dtype)


def _positions(held: NDArray[np.int64], ids: NDArray[np.int64]) -> NDArray[np.intp] | None:
    """Where each of `ids` is in the sorted `held`, or None when any of them is not there."""
    if not len(ids):
        return np.zeros(0, dtype=np.intp)
    if not len(held):
        return None
    at = np.minimum(np.searchsorted(held, ids), len(held) - 1)
    return at if bool((held[at] == ids).all()) else None
