"""Counted anonymous votes as numpy columns, read from the database incrementally.

Ranking reads every counted vote; at a million votes that read dominates a refit. A worker keeps
the columns it has read and asks the database only for votes newer than the last one it holds.
`count(*)` and `sum(id)` of the counted votes tell it whether an older vote changed (an admin
excluded or re-included one): then it reads everything again. Only a copy of database rows lives
here; a fresh worker rebuilds it with one query.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Engine, func
from sqlalchemy import select as sa_select
from sqlmodel import col

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
                rows: list[Any] = list(conn.execute(newer.order_by(col(Vote.id))).all())
                held = sum(len(c["id"]) for c in self.chunks)
                new_sum = sum(int(r[0]) for r in rows)
                if held + len(rows) != total or self.id_sum + new_sum != id_sum:
                    # An older vote changed (excluded, included): read everything again.
                    self.max_id, self.id_sum, self.chunks, self._snapshot = 0, 0, [], None
                    everything = _columns().where(*COUNTED).order_by(col(Vote.id))
                    rows = list(conn.execute(everything).all())
                    new_sum = sum(int(r[0]) for r in rows)
                if tags != self.tags_version:
                    # Older votes were re-tagged (retag, the LLM tagger): re-read their bits only.
                    self._reread_bits(conn)
                    self.tags_version = tags
            if rows or self._snapshot is None:
                if rows:
                    self.chunks.append(self._encode(rows))
                    self.max_id = int(rows[-1][0])
                    self.id_sum += new_sum
                self._snapshot = self._join()
            return self._snapshot

    def _reread_bits(self, conn: Any) -> None:
        if not self.chunks:
            return
        self._snapshot = None
        self.chunks = [self._join_chunks()]
        held = self.chunks[0]
        query = sa_select(col(Vote.id), col(Vote.category_bits)).where(
            *COUNTED, col(Vote.id) <= self.max_id
        )
        fresh = dict(conn.execute(query).all())
        held["categories"] = np.fromiter(
            (int(fresh.get(int(i)) or 0) for i in held["id"]), np.int64, len(held["id"])
        )

    def _join_chunks(self) -> dict[str, NDArray[Any]]:
        if len(self.chunks) == 1:
            return self.chunks[0]
        return {k: np.concatenate([c[k] for c in self.chunks]) for k in self.chunks[0]}

    def _code(self, kind: str, value: str | None) -> int:
        if not value:
            return NONE
        table = self.codes[kind]
        code = table.get(value)
        if code is None:
            code = table[value] = len(table)
        return code

    def _encode(self, rows: list[Any]) -> dict[str, NDArray[Any]]:
        n = len(rows)
        style = np.full((n, 2, 4), np.nan)
        for i, r in enumerate(rows):
            if r[7] and len(r[7]) == 8:
                style[i] = np.asarray(r[7], dtype=np.float64).reshape(2, 4)
        return {
            "id": np.fromiter((r[0] for r in rows), np.int64, n),
            "a": np.fromiter((r[1] for r in rows), np.int64, n),
            "b": np.fromiter((r[2] for r in rows), np.int64, n),
            "outcome": np.fromiter((OUTCOME[r[3]] for r in rows), np.int8, n),
            "voter": np.fromiter((self._code("voter", r[4]) for r in rows), np.int64, n),
            "ip": np.fromiter((self._code("ip", r[5]) for r in rows), np.int64, n),
            "prompt": np.fromiter((self._code("prompt", r[6]) for r in rows), np.int64, n),
            "style": style,
            "categories": np.fromiter((int(r[8] or 0) for r in rows), np.int64, n),
            "vision": np.fromiter((r[9] == "vision" for r in rows), np.bool_, n),
        }

    def _join(self) -> Snapshot:
        if len(self.chunks) > 1:
            self.chunks = [{k: np.concatenate([c[k] for c in self.chunks]) for k in self.chunks[0]}]
        c = self.chunks[0] if self.chunks else self._encode([])
        votes = VoteColumns(c["a"], c["b"], c["outcome"], c["voter"], c["ip"], c["prompt"])
        return Snapshot(votes, c["style"], c["categories"], c["id"], c["vision"])


def _tags_version(conn: Any) -> int:
    value = conn.execute(sa_select(col(Counter.value)).where(col(Counter.name) == "tags")).first()
    return int(value[0]) if value else 0


def _columns() -> Any:
    return sa_select(
        col(Vote.id),
        col(Vote.model_a_id),
        col(Vote.model_b_id),
        col(Vote.winner),
        col(Vote.voter_id),
        col(Vote.client_ip),
        col(Vote.prompt_hash),
        col(Vote.style),
        col(Vote.category_bits),
        col(Vote.modality),
    )
